"""findsvc's Grafana dashboard, built with grafana-foundation-sdk (Grafana Labs' typed builders).

Every panel (panels.py) is a time series of Prometheus queries.
"""

from __future__ import annotations

import json
from typing import Any

from grafana_foundation_sdk.builders import dashboard, prometheus, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DataSourceRef, VariableRefresh

from monitoring.panels import PANELS, Panel
from monitoring.slo import SERVICE

UID = "findsvc"
DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")


def _panel(panel: Panel) -> timeseries.Panel:
    built = (
        timeseries.Panel()
        .title(panel.title)
        .description(panel.description)
        .unit(panel.unit)
        .datasource(DATASOURCE)
        .span(8)
        .height(8)
    )
    for index, (expr, legend) in enumerate(panel.queries):
        built = built.with_target(
            prometheus.Dataquery()
            .expr(expr)
            .legend_format(legend)
            .ref_id(chr(ord("A") + index))
            .datasource(DATASOURCE)
        )
    return built


def build() -> Any:
    """The dashboard as JSON-ready data."""
    board = (
        dashboard.Dashboard("findsvc")
        .uid(UID)
        .description("The Find service: its SLOs, calls, database pool, cache and pods.")
        .tags(["findsvc", "grpc"])
        .time("now-6h", "now")
        .refresh("1m")
        .with_variable(dashboard.DatasourceVariable("datasource").type("prometheus"))
        .with_variable(
            dashboard.QueryVariable("namespace")
            .datasource(DATASOURCE)
            .query(
                f'label_values(grpc_server_handled_total{{grpc_service="{SERVICE}"}}, namespace)'
            )
            .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
            .include_all(True)
            .all_value(".*")
        )
    )
    for panel in PANELS:
        board = board.with_panel(_panel(panel))
    encoded: Any = json.loads(json.dumps(board.build(), cls=JSONEncoder))
    return encoded
