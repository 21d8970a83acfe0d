"""What runs on every call, in what order: the one list of the server's interceptors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import grpc

from findsvc.config import Settings
from findsvc.contract import FIND_SERVICE_NAME
from findsvc.entrypoints.middleware.call_limits import CallLimits
from findsvc.entrypoints.middleware.call_observer import CallObserver
from findsvc.entrypoints.middleware.token_auth import token_auth
from findsvc.entrypoints.runtime.call_lanes import CallLanes, refusing_at_once, server_lanes
from findsvc.entrypoints.runtime.closing_gate import ClosingGate

if TYPE_CHECKING:  # prometheus-client is first imported after the supervisor forks
    from findsvc.telemetry.telemetry import Telemetry


@dataclass(frozen=True)
class CallChain:
    """The interceptors, outermost first, and the gate the server closes at the end of a drain."""

    interceptors: list[grpc.ServerInterceptor[Any, Any]]
    closing_gate: ClosingGate


def call_chain(settings: Settings, telemetry: Telemetry | None = None) -> CallChain:
    """Without telemetry, calls are neither traced nor counted (a server in a test)."""
    closing_gate = ClosingGate(FIND_SERVICE_NAME)
    auth = token_auth(settings)
    observer = None
    observed: list[grpc.ServerInterceptor[Any, Any]] = []
    if telemetry is not None:
        caller_label = auth.caller_label if auth else None
        observer = CallObserver(
            telemetry.metrics, settings.access_log, refusing_at_once, caller_label
        )
        observed = [*telemetry.tracing, observer]
    interceptors: list[grpc.ServerInterceptor[Any, Any]] = [
        # A lane per kind of call, and its cap. Outermost: gRPC reads the thread pool off the
        # outermost handler, and a call past its lane's cap is refused before anything else
        # (the observer only counts it). It asks auth who the caller is, to refuse the caller
        # that holds the most of a full lane.
        CallLanes(
            server_lanes(settings),
            on_refused=observer.refused if observer else None,
            caller_label=auth.caller_label if auth else None,
        ),
        # Tracing, then metrics and access logs: the span covers the metered call, and both
        # see every call but those past a lane's cap, the refusals below included. An unknown
        # method is refused here (UNIMPLEMENTED), before auth sees its name.
        *observed,
        # After a drain, FindService calls get UNAVAILABLE, before they cost a token check.
        closing_gate,
        # FindService needs a bearer token (when a tokens or JWKS file is set); health stays
        # open. The observer above asks it who the caller is, for the metrics' caller label.
        *([auth] if auth else []),
        # Innermost, next to the servicer: a strict decode, and the caller's deadline.
        CallLimits(cap_s=settings.db_timeout_s),
    ]
    return CallChain(interceptors, closing_gate)
