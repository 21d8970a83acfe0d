"""Several server processes on one port: `findsvc serve --processes N` (FINDSVC_PROCESSES).

Python serves one call at a time per process (the GIL); more cores need more processes.
- The supervisor forks the children before any gRPC object exists (gRPC is not fork-safe);
  each child builds its own DB pool and server, and binds the port with SO_REUSEPORT
  (entrypoints/grpc_server.server_options), so the kernel spreads connections across them.
- A loop, not a signal handler: the handlers only queue the signal (no logging, no signalling
  there), and the loop takes each from the queue to handle_term, handle_hup or handle_child.
- SIGTERM, SIGINT or SIGHUP is passed on to every child as SIGTERM; each drains as a lone
  server would, and the supervisor exits 0 once all have exited 0. Ctrl-C, or systemd's
  KillMode=control-group, signals the children directly too: a child takes any repeat as the
  same request. A second signal to the supervisor ends every child at once (SIGKILL).
- It reaps only its own children, by pid (child_process.ForkedChildren).
- A child dies with the supervisor, even one killed by SIGKILL (see child_process). A child
  that dies on its own says why in one line and takes the others down (exit 1, or the
  child's own code, e.g. 2 for a port it cannot bind): Kubernetes restarts the pod, rather
  than it limping on with fewer processes.
- Metrics: before forking, PROMETHEUS_MULTIPROC_DIR is pointed at a fresh temp dir (unless
  set), so that prometheus-client in every child (imported there only after the fork) writes
  its samples there. The children serve no /metrics; the supervisor serves it on the metrics
  port from a MultiProcessCollector, which sums (or, for gauges, combines as each gauge's
  multiprocess_mode says) the samples of all children, and forgets a child that is gone.
  findsvc_db_up is the lowest of the live children's: 0 when any of them cannot read the table.
  The last process to leave removes the dir, the supervisor or, if it was killed, a child.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import sys
from collections import deque
from collections.abc import Callable
from types import FrameType
from typing import Protocol
from wsgiref.simple_server import WSGIServer

from findsvc.config import EXIT_CONFIG, ConfigError, Settings
from findsvc.process.child_process import ForkedChildren, SharedDir

log = logging.getLogger(__name__)

EXIT_CHILD_FAILED = 1

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
HANDLED_SIGNALS = (*STOP_SIGNALS, signal.SIGCHLD)

# How long the loop sleeps with no signal: a SIGCHLD lost to a full wakeup pipe costs no more.
IDLE_CHECK_S = 1.0


class Children(Protocol):
    """The processes a supervisor starts, signals and reaps (ForkedChildren; a fake in tests)."""

    def start(self, index: int) -> int: ...

    def signal(self, pid: int, signum: int) -> None: ...

    def reap(self, pid: int) -> int | None: ...


class Supervisor:
    """Starts `count` children and watches them until all have exited; run() returns the exit
    code. Signals reach it through queue_signal, from the handlers or from a test."""

    def __init__(self, children: Children, count: int) -> None:
        self._children = children
        self._count = count
        self._pids: set[int] = set()
        self._signals: deque[int] = deque()  # appending is atomic: safe in a signal handler
        self._wakeup_read, self._wakeup_write = os.pipe()
        for fd in (self._wakeup_read, self._wakeup_write):
            os.set_blocking(fd, False)
        self._stopping = False
        self.code = 0

    @property
    def pids(self) -> frozenset[int]:
        return frozenset(self._pids)

    def install_signal_handlers(self) -> None:
        """Before the first fork: a signal during the forking must not leave orphans behind."""
        for signum in HANDLED_SIGNALS:
            signal.signal(signum, self._on_signal)
        # Wakes the loop's select() the moment a signal arrives, before the handler runs.
        signal.set_wakeup_fd(self._wakeup_write, warn_on_full_buffer=False)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self._signals.append(signum)  # only queue: the loop does the rest

    def queue_signal(self, signum: int) -> None:
        self._signals.append(signum)
        with contextlib.suppress(BlockingIOError):  # the pipe is full: the loop will wake
            os.write(self._wakeup_write, b"\0")

    def start_children(self) -> None:
        for index in range(self._count):
            self._pids.add(self._children.start(index))

    def run(self) -> int:
        """Handles queued signals until every child has been reaped."""
        while self._pids:
            self._wait_for_signal(IDLE_CHECK_S)
            while self._signals:
                self._handle(self._signals.popleft())
            self.handle_child()  # also when a SIGCHLD was not delivered
        log.info("all server processes stopped")
        return self.code

    def stop(self) -> None:
        """Every child drains and exits (SIGTERM). A stop of our own, not a signal received."""
        self._stopping = True
        for pid in self._pids:
            self._children.signal(pid, signal.SIGTERM)

    def handle_term(self) -> None:
        """SIGTERM or SIGINT: stop; a second one from outside ends every child now."""
        if self._stopping:
            log.warning("second signal: ending every server process now")
            for pid in self._pids:
                self._children.signal(pid, signal.SIGKILL)
            return
        self.stop()

    def handle_hup(self) -> None:
        """A hang-up stops as SIGTERM does: nothing is reloaded on SIGHUP (certificates and
        tokens are read again when their files change)."""
        self.handle_term()

    def handle_child(self) -> None:
        """Reaps the children that have exited. One that exits unasked, or with a failure,
        takes the others down: the first failure decides the exit code (a child's config
        error, 2, stays a config error)."""
        for pid in sorted(self._pids):
            exit_code = self._children.reap(pid)
            if exit_code is None:
                continue
            self._pids.discard(pid)
            if exit_code == 0 and self._stopping:
                continue
            if self.code == 0:
                self.code = exit_code if exit_code > 0 else EXIT_CHILD_FAILED
            log.error("server process %d %s", pid, _how_it_ended(exit_code))
            if not self._stopping:
                self.stop()

    def _handle(self, signum: int) -> None:
        if signum == signal.SIGCHLD:
            self.handle_child()
        elif signum == signal.SIGHUP:
            self.handle_hup()
        else:
            self.handle_term()

    def _wait_for_signal(self, timeout_s: float) -> None:
        if not self._signals:
            select.select([self._wakeup_read], [], [], timeout_s)
        with contextlib.suppress(BlockingIOError):  # drained
            while os.read(self._wakeup_read, 512):
                pass

    def close(self) -> None:
        for fd in (self._wakeup_read, self._wakeup_write):
            os.close(fd)


# prometheus-client's multiprocess mode keeps each process's metrics in files.
NO_TEMP_DIR = (
    "findsvc: FINDSVC_PROCESSES > 1 needs a writable temp dir for the processes' metrics"
    " (TMPDIR, /tmp, or PROMETHEUS_MULTIPROC_DIR; in Kubernetes an emptyDir)"
)


def serve_processes(settings: Settings, serve_one: Callable[[int], int]) -> int:
    """Runs serve_one(index) in settings.processes forked children; returns the exit code."""
    if settings.port == 0:
        print("findsvc: FINDSVC_PORT=0 cannot be shared by several processes", file=sys.stderr)
        return EXIT_CONFIG
    try:
        metrics_dir = _multiprocess_metrics_dir()
    except OSError:
        print(NO_TEMP_DIR, file=sys.stderr)
        return EXIT_CONFIG
    supervisor = Supervisor(
        ForkedChildren(serve_one, metrics_dir, reset_signals=HANDLED_SIGNALS), settings.processes
    )
    supervisor.install_signal_handlers()
    try:
        supervisor.start_children()
        try:
            metrics_http = _serve_metrics(settings)
        except ConfigError as error:
            print(f"findsvc: {error}", file=sys.stderr)
            supervisor.stop()
            supervisor.run()
            return EXIT_CONFIG
        pids = sorted(supervisor.pids)
        log.info("supervising %d server processes", len(pids), extra={"pids": pids})
        code = supervisor.run()
        metrics_http.shutdown()
        return code
    finally:
        signal.set_wakeup_fd(-1)
        supervisor.close()
        if metrics_dir is not None:
            metrics_dir.leave()


def _how_it_ended(exit_code: int) -> str:
    if exit_code < 0:
        return f"was killed by {signal.Signals(-exit_code).name}"
    return f"exited with {exit_code}"


def _multiprocess_metrics_dir() -> SharedDir | None:
    """A fresh dir for prometheus-client's multiprocess mode, unless the operator chose one."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return None
    shared = SharedDir(prefix="findsvc-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(shared.path)
    return shared


def _serve_metrics(settings: Settings) -> WSGIServer:
    """/metrics for all children, in a daemon thread. Raises ConfigError when the port is taken."""
    # Imported here, not at the top: the children inherit this module's imports, and
    # prometheus-client must first be imported after PROMETHEUS_MULTIPROC_DIR is set.
    from prometheus_client import CollectorRegistry, multiprocess

    from findsvc.telemetry.metrics import serve_metrics

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    server = serve_metrics(registry, settings.host, settings.metrics_port)
    port = server.server_port
    log.info("metrics of all server processes on port %d", port, extra={"metrics_port": port})
    return server
