"""The committed rules, PrometheusRule and dashboard are what their generators write, and every
query in them names metrics that exist."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry

from findsvc.telemetry.metrics import Metrics
from monitoring.generated import DASHBOARD, ROOT, files
from monitoring.rules import groups
from tests.monitoring.promtool import promtool

# Series from outside findsvc: Prometheus itself, kube-state-metrics and cAdvisor.
OTHERS = {
    "up",
    "kube_pod_container_status_restarts_total",
    "container_cpu_usage_seconds_total",
    "container_memory_working_set_bytes",
}
# Grafana's variables, as the checks and the demo replace them.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$namespace": ".*"}
_SERIES = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*[{\[]")
_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "rate", "sum"}


def findsvc_series() -> set[str]:
    names = set()
    for metric in Metrics(CollectorRegistry()).registry.collect():
        names.add(metric.name)
        suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum")}
        names.update(metric.name + s for s in suffixes.get(metric.type, ()))
    return names


def dashboard_queries() -> list[str]:
    board = json.loads((ROOT / DASHBOARD).read_text())
    return [target["expr"] for panel in board["panels"] for target in panel["targets"]]


def as_promql(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    return expr


def series_named(expr: str) -> set[str]:
    return set(_SERIES.findall(expr)) - _KEYWORDS


class TestCommittedFiles:
    @pytest.mark.parametrize("path", sorted(files()))
    def test_match_their_generator(self, path: str) -> None:
        assert (ROOT / path).read_text() == files()[path], f"run `make monitoring` for {path}"


class TestQueriesNameRealSeries:
    def test_every_series_a_rule_reads_exists(self) -> None:
        known = findsvc_series() | OTHERS
        records = set()
        for group in groups():
            for rule in group["rules"]:
                assert series_named(rule["expr"]) <= known | records, rule["expr"]
                records.add(rule.get("record", ""))

    def test_every_series_the_dashboard_reads_exists(self) -> None:
        records = {r["record"] for g in groups() for r in g["rules"] if "record" in r}
        known = findsvc_series() | OTHERS | records
        for expr in dashboard_queries():
            assert series_named(as_promql(expr)) <= known, expr

    def test_a_misspelt_series_is_caught(self) -> None:
        assert series_named('rate(grpc_server_handeld_total{a="b"}[5m])') - findsvc_series()


class TestDashboard:
    def test_promtool_accepts_every_query(self, tmp_path: Path) -> None:
        rules = [
            {"record": f"findsvc_dashboard:query{i}", "expr": as_promql(expr)}
            for i, expr in enumerate(dashboard_queries())
        ]
        path = tmp_path / "dashboard.rules.yml"
        path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
        result = promtool("check", "rules", path)
        assert result.returncode == 0, result.stdout + result.stderr

    def test_has_the_panels_an_on_call_engineer_needs(self) -> None:
        board = json.loads((ROOT / DASHBOARD).read_text())
        queries = " ".join(dashboard_queries())
        for wanted in (
            "grpc_server_handled_total",
            "findsvc:finduser_failures:ratio_rate5m",
            "histogram_quantile(0.99, sum by (le) (rate(grpc_server_handling_seconds_bucket",
            "findsvc_db_query_duration_seconds_bucket",
            "findsvc_db_pool_connections_in_use",
            "findsvc_db_pool_connections_idle",
            "findsvc_db_up",
            "findsvc_cache_lookups_total",
            "findsvc_binlog_follower_lag_seconds",
            "findsvc_binlog_follower_state",
            "findsvc_binlog_events_applied_total",
            "findsvc_cache_evictions_total",
            'grpc_code="RESOURCE_EXHAUSTED"',
            "container_cpu_usage_seconds_total",
            "container_memory_working_set_bytes",
        ):
            assert wanted in queries, wanted
        assert all(panel["datasource"]["uid"] == "${datasource}" for panel in board["panels"])
        assert len({panel["title"] for panel in board["panels"]}) == len(board["panels"])
