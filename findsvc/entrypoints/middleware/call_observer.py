"""A server interceptor that counts, times and logs every call: metrics and access logs.

Python interceptors see only the handler, so the final status is read after the wrapped
behaviour: the code `context.abort` set, or what an escaping exception or a gone client means.
"""

from __future__ import annotations

import logging
import string
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import grpc
from google.protobuf import descriptor_pool
from grpc.experimental import wrap_server_method_handler

from findsvc.contract import HEALTH_SERVICE
from findsvc.entrypoints.callers import UNAUTHENTICATED
from findsvc.entrypoints.wrap_once import WrappingInterceptor

if TYPE_CHECKING:  # prometheus-client is first imported after the supervisor forks
    from findsvc.telemetry.metrics import Metrics

access_log = logging.getLogger("findsvc.access")

REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID_CHARS = frozenset(string.ascii_letters + string.digits + "-_.:/+=")
_REQUEST_ID_MAX = 128
# The kubelet probes every few seconds: its calls are logged only at DEBUG.
_QUIET_SERVICES = frozenset({HEALTH_SERVICE.full_name})

Behavior = Callable[[Any, grpc.ServicerContext], Any]
# Who made a call, from its method and metadata, as a label bounded by configuration.
CallerLabel = Callable[[str, Any], str]
# go-grpc-prometheus's grpc_type, by (request streaming, response streaming).
_GRPC_TYPES = {
    (False, False): "unary",
    (True, False): "client_stream",
    (False, True): "server_stream",
    (True, True): "bidi_stream",
}
# Methods the server does not serve share one label, so callers cannot add metric series.
UNKNOWN_METHOD = "/unknown/unknown"


def _unimplemented(_requests: Any, context: grpc.ServicerContext) -> Iterator[Any]:
    context.abort(grpc.StatusCode.UNIMPLEMENTED, "no such method")
    yield  # a generator, as a streaming behaviour is


