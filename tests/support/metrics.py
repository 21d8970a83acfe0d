"""Reading a server's JSON logs and scraping its /metrics, as a log shipper and Prometheus do."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from devkit.server import ServerProcess
from tests.support.calls import FIND_SERVICE

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]

# The labels of FindUser's series, as go-grpc-prometheus names them.
FIND_USER_LABELS = {
    "grpc_type": "unary",
    "grpc_service": FIND_SERVICE,
    "grpc_method": "FindUser",
}


def log_entries(server: ServerProcess) -> list[dict[str, Any]]:
    return [json.loads(line) for line in server.logs.splitlines() if line.startswith("{")]


def logged_port(server: ServerProcess, field: str, timeout_s: float = 10) -> int:
    """The port the server logged under `field` (e.g. metrics_port) once it listens there."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for entry in log_entries(server):
            if field in entry:
                return int(entry[field])
        time.sleep(0.05)
    raise AssertionError(f"no {field.replace('_', ' ')} logged:\n{server.logs}")


def metrics_port(server: ServerProcess, timeout_s: float = 10) -> int:
    return logged_port(server, "metrics_port", timeout_s)


def scrape(port: int) -> Samples:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum over the series of `name` that have these labels (and maybe others, such as
    the caller), as `sum(name{labels})` would be in PromQL."""
    wanted = frozenset(labels.items())
    return sum(v for (n, have), v in samples.items() if n == name and wanted <= have)


def wait_for_log(server: ServerProcess, text: str, timeout_s: float = 20) -> None:
    """Until `text` is in the server's log; AssertionError with the log when it never is."""
    deadline = time.monotonic() + timeout_s
    while text not in server.logs:
        assert time.monotonic() < deadline, f"no {text!r} in:\n{server.logs}"
        time.sleep(0.05)


def log_messages(server: ServerProcess) -> list[str]:
    return [str(entry.get("message", "")) for entry in log_entries(server)]


def follower_state(server: ServerProcess, state: str) -> float:
    """Processes whose binlog follower is in `state`."""
    return value(scrape(metrics_port(server)), "findsvc_binlog_follower_state", state=state)
