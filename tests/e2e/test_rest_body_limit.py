"""Envoy bounds a REST body before it holds it: past 64 KiB a request is refused with 413 and
a JSON status, the rest of the body never buffered, however many such callers come at once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest

from devkit.envoy import EnvoyProcess
from tests.support.load import rss_kib
from tests.support.rest import BODY_LIMIT, BODY_TOO_LARGE, post_oversized

MB = 1_000_000
# Envoy holds at most 64 KiB of each refused body; 16 callers at once stay far below this,
# where one 50 MB body held whole would take 200 MiB and more.
RSS_GROWTH_BOUND_KIB = 48 * 1024


class TestBodyLimit:
    def test_a_body_one_byte_over_64_kib_is_413_with_a_status_body(
        self, envoy: EnvoyProcess
    ) -> None:
        assert post_oversized(envoy.port, BODY_LIMIT + 1) == (413, BODY_TOO_LARGE)

    @pytest.mark.parametrize("size", [5 * MB, 50 * MB])
    @pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
    def test_megabytes_are_refused_with_413_whatever_the_framing(
        self, envoy: EnvoyProcess, size: int, chunked: bool
    ) -> None:
        assert post_oversized(envoy.port, size, chunked=chunked) == (413, BODY_TOO_LARGE)

    def test_envoys_memory_stays_flat_under_many_50_mb_bodies_at_once(
        self, envoy: EnvoyProcess
    ) -> None:
        before = rss_kib(envoy.process.pid)
        callers = 16
        with ThreadPoolExecutor(callers) as pool, peak_rss_kib(envoy.process.pid) as peak:
            replies = list(pool.map(lambda _: post_oversized(envoy.port, 50 * MB), range(callers)))
        assert peak() - before < RSS_GROWTH_BOUND_KIB
        assert replies == [(413, BODY_TOO_LARGE)] * callers


@contextmanager
def peak_rss_kib(pid: int) -> Iterator[Callable[[], int]]:
    """The highest RSS of `pid` seen while the block ran (read every 10 ms)."""
    seen = [rss_kib(pid)]
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.01):
            seen.append(rss_kib(pid))

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        yield lambda: max(seen)
    finally:
        done.set()
        watcher.join()
        seen.append(rss_kib(pid))
