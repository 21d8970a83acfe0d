"""`make rest`: a findsvc and, once it serves, Envoy's REST gateway in front of it.

Envoy starts only after this findsvc logs that it serves: one that cannot start (its port
taken by a `make run` already up) must not leave an Envoy fronting the other server. Either
process ending, Ctrl-C, SIGTERM or SIGHUP stops both. The signal handlers only queue the
signal; the loop in `main` acts on it.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import signal
import subprocess
import sys
import threading
from typing import IO

from devkit.envoy import EnvoyProcess

Event = tuple[str, int]  # ("serving" | "findsvc exited" | "envoy exited" | "signal", number)
STOP_S = 30


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=50051, help="findsvc's gRPC port")
    parser.add_argument("--rest-port", type=int, default=8080)
    parser.add_argument("--ready-port", type=int, default=9902)
    parser.add_argument("--admin-port", type=int, default=9901)
    args = parser.parse_args()
    events: queue.SimpleQueue[Event] = queue.SimpleQueue()
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda number, _frame: events.put(("signal", number)))
    server = subprocess.Popen(
        [sys.executable, "-m", "findsvc", "serve"],
        env={**os.environ, "FINDSVC_HOST": "127.0.0.1", "FINDSVC_PORT": str(args.port)},
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a Ctrl-C reaches it once, from here, not twice
    )
    assert server.stdout is not None
    threading.Thread(target=_relay, args=(server.stdout, args.port, events), daemon=True).start()
    try:
        kind, number = events.get()
        if kind != "serving":
            return _stopped(server, kind, number)
        envoy = EnvoyProcess(args.port, ports=(args.rest_port, args.ready_port, args.admin_port))
        try:
            envoy.wait_ready()
            print(f"envoy: REST on http://127.0.0.1:{args.rest_port}", flush=True)
            print(f"envoy: access log (JSON lines) in {envoy.access_log_path}", flush=True)
            threading.Thread(target=_watch, args=(envoy.process, events), daemon=True).start()
            kind, number = events.get()
            return _stopped(server, kind, number)
        except RuntimeError as error:
            print(f"envoy: {error}", file=sys.stderr)
            return 1
        finally:
            envoy.close()
    finally:
        _stop(server)


def _relay(lines: IO[str], port: int, events: queue.SimpleQueue[Event]) -> None:
    """findsvc's output on ours; "serving" once it says it listens on `port`."""
    for line in lines:
        sys.stdout.write(line)
        sys.stdout.flush()
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("port") == port:
            events.put(("serving", 0))
    events.put(("findsvc exited", 0))


def _watch(process: subprocess.Popen[bytes], events: queue.SimpleQueue[Event]) -> None:
    events.put(("envoy exited", process.wait()))


def _stopped(server: subprocess.Popen[str], kind: str, number: int) -> int:
    """The exit code for what ended the run: findsvc's own, or 128 + a signal's number."""
    if kind == "signal":
        return 128 + number
    if kind == "findsvc exited":
        return server.wait() or 1
    print(f"envoy exited {number}; stopping findsvc", file=sys.stderr)
    return 1


def _stop(server: subprocess.Popen[str]) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=STOP_S)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


if __name__ == "__main__":
    sys.exit(main())
