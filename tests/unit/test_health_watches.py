"""The health service's count of Watch streams by connection."""

from __future__ import annotations

from findsvc.entrypoints.health_service import StreamsPerConnection


class TestStreamsPerConnection:
    def test_a_connection_is_refused_past_its_limit_and_another_is_not(self) -> None:
        streams = StreamsPerConnection(limit=2)
        assert [streams.admit("ipv4:10.0.0.1:40000") for _ in range(3)] == [True, True, False]
        assert streams.admit("ipv4:10.0.0.1:40001")

    def test_a_stream_that_ends_makes_room_on_its_connection(self) -> None:
        streams = StreamsPerConnection(limit=1)
        assert streams.admit("ipv4:10.0.0.1:40000")
        streams.release("ipv4:10.0.0.1:40000")
        assert streams.admit("ipv4:10.0.0.1:40000")

    def test_a_connection_with_no_open_stream_is_forgotten(self) -> None:
        streams = StreamsPerConnection(limit=4)
        for port in range(100):
            streams.admit(f"ipv4:10.0.0.1:{port}")
            streams.release(f"ipv4:10.0.0.1:{port}")
        assert streams.connections() == 0
