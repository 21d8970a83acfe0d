"""The server: how it listens, admits calls, stops, reports and runs its processes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from findsvc.config import parsers as parse
from findsvc.config.options import setting
from findsvc.config.setting_kinds import ON_OR_OFF, PEM_FILE, PORT, REFUSED, SECONDS, up_to


@dataclass(frozen=True)
class ServerSettings:
    host: str = setting(
        "[::]", str, "a host or address", "address to listen on; [::] means every interface"
    )
    port: int = setting(50051, parse.port, PORT, "gRPC port (0 picks a free one)")
    log_level: str = setting("INFO", parse.log_level, "DEBUG, INFO, WARNING or ERROR", "log level")
    # Few threads: each extra one costs GIL hand-offs.
    workers: int = setting(
        4, parse.whole(256), up_to(256), "threads running calls", see="Performance"
    )
    max_concurrency: int = setting(
        64, parse.whole(10_000), up_to(10_000), f"FindService calls served at once; {REFUSED}"
    )
    caller_max_concurrency: int | None = setting(
        None,
        parse.whole(10_000),
        up_to(10_000),
        f"FindService calls one caller may hold at once, even when the server has room; {REFUSED}",
        unset="no cap of its own: callers share a full server fairly",
    )
    # One a client connection with client-side health checking: about 77 KiB and a thread
    # each, connection included (tests/e2e/test_health_checking_clients.py measures it).
    max_health_watches: int = setting(
        512,
        parse.whole(4096),
        up_to(4096),
        "health Watch streams open at once, each on a thread of its own, a few at most on one "
        f"connection; {REFUSED}",
    )
    max_reflection_streams: int = setting(
        4,
        parse.whole(64),
        up_to(64),
        f"reflection streams open at once, each on a thread of its own; {REFUSED}",
    )
    max_message_bytes: int = setting(
        16384,
        parse.whole(4_194_304),
        up_to(4_194_304),
        "largest request accepted; a larger one gets RESOURCE_EXHAUSTED",
    )
    drain_s: float = setting(
        5.0,
        parse.seconds,
        SECONDS,
        "after SIGTERM, keep serving this long while endpoints update",
        see="Signals and timeouts",
    )
    grace_s: float = setting(
        10.0, parse.seconds, SECONDS, "after the drain, let in-flight calls finish this long"
    )
    keepalive_time_s: float = setting(
        60.0, parse.seconds, SECONDS, "the server pings idle connections this often"
    )
    keepalive_timeout_s: float = setting(
        20.0, parse.seconds, SECONDS, "close a connection whose ping is not answered in this time"
    )
    max_connection_age_s: float = setting(
        300.0,
        parse.seconds,
        SECONDS,
        "close client connections (GOAWAY) after this long, so long-lived clients rebalance "
        "onto new pods",
        see="Load balancing: two Services",
    )
    max_connection_age_grace_s: float = setting(
        30.0, parse.seconds, SECONDS, "calls on a connection past its age get this long to finish"
    )
    tls_cert: Path | None = setting(
        None,
        parse.readable_file,
        PEM_FILE,
        "server certificate chain, leaf first: turns on TLS (with the key)",
        see="TLS and mutual TLS",
    )
    tls_key: Path | None = setting(None, parse.readable_file, PEM_FILE, "server private key")
    tls_client_ca: Path | None = setting(
        None, parse.readable_file, PEM_FILE, "CA for client certificates: turns on mutual TLS"
    )
    reflection: bool = setting(True, parse.switch, ON_OR_OFF, "serve gRPC server reflection")
    metrics_port: int = setting(
        9464, parse.port, PORT, "Prometheus /metrics port (0 picks a free one)", see="Metrics"
    )
    # Limits a client cannot push past (see docs/hardening.md).
    health_port: int | None = setting(
        None,
        parse.port,
        PORT,
        "plaintext port of its own serving health Check, for the kubelet's probes: a flood on "
        "the gRPC port cannot starve them (0 picks a free one)",
        unset="off: health on the gRPC port only",
    )
    max_connections: int = setting(
        1000,
        parse.whole(100_000),
        up_to(100_000),
        "open client connections to the gRPC port at most (about 20 KiB each while idle); "
        "more are closed as they arrive",
    )
    connection_idle_s: float = setting(
        120.0,
        parse.positive_seconds,
        "seconds > 0",
        "close a client connection (GOAWAY) that has had no call this long; the client "
        "reconnects at its next call",
    )
    processes: int = setting(
        1,
        parse.processes,
        f"{up_to(parse.MAX_PROCESSES)} or auto",
        "server processes sharing the port; auto: one per CPU this process may use (the "
        "affinity mask, capped by the cgroup CPU quota rounded up)",
        see="Performance",
    )
    cpu_pinning: str = setting(
        "auto",
        parse.cpu_pinning,
        "auto, 1 or 0",
        "keep the threads of each server process on one CPU: auto moves them off a CPU other "
        "work keeps busy; 1 keeps the n-th process on the n-th CPU it may use; 0: anywhere",
        see="Performance",
    )
    # HTTP caching of FindUser's answer (docs/browsers.md): findsvc sends an ETag and this
    # as metadata, which Envoy passes on as headers. The default lets a cache keep the answer
    # but ask (If-None-Match) every time, so a change is seen at once.
    cache_control: str = setting(
        "private, max-age=0, must-revalidate",
        parse.header_value,
        "a Cache-Control header value",
        "Cache-Control of FindUser's answers (REST, Connect, gRPC-Web), beside their ETag",
        see="HTTP caching",
    )
    tracing: bool = setting(
        False,
        parse.switch,
        ON_OR_OFF,
        "OpenTelemetry tracing over OTLP (the otel extra)",
        see="Tracing (optional)",
    )
    access_log: str = setting(
        "errors",
        parse.access_log,
        "all, errors or off",
        "which calls get an access log line: all, those not ending OK (errors), or none (off)",
        see="Logs",
    )

    @property
    def listen_address(self) -> str:
        return f"{self.host}:{self.port}"
