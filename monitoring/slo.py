"""The two SLOs and their indicators, as PromQL: the one place the rules and the dashboard read.

The thresholds and targets are argued in docs/monitoring.md ("Service level objectives").
"""

from __future__ import annotations

from dataclasses import dataclass

from glarimy.ums.find.v1 import find_service_pb2

SERVICE = find_service_pb2.DESCRIPTOR.services_by_name["FindService"].full_name
FIND_USER = f'grpc_service="{SERVICE}",grpc_method="FindUser"'

# Codes that mean the server failed the caller. Client errors (NOT_FOUND, INVALID_ARGUMENT,
# UNAUTHENTICATED...) and CANCELLED (the caller left) are not failures. UNKNOWN is an exception
# that escaped a handler. The server cannot tell from the metric whose deadline passed, so every
# DEADLINE_EXCEEDED counts: a client with a too-short deadline shows up here, on purpose.
SERVER_FAILURES = (
    "UNAVAILABLE",
    "INTERNAL",
    "DATA_LOSS",
    "DEADLINE_EXCEEDED",
    "RESOURCE_EXHAUSTED",
    "UNKNOWN",
)
# A bucket boundary of grpc_server_handling_seconds (prometheus-client's defaults).
LATENCY_THRESHOLD_S = "0.25"

# Everything is summed per namespace: one SLO per deployment (dev and prod apart).
BY = "namespace"
# The same SLIs per caller (the `caller` label, bounded by findsvc's configuration), so "whose
# calls fail?" has an answer; the alerts stay on the deployment's SLO.
BY_CALLER = "namespace, caller"
CALLER_WINDOWS = ("5m", "1h")


@dataclass(frozen=True)
class Slo:
    key: str  # availability, latency
    target: float  # the share of good calls over PERIOD
    bad: str  # what a bad call is, in words
    record_prefix: str

    @property
    def budget(self) -> float:
        return round(1 - self.target, 6)

    def ratio(self, window: str, by: str = BY) -> str:
        """The recorded share of bad FindUser calls over `window`."""
        per = "_by_caller" if by == BY_CALLER else ""
        return f"{self.record_prefix}{per}:ratio_rate{window}"

    def ratio_expr(self, window: str, by: str = BY) -> str:
        """The PromQL that `ratio(window, by)` records."""
        if self.key == "availability":
            failed = "|".join(SERVER_FAILURES)
            return (
                f"sum by ({by}) (rate(grpc_server_handled_total{{{FIND_USER},"
                f'grpc_code=~"{failed}"}}[{window}]))\n/\n'
                f"sum by ({by}) (rate(grpc_server_handled_total{{{FIND_USER}}}[{window}]))"
            )
        return (
            f"1 - (\n  sum by ({by}) (rate(grpc_server_handling_seconds_bucket{{{FIND_USER},"
            f'le="{LATENCY_THRESHOLD_S}"}}[{window}]))\n  /\n'
            f"  sum by ({by}) "
            f"(rate(grpc_server_handling_seconds_count{{{FIND_USER}}}[{window}]))\n)"
        )


PERIOD = "30d"
AVAILABILITY = Slo(
    "availability",
    0.999,
    "ended with a server-side failure",
    "findsvc:finduser_failures",
)
LATENCY = Slo(
    "latency",
    0.99,
    f"took longer than {float(LATENCY_THRESHOLD_S) * 1000:g} ms on the server",
    "findsvc:finduser_slow",
)
SLOS = (AVAILABILITY, LATENCY)


@dataclass(frozen=True)
class BurnPair:
    """The SRE workbook's multi-window pair: both windows above `burn` times the budget."""

    long: str
    short: str
    burn: float


@dataclass(frozen=True)
class BurnAlert:
    speed: str  # Fast, Slow: in the alert's name
    pace: str  # how the summary says it
    severity: str
    pairs: tuple[BurnPair, ...]
    for_: str


# The SRE workbook's recommendation (chapter 5, "Multiwindow, multi-burn-rate alerts"): fast
# burn pages (2 % of the 30-day budget in 1 h, 5 % in 6 h), slow burn opens a ticket (10 % in
# 1 d or 3 d). The short window makes the alert stop soon after the burn does.
BURN_ALERTS = (
    BurnAlert("Fast", "fast", "page", (BurnPair("1h", "5m", 14.4), BurnPair("6h", "30m", 6)), "2m"),
    BurnAlert(
        "Slow", "steadily", "ticket", (BurnPair("1d", "2h", 3), BurnPair("3d", "6h", 1)), "15m"
    ),
)
WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
