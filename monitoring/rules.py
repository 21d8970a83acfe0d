"""findsvc's Prometheus recording and alerting rules, built once from `slo.py`.

Written out twice by `python -m monitoring`: a plain rules file and the same groups in a
PrometheusRule for the Prometheus Operator. Annotations use only `{{ $labels.x }}` templates.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import yaml

from monitoring.slo import (
    BURN_ALERTS,
    BY_CALLER,
    CALLER_WINDOWS,
    PERIOD,
    SERVICE,
    SLOS,
    WINDOWS,
    Slo,
)

# Each alert links to its entry on the docs site's runbook page (docs/runbook.md), under the
# site_url of mkdocs.yml: EDIT that to where your copy of the site is served.
MKDOCS = Path(__file__).resolve().parents[1] / "mkdocs.yml"
RUNBOOK_PAGE = "runbook/"  # docs/runbook.md, as MkDocs serves it (directory URLs)
SCRAPE_JOB = "findsvc"  # the ServiceMonitor's jobLabel value; name a plain scrape job the same
DB_DOWN_FOR = "5m"
POOL_SATURATED_FOR = "10m"
SHEDDING_FOR = "10m"
RESTARTS_PER_HOUR = 3
SCRAPE_FAILING_FOR = "5m"
REPLICA_OUT_FOR = "5m"
# The follower retries every 5 s at most: 10 minutes is an outage, not a blip.
CACHE_NOT_FOLLOWING_FOR = "10m"

Rule = dict[str, Any]


@cache
def runbook() -> str:
    """The runbook page's address on the docs site."""
    site_url: str = yaml.safe_load(MKDOCS.read_text(encoding="utf-8"))["site_url"]
    return urljoin(site_url, RUNBOOK_PAGE)


def _alert(
    name: str, expr: str, for_: str | None, severity: str, summary: str, description: str
) -> Rule:
    rule: Rule = {"alert": name, "expr": expr}
    if for_:
        rule["for"] = for_
    rule["labels"] = {"severity": severity}
    rule["annotations"] = {
        "summary": summary,
        "description": description,
        "runbook_url": f"{runbook()}#{name.lower()}",
    }
    return rule


def _burn_alerts(slo: Slo) -> list[Rule]:
    alerts = []
    for burn in BURN_ALERTS:
        pairs = [
            f"(\n  {slo.ratio(p.long)} > ({p.burn} * {slo.budget})\n"
            f"  and\n  {slo.ratio(p.short)} > ({p.burn} * {slo.budget})\n)"
            for p in burn.pairs
        ]
        windows = " or ".join(
            f"{p.burn}x the budget over {p.long} and {p.short}" for p in burn.pairs
        )
        rule = _alert(
            f"Findsvc{slo.key.title()}{burn.speed}Burn",
            "\nor\n".join(pairs),
            burn.for_,
            burn.severity,
            f"findsvc is spending its {slo.key} error budget {burn.pace}",
            f"In {{{{ $labels.namespace }}}}, the share of FindUser calls that {slo.bad} is"
            f" above {windows} (the budget: {slo.budget:.2%} of calls over {PERIOD}).",
        )
        rule["labels"]["slo"] = slo.key
        alerts.append(rule)
    return alerts


def _component_alerts() -> list[Rule]:
    instance = "{{ $labels.namespace }}/{{ $labels.instance }}"
    return [
        _alert(
            "FindsvcDatabaseDown",
            "findsvc_db_up == 0",
            DB_DOWN_FOR,
            "page",
            "findsvc cannot read the users table",
            f"{instance} has failed its database check for {DB_DOWN_FOR}: it is not ready,"
            " and the calls it still gets end UNAVAILABLE.",
        ),
        _alert(
            "FindsvcDbPoolSaturated",
            "findsvc_db_pool_connections_idle == 0\nand\nfindsvc_db_pool_connections_in_use > 0",
            POOL_SATURATED_FOR,
            "ticket",
            "findsvc's database pool has had no idle connection",
            f"Every connection of the pool of {instance} has been busy at every scrape for"
            f" {POOL_SATURATED_FOR}: calls wait for a connection.",
        ),
        _alert(
            "FindsvcLoadShedding",
            "sum without (grpc_type, grpc_method, grpc_code, caller) (\n"
            f'  rate(grpc_server_handled_total{{grpc_service="{SERVICE}",'
            'grpc_code="RESOURCE_EXHAUSTED"}[5m])\n) > 0',
            SHEDDING_FOR,
            "ticket",
            "findsvc is turning calls away",
            f"{instance} has answered RESOURCE_EXHAUSTED (more calls in flight than"
            f" FINDSVC_MAX_CONCURRENCY) for {SHEDDING_FOR}.",
        ),
        _alert(
            "FindsvcPodRestarting",
            'increase(kube_pod_container_status_restarts_total{container="findsvc"}[1h])'
            f" >= {RESTARTS_PER_HOUR}",
            None,
            "ticket",
            "a findsvc container keeps restarting",
            "The findsvc container of {{ $labels.namespace }}/{{ $labels.pod }} restarted"
            f" {RESTARTS_PER_HOUR} or more times in the last hour.",
        ),
        _alert(
            "FindsvcReplicaOutOfService",
            "max by (namespace, replica) (findsvc_db_replica_healthy) == 0",
            REPLICA_OUT_FOR,
            "ticket",
            "a read replica gets no findsvc reads",
            "No pod of {{ $labels.namespace }} has read from replica {{ $labels.replica }} for"
            f" {REPLICA_OUT_FOR}: it is unreachable, or further behind its primary than"
            " FINDSVC_DB_REPLICA_MAX_LAG_S. Its reads go to the other replicas or the primary.",
        ),
        _alert(
            "FindsvcBinlogCacheNotFollowing",
            'sum without (state) (findsvc_binlog_follower_state{state!="following"}) > 0',
            CACHE_NOT_FOLLOWING_FOR,
            "ticket",
            "findsvc's binlog cache has not followed the table",
            f"A binlog follower of {instance} has been connecting or reconnecting for"
            f" {CACHE_NOT_FOLLOWING_FOR}: its cache answers nothing, and every lookup of that"
            " process goes to the database.",
        ),
        _alert(
            "FindsvcScrapeFailing",
            f'up{{job="{SCRAPE_JOB}"}} == 0',
            SCRAPE_FAILING_FOR,
            "ticket",
            "Prometheus cannot scrape findsvc",
            f"The scrape of {instance} has failed for {SCRAPE_FAILING_FOR}: its calls are"
            " missing from the SLOs and no other findsvc alert sees it.",
        ),
    ]


def groups() -> list[Rule]:
    records = [
        {"record": slo.ratio(window), "expr": slo.ratio_expr(window)}
        for slo in SLOS
        for window in WINDOWS
    ] + [
        {"record": slo.ratio(window, BY_CALLER), "expr": slo.ratio_expr(window, BY_CALLER)}
        for slo in SLOS
        for window in CALLER_WINDOWS
    ]
    return [
        {"name": "findsvc-slo-records", "rules": records},
        {
            "name": "findsvc-slo-alerts",
            "rules": [alert for slo in SLOS for alert in _burn_alerts(slo)],
        },
        {"name": "findsvc-alerts", "rules": _component_alerts()},
    ]


def alerts() -> list[Rule]:
    return [rule for group in groups() for rule in group["rules"] if "alert" in rule]
