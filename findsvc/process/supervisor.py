"""Several server processes on one port: `findsvc serve --processes N` (FINDSVC_PROCESSES).

Python serves one call at a time per process (the GIL); more cores need more processes.
- The supervisor forks the children before any gRPC object exists (gRPC is not fork-safe);
  each child builds its own DB pool and server, and binds the port with SO_REUSEPORT
  (entrypoints/grpc_server.server_options), so the kernel spreads connections across them.
- SIGTERM, SIGINT or SIGHUP is passed on to every child as SIGTERM; each drains as a lone
  server would, and the supervisor exits 0 once all have exited 0. Ctrl-C, or systemd's
  KillMode=control-group, signals the children directly too: a child takes any repeat as the
  same request. A second signal to the supervisor ends every child at once (SIGKILL).
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
import signal
import sys
from collections.abc import Callable
from types import FrameType
from wsgiref.simple_server import WSGIServer

from findsvc.config import EXIT_CONFIG, ConfigError, Settings
from findsvc.process.child_process import SharedDir, die_with_parent

log = logging.getLogger(__name__)

EXIT_CHILD_FAILED = 1

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
    children: set[int] = set()
    stopping = False
    supervisor_pid = os.getpid()

    def pass_on(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        if stopping and _frame is not None:  # a second signal from outside: end now
            log.warning("second signal: ending every server process now")
            for pid in children:
                _signal(pid, signal.SIGKILL)
            return
        stopping = True
        for pid in children:
            _signal(pid, signal.SIGTERM)

    # Handlers first: a signal during the forking must not leave orphans behind.
    for signum in _STOP_SIGNALS:
        signal.signal(signum, pass_on)
    try:
        for index in range(settings.processes):
            pid = os.fork()
            if pid == 0:  # the child: serve, then leave without running the parent's cleanup
                _run_child(index, serve_one, supervisor_pid, metrics_dir)
            children.add(pid)
        if stopping:  # signalled while forking: the latest children have not heard
            pass_on(signal.SIGTERM, None)
        try:
            metrics_http = _serve_metrics(settings)
        except ConfigError as error:
            print(f"findsvc: {error}", file=sys.stderr)
            pass_on(signal.SIGTERM, None)
            _wait(children, lambda: True, pass_on)
            return EXIT_CONFIG
        log.info("supervising %d server processes", len(children), extra={"pids": sorted(children)})
        code = _wait(children, lambda: stopping, pass_on)
        metrics_http.shutdown()
        return code
    finally:
        if metrics_dir is not None:
            metrics_dir.leave()


_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def _run_child(
    index: int, serve_one: Callable[[int], int], supervisor_pid: int, metrics_dir: SharedDir | None
) -> None:
    for signum in _STOP_SIGNALS:
        signal.signal(signum, signal.SIG_DFL)
    code = 1
    try:
        if metrics_dir is not None:
            metrics_dir.join()
        die_with_parent(supervisor_pid)
        code = serve_one(index)
    except BaseException as error:  # noqa: BLE001 - one line, then the supervisor takes over
        # The type only: an exception's message can carry data.
        log.critical(
            "server process %d failed: %s",
            index,
            type(error).__name__,
            extra={"error": type(error).__name__},
        )
    finally:
        if metrics_dir is not None:
            metrics_dir.leave()
        logging.shutdown()
        sys.stdout.flush()
        os._exit(code)


def _wait(
    children: set[int],
    stopping: Callable[[], bool],
    stop_all: Callable[[int, FrameType | None], None],
) -> int:
    code = 0
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        children.discard(pid)
        _forget_metrics_of(pid)
        child_code = os.waitstatus_to_exitcode(status)
        if child_code != 0 or not stopping():
            # The first failure decides: a child's config error (2) stays a config error.
            if code == 0:
                code = child_code if child_code > 0 else EXIT_CHILD_FAILED
            log.error("server process %d %s", pid, _how_it_ended(child_code))
            if not stopping():
                stop_all(signal.SIGTERM, None)
    log.info("all server processes stopped")
    return code


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


def _forget_metrics_of(pid: int) -> None:
    """A dead child's live gauges (connections in use, say) must not count any more."""
    from prometheus_client import multiprocess

    with contextlib.suppress(OSError):
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # already gone: os.wait() will tell
        os.kill(pid, signum)
