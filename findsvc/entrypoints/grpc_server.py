"""The gRPC server's options and lifecycle: how it starts, drains and stops, and the signals
that stop it. What it serves is wired by the composition root (bootstrap.build_server)."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from types import FrameType

import grpc

from findsvc.config import Settings
from findsvc.contract import FIND_SERVICE_NAME
from findsvc.entrypoints.health import Readiness
from findsvc.entrypoints.health_port import HealthPort
from findsvc.entrypoints.runtime.call_lanes import calls_admitted
from findsvc.entrypoints.runtime.closing_gate import ClosingGate
from findsvc.process.allocator import start_trimming

log = logging.getLogger(__name__)


def server_options(settings: Settings) -> list[tuple[str, int]]:
    return [
        ("grpc.max_receive_message_length", settings.max_message_bytes),
        ("grpc.keepalive_time_ms", int(settings.keepalive_time_s * 1000)),
        ("grpc.keepalive_timeout_ms", int(settings.keepalive_timeout_s * 1000)),
        ("grpc.max_connection_age_ms", int(settings.max_connection_age_s * 1000)),
        ("grpc.max_connection_age_grace_ms", int(settings.max_connection_age_grace_s * 1000)),
        # Accept the keepalive pings clients send by default, instead of GOAWAY too_many_pings.
        ("grpc.keepalive_permit_without_calls", 1),
        # A ping sooner than this counts a strike; past 2 strikes, GOAWAY ENHANCE_YOUR_CALM.
        ("grpc.http2.min_ping_interval_without_data_ms", 500),
        ("grpc.http2.max_ping_strikes", 2),
        # Only sibling processes may share the port; otherwise a taken port is an error.
        ("grpc.so_reuseport", int(settings.processes > 1)),
        # Refusals in gRPC's C core, before a flood queues for the one Python thread that takes
        # every call's events (each waiting for the GIL): calls there late make every call late.
        # Streams on one connection: no more than all lanes admit.
        ("grpc.max_concurrent_streams", calls_admitted(settings)),
        # Calls of one method waiting for that thread: some refused past the soft limit, all
        # past the hard one. Per method, so a FindUser flood refuses no probe. Not below the
        # lane's cap: a burst arrives faster than the thread takes calls in, and a shorter
        # queue (cheaper under a flood) refuses part of a burst on an idle server.
        ("grpc.server.max_pending_requests", settings.max_concurrency),
        ("grpc.server.max_pending_requests_hard_limit", 2 * settings.max_concurrency),
        # Idle connections cost memory: at most this many, each closed after an idle spell.
        ("grpc.max_allowed_incoming_connections", settings.max_connections),
        ("grpc.max_connection_idle_ms", int(settings.connection_idle_s * 1000)),
    ]


class FindServer:
    """A wired gRPC server (bootstrap.build_server builds it) and its lifecycle: start, drain,
    stop. `wait()` blocks until it has stopped."""

    def __init__(
        self,
        settings: Settings,
        server: grpc.Server,
        port: int,
        readiness: Readiness,
        closing_gate: ClosingGate,
        health_port: HealthPort | None = None,
    ) -> None:
        """`server` listens on `port` and serves through `closing_gate`, which stop() closes;
        `readiness` publishes the database's state to its health service, which
        `health_port`, if any, also serves to the kubelet on a port of its own."""
        self._settings = settings
        self._server = server
        self.port = port
        self.readiness = readiness
        self._closing_gate = closing_gate
        self.health_port = health_port
        self._stopping = threading.Event()
        self._stopped = threading.Event()

    def start(self) -> None:
        self._server.start()
        self.readiness.start()
        start_trimming(self._stopped)  # closed connections' memory back to the kernel
        if self.health_port is not None:
            self.health_port.start()
            port = self.health_port.port
            log.info("health on port %d", port, extra={"health_port": port})
        log.info(
            "serving %s on %s",
            FIND_SERVICE_NAME,
            f"{self._settings.host}:{self.port}",
            extra={"port": self.port},
        )

    def stop(self) -> None:
        """Readiness off, drain so endpoints update, refuse new calls, finish in-flight ones."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self.readiness.drain()
        log.info("draining for %.1fs", self._settings.drain_s)
        time.sleep(self._settings.drain_s)
        log.info("refusing new calls; in-flight calls have %.1fs", self._settings.grace_s)
        self._closing_gate.close()
        cut = self._closing_gate.wait_idle(self._settings.grace_s)
        if cut:
            log.warning("%d calls still running at the end of the grace are cut", cut)
        self.readiness.stop()
        # The lanes stay open: until the process exits, new calls still come in and their
        # refusals run on a lane (a closed one would kill gRPC's polling thread).
        log.info("stopped")
        # No self._server.stop(): grpc's shutdown cancels calls on the wire (closing_gate).
        self._stopped.set()

    def wait(self) -> None:
        """Until stop() has finished; the process then exits, and the kernel closes the
        connections."""
        while not self._stopped.wait(1.0):  # wakes for signal handlers
            pass


def serve_until_signalled(server: FindServer, *, repeat_ends_at_once: bool = True) -> None:
    """SIGTERM, SIGINT or SIGHUP stops gracefully; a second one ends the process at once,
    unless `repeat_ends_at_once` is off: under the supervisor, one Ctrl-C reaches a child
    twice (directly and passed on), and the supervisor's own second signal ends it."""

    stop_requested = False

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        # Set before the stopper starts: a signal handled while start() waits for the thread
        # (Ctrl-C reaching a child directly and passed on) must not start it twice.
        nonlocal stop_requested
        if stop_requested:
            if not repeat_ends_at_once:
                return
            log.warning("second signal: exiting now")
            logging.shutdown()
            os._exit(1)
        stop_requested = True
        log.info("received %s", signal.Signals(signum).name)
        server_stopper.start()

    server_stopper = threading.Thread(target=server.stop, name="stopper")
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, on_signal)
    server.start()
    server.wait()
    if server_stopper.is_alive():
        server_stopper.join()
