"""Whatever one client does with streams, names, pings or a flood, probes and FindUser answer."""

from __future__ import annotations

import secrets
import socket
import struct
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from devkit.server import ServerProcess, StartServer
from findsvc.entrypoints.health_service import WATCHES_PER_CONNECTION
from tests.support.calls import (
    FIND_SERVICE,
    KRISHNA,
    SERVICE_UNKNOWN,
    SERVING,
    answers_within_a_second,
    find,
    health_status,
)
from tests.support.load import Load, idle_watches, rss_kib
from tests.support.metrics import metrics_port, scrape, value


class TestIdleWatchStreams:
    def test_a_watch_for_an_unknown_name_answers_service_unknown(
        self, server: ServerProcess
    ) -> None:
        with server.channel() as channel, idle_watches(channel, ["no-such-service"]) as firsts:
            assert firsts == [SERVICE_UNKNOWN]

    def test_probes_and_find_user_answer_past_hundreds_of_idle_watches(
        self, server: ServerProcess
    ) -> None:
        names = [FIND_SERVICE, f"made-up-{secrets.token_hex(4)}"] * 100
        with server.channel() as channel:
            started = time.monotonic()
            with idle_watches(channel, names) as firsts:
                # One connection gets WATCHES_PER_CONNECTION streams; the rest are refused at
                # once, not queued.
                assert time.monotonic() - started < 10
                admitted = [first for first in firsts if isinstance(first, int)]
                refused = firsts.count(grpc.StatusCode.RESOURCE_EXHAUSTED)
                assert len(admitted) == WATCHES_PER_CONNECTION
                assert refused == len(names) - len(admitted)
                # Which names get the connection's few streams is a race: either answers.
                assert set(admitted) <= {SERVING, SERVICE_UNKNOWN}
                answers_within_a_second(channel)


def reflection_request() -> reflection_pb2.ServerReflectionRequest:
    return reflection_pb2.ServerReflectionRequest(list_services="")


class TestIdleReflectionStreams:
    def test_find_user_answers_past_more_idle_reflection_streams_than_workers(
        self, server: ServerProcess
    ) -> None:
        idle = threading.Event()

        def one_request_then_wait() -> Iterator[reflection_pb2.ServerReflectionRequest]:
            yield reflection_request()
            idle.wait()

        with server.channel() as channel:
            stub = reflection_pb2_grpc.ServerReflectionStub(channel)
            calls = [
                stub.ServerReflectionInfo(one_request_then_wait(), timeout=20) for _ in range(16)
            ]
            try:
                firsts: list[object] = []
                for call in calls:
                    try:
                        firsts.append(bool(next(call).list_services_response.service))
                    except grpc.RpcError as error:
                        firsts.append(error.code())
                # 4 admitted (the default cap), each on a thread of its own; 12 refused.
                assert firsts.count(True) == 4
                assert firsts.count(grpc.StatusCode.RESOURCE_EXHAUSTED) == 12
                answers_within_a_second(channel)
            finally:
                idle.set()
                for call in calls:
                    call.cancel()


class TestProbesDuringAFindUserFlood:
    def test_no_liveness_check_fails_while_find_user_is_shed(
        self, users_db_url: str, start_server: StartServer
    ) -> None:
        server = start_server(
            {
                "FINDSVC_DB_URL": users_db_url,
                "FINDSVC_WORKERS": "1",
                "FINDSVC_MAX_CONCURRENCY": "2",
            }
        )
        failed_probes = 0
        with (
            Load(server.target, [KRISHNA], callers=16) as flood,
            server.channel() as channel,
        ):
            for _ in range(30):
                try:
                    health_status(channel, "liveness", timeout_s=1)
                except grpc.RpcError:
                    failed_probes += 1
                time.sleep(0.1)
        assert flood.codes()[grpc.StatusCode.RESOURCE_EXHAUSTED] > 0  # it was shed
        assert flood.codes()[grpc.StatusCode.OK] > 0
        assert failed_probes == 0


def metrics_lines(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return len(response.read().splitlines())


def call_unknown_methods(channel: grpc.Channel, count: int) -> set[grpc.StatusCode]:
    codes = set()
    for _ in range(count):
        method = f"/{FIND_SERVICE}/MadeUp{secrets.token_hex(6)}"
        try:
            channel.unary_unary(method)(b"", timeout=5)
        except grpc.RpcError as error:
            codes.add(error.code())
    return codes


# A leak of a metric series, a cached wrapper or a log line per name costs tens of kilobytes
# per name: 3,000 names would add tens of megabytes. Allocator and gRPC buffers wobble by a
# few megabytes at most on a warmed-up server.
RSS_MARGIN_KIB = 6 * 1024


class TestUnknownMethods:
    @pytest.mark.parametrize("with_auth", [True, False], ids=["auth on", "auth off"])
    def test_made_up_method_names_grow_neither_metrics_nor_memory(
        self, users_db_url: str, tmp_path: Path, with_auth: bool, start_server: StartServer
    ) -> None:
        env = {"FINDSVC_DB_URL": users_db_url, "FINDSVC_ACCESS_LOG": "all"}
        if with_auth:
            tokens = tmp_path / "tokens"
            tokens.write_text(secrets.token_urlsafe(24) + "\n")
            env["FINDSVC_AUTH_TOKENS_FILE"] = str(tokens)
        server = start_server(env)
        port = metrics_port(server)
        with server.channel() as channel:
            # Unknown, not UNAUTHENTICATED: refused before auth.
            assert call_unknown_methods(channel, 1000) == {grpc.StatusCode.UNIMPLEMENTED}
            lines, rss = metrics_lines(port), rss_kib(server.process.pid)
            call_unknown_methods(channel, 3000)
            assert metrics_lines(port) == lines
            assert rss_kib(server.process.pid) - rss < RSS_MARGIN_KIB
            unknown = value(
                scrape(port),
                "grpc_server_handled_total",
                grpc_type="unknown",
                grpc_service="unknown",
                grpc_method="unknown",
                grpc_code="UNIMPLEMENTED",
            )
            assert unknown == 4000
        assert "MadeUp" not in server.logs


def frame(kind: int, flags: int = 0, payload: bytes = b"") -> bytes:
    """An HTTP/2 frame on stream 0."""
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + b"\0\0\0\0" + payload


SETTINGS, PING, GOAWAY = 0x4, 0x6, 0x7
ENHANCE_YOUR_CALM = 0xB


def read_frame(sock: socket.socket) -> tuple[int, int, bytes]:
    header = read_exactly(sock, 9)
    length = int.from_bytes(header[:3], "big")
    return header[3], header[4], read_exactly(sock, length)


def read_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("closed before a GOAWAY")
        data += chunk
    return data


class TestPingFlood:
    def test_a_ping_flood_gets_goaway_enhance_your_calm(self, server: ServerProcess) -> None:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(SETTINGS))
            sock.sendall(b"".join(frame(PING, payload=struct.pack(">Q", i)) for i in range(20)))
            while True:
                kind, flags, payload = read_frame(sock)
                if kind == SETTINGS and not flags & 0x1:
                    sock.sendall(frame(SETTINGS, flags=0x1))
                if kind == GOAWAY:
                    break
            assert int.from_bytes(payload[4:8], "big") == ENHANCE_YOUR_CALM
        with server.channel() as channel:
            assert find(channel, "KrishnaMohan") == grpc.StatusCode.OK
