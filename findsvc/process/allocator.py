"""Memory freed by closed connections goes back to the kernel.

gRPC's C core allocates each connection's buffers on its own threads, in glibc's per-thread
arenas. glibc keeps what is freed there for reuse and returns it only from the top of the
main heap, so after a wave of thousands of connections closes the process stays at its peak
(measured: 59 MiB, then 111, 134 and 148 MiB after three waves of 3,000 idle connections),
and a pod under its memory limit creeps towards an OOM kill. `malloc_trim(0)` walks every
arena and hands whole free pages back; run every few seconds it costs a few milliseconds.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

TRIM_INTERVAL_S = 5.0


def _malloc_trim() -> Callable[[], None] | None:
    name = ctypes.util.find_library("c")
    try:
        trim = ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        return None
    if trim is None:
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return lambda: trim(0)


def start_trimming(stopped: threading.Event, interval_s: float = TRIM_INTERVAL_S) -> None:
    """Trims every `interval_s` until `stopped` is set, in a daemon thread."""
    trim = _malloc_trim()
    if trim is None:
        log.info("no malloc_trim in this C library: freed memory stays with the process")
        return

    def run() -> None:
        while not stopped.wait(interval_s):
            trim()

    threading.Thread(target=run, name="malloc-trim", daemon=True).start()