class CallObserver(WrappingInterceptor):
    """`access_log` is "all" (every call), "errors" (calls not ending OK) or "off".
    `refusing(behaviour)` makes the handler that refuses an unknown method: the call chain
    passes the runtime's, which refuses on gRPC's polling thread (call_lanes.py).
    `caller_label` names who made a call (token auth knows); without it every call is
    unauthenticated."""

    def __init__(
        self,
        metrics: Metrics,
        access_log: str = "all",
        refusing: Callable[[Behavior], grpc.RpcMethodHandler[Any, Any]] = (
            grpc.stream_stream_rpc_method_handler
        ),
        caller_label: CallerLabel | None = None,
    ) -> None:
        super().__init__()  # metric children too are made once per method, not once per call
        self._metrics = metrics
        self._access_log = access_log
        self._caller_label = caller_label or (lambda _method, _metadata: UNAUTHENTICATED)
        self._instruments: dict[tuple[str, str], _Instruments] = {}
        self._unknown_method = refusing(
            self._streaming(_unimplemented, self._instruments_for(UNKNOWN_METHOD, "unknown"))
        )

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Any],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Any:
        """A method the server does not serve is refused here, before auth and before
        anything is made or cached for its name."""
        handler = super().intercept_service(continuation, handler_call_details)
        return self._unknown_method if handler is None else handler

    def wrap(
        self, handler: grpc.RpcMethodHandler[Any, Any], method: str
    ) -> grpc.RpcMethodHandler[Any, Any]:
        streams = (handler.request_streaming, handler.response_streaming)
        instruments = self._instruments_for(method, _GRPC_TYPES[streams])
        observe = self._streaming if handler.response_streaming else self._unary
        wrapped: grpc.RpcMethodHandler[Any, Any] = wrap_server_method_handler(  # type: ignore[no-untyped-call]
            lambda behavior: observe(behavior, instruments), handler
        )
        return wrapped

    def refused(self, method: str, caller: str = UNAUTHENTICATED) -> None:
        """A call of a served method refused before any handler ran (past its lane's cap),
        under the caller the lane named: counted, but neither timed (its zero latency would
        flatter the latency SLO) nor logged (a flood of refusals must not become a flood of
        log lines)."""
        self._instruments_for(method, _grpc_type(method)).refused(caller)

    def _instruments_for(self, method: str, grpc_type: str) -> _Instruments:
        key = (method, grpc_type)
        if key not in self._instruments:
            self._instruments[key] = _Instruments(
                self._metrics, method, grpc_type, self._access_log, self._caller_label
            )
        return self._instruments[key]

    def _unary(self, behavior: Behavior, instruments: _Instruments) -> Behavior:
        def observed(request: Any, context: grpc.ServicerContext) -> Any:
            caller, started = instruments.start(context)
            raised = True
            try:
                response = behavior(request, context)
                raised = False
                return response
            finally:
                instruments.finish(context, caller, started, raised)

        return observed

    def _streaming(self, behavior: Behavior, instruments: _Instruments) -> Behavior:
        def observed(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            caller, started = instruments.start(context)
            raised = True
            try:
                yield from behavior(request, context)
                raised = False
            finally:
                instruments.finish(context, caller, started, raised)

        return observed


class _Instruments:
    """One method's metric children, by caller, and its access-log policy."""

    def __init__(
        self,
        metrics: Metrics,
        method: str,
        grpc_type: str,
        access_log: str,
        caller_label: CallerLabel,
    ) -> None:
        service, _, name = method.lstrip("/").rpartition("/")
        self._labels = (grpc_type, service, name)
        self._metrics = metrics
        self._method = method
        self._caller_label = caller_label
        # Made once per caller label, which configuration bounds, not once per call.
        self._by_caller: dict[str, _CallerInstruments] = {}
        # The kubelet probes every few seconds: its calls are logged only at DEBUG.
        self._level = logging.DEBUG if service in _QUIET_SERVICES else logging.INFO
        self._log_ok = access_log == "all"
        self._log_errors = access_log in ("all", "errors")

    def start(self, context: grpc.ServicerContext) -> tuple[_CallerInstruments, float]:
        caller = self._for(self._caller_label(self._method, context.invocation_metadata()))
        caller.started.inc()
        return caller, time.perf_counter()

    def refused(self, caller: str) -> None:
        instruments = self._for(caller)
        instruments.started.inc()
        instruments.handled[grpc.StatusCode.RESOURCE_EXHAUSTED].inc()

    def finish(
        self,
        context: grpc.ServicerContext,
        caller: _CallerInstruments,
        started: float,
        raised: bool,
    ) -> None:
        seconds = time.perf_counter() - started
        code = final_code(context, raised)
        caller.handled[code].inc()
        caller.seconds.observe(seconds)
        wanted = self._log_ok if code is grpc.StatusCode.OK else self._log_errors
        if wanted and access_log.isEnabledFor(self._level):
            self._log(context, caller.name, code, seconds)

    def _for(self, caller: str) -> _CallerInstruments:
        instruments = self._by_caller.get(caller)
        if instruments is None:
            instruments = _CallerInstruments(self._metrics, (*self._labels, caller))
            self._by_caller[caller] = instruments
        return instruments

    def _log(
        self, context: grpc.ServicerContext, caller: str, code: grpc.StatusCode, seconds: float
    ) -> None:
        fields: dict[str, Any] = {
            "method": self._method,
            "code": code.name,
            "duration_ms": round(seconds * 1000, 3),
            # peer() costs a GIL round trip in grpcio: only paid for a line that is written.
            "peer": context.peer(),
            "caller": caller,
        }
        request_id = find_request_id(context.invocation_metadata())
        if request_id is not None:
            fields["request_id"] = request_id
        # Never the request or the status details: both can carry user data.
        access_log.log(self._level, "%s %s", self._method, code.name, extra=fields)


class _CallerInstruments:
    """One method's metric children for one caller."""

    def __init__(self, metrics: Metrics, labels: tuple[str, str, str, str]) -> None:
        self.name = labels[-1]
        self.started = metrics.grpc_started.labels(*labels)
        self.seconds = metrics.grpc_handling_seconds.labels(*labels)
        self.handled = {
            code: metrics.grpc_handled.labels(*labels, code.name) for code in grpc.StatusCode
        }


def final_code(context: grpc.ServicerContext, raised: bool) -> grpc.StatusCode:
    """The status the client gets, as far as the server can tell."""
    # `code()` is in grpcio's ServicerContext but not in its type stubs.
    code: grpc.StatusCode | None = getattr(context, "code", lambda: None)()
    if isinstance(code, grpc.StatusCode):
        return code
    if not context.is_active():
        remaining = context.time_remaining()
        expired = remaining is not None and remaining <= 0
        return grpc.StatusCode.DEADLINE_EXCEEDED if expired else grpc.StatusCode.CANCELLED
    return grpc.StatusCode.UNKNOWN if raised else grpc.StatusCode.OK


def find_request_id(metadata: Any) -> str | None:
    """The caller's x-request-id, if it is a sane token; anything else is not logged."""
    for key, value in metadata or ():
        if key == REQUEST_ID_HEADER and isinstance(value, str):
            if 0 < len(value) <= _REQUEST_ID_MAX and set(value) <= _REQUEST_ID_CHARS:
                return value
            return None
    return None


def _grpc_type(method: str) -> str:
    """The grpc_type of a served method, from its descriptor."""
    service, _, name = method.lstrip("/").rpartition("/")
    descriptor = descriptor_pool.Default().FindServiceByName(service).FindMethodByName(name)
    return _GRPC_TYPES[descriptor.client_streaming, descriptor.server_streaming]
