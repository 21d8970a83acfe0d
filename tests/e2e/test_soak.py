"""A minute of concurrent load: memory and threads stay flat, and every answer is the right one."""

from __future__ import annotations

import time

import grpc

from devkit.server import ServerProcess
from tests.support.load import THREAD_JITTER, Load, rss_kib, thread_count

SOAK_S = 60
WARM_UP_S = 10
EXPECTED = {
    "KrishnaMohan": grpc.StatusCode.OK,
    "  krishnamohan ": grpc.StatusCode.OK,  # trimmed, and MySQL's collation ignores case
    "NobodyByThisName": grpc.StatusCode.NOT_FOUND,
    "short": grpc.StatusCode.INVALID_ARGUMENT,
    "BrokenPhone1": grpc.StatusCode.DATA_LOSS,
}


class TestSoak:
    def test_a_minute_of_load_keeps_rss_and_threads_flat_with_no_unexpected_answer(
        self, server: ServerProcess
    ) -> None:
        pid = server.process.pid
        samples: list[tuple[float, int, int]] = []  # (seconds in, RSS KiB, threads)
        with Load(server.target, list(EXPECTED), callers=8) as load:
            started = time.monotonic()
            while (elapsed := time.monotonic() - started) < SOAK_S:
                samples.append((elapsed, rss_kib(pid), thread_count(pid)))
                time.sleep(1)

        unexpected = [o for o in load.outcomes if o.code != EXPECTED[o.name]]
        assert not unexpected, f"{len(unexpected)} unexpected, first: {unexpected[0]}"
        assert len(load.outcomes) > 1000  # the load was real
        warm = [sample for sample in samples if sample[0] >= WARM_UP_S]
        rss_growth_kib = max(s[1] for s in warm) - warm[0][1]
        threads = {s[2] for s in warm}
        print(
            f"soak: {len(load.outcomes)} calls in {SOAK_S}s, RSS {warm[0][1]}->"
            f"{warm[-1][1]} KiB (max growth {rss_growth_kib}), threads {sorted(threads)}"
        )
        assert rss_growth_kib < 20 * 1024
        assert max(threads) <= warm[0][2] + THREAD_JITTER
        assert "Traceback" not in server.logs
        assert "9731423166" not in server.logs
