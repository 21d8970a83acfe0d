"""A server interceptor that counts, times and logs every call: metrics and access logs.

Python interceptors see only the handler, so the final status is read after the wrapped
behaviour: the code `context.abort` set, or what an escaping exception or a gone client means.
"""

from __future__ import annotations

import logging
import string
import time
from collections.abc import Callable, Iterator
from typing import Any

import grpc

from findsvc.entrypoints.metrics import Metrics

access_log = logging.getLogger("findsvc.access")

REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID_CHARS = frozenset(string.ascii_letters + string.digits + "-_.:/+=")
_REQUEST_ID_MAX = 128
# The kubelet probes every few seconds: its calls are logged only at DEBUG.
_QUIET_SERVICES = frozenset({"grpc.health.v1.Health"})

Behavior = Callable[[Any, grpc.ServicerContext], Any]


class CallObserver(grpc.ServerInterceptor):  # type: ignore[type-arg]
    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler[Any, Any] | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(handler.unary_unary, method, "unary"),
                handler.request_deserializer,
                handler.response_serializer,
            )
        if handler.stream_unary is not None:
            return grpc.stream_unary_rpc_method_handler(
                self._unary(handler.stream_unary, method, "client_stream"),
                handler.request_deserializer,
                handler.response_serializer,
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._streaming(handler.unary_stream, method, "server_stream"),
                handler.request_deserializer,
                handler.response_serializer,
            )
        if handler.stream_stream is not None:
            return grpc.stream_stream_rpc_method_handler(
                self._streaming(handler.stream_stream, method, "bidi_stream"),
                handler.request_deserializer,
                handler.response_serializer,
            )
        return handler

    def _unary(self, behavior: Behavior, method: str, grpc_type: str) -> Behavior:
        def observed(request: Any, context: grpc.ServicerContext) -> Any:
            call = _Call(self._metrics, method, grpc_type, context)
            raised = True
            try:
                response = behavior(request, context)
                raised = False
                return response
            finally:
                call.finish(raised)

        return observed

    def _streaming(self, behavior: Behavior, method: str, grpc_type: str) -> Behavior:
        def observed(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            call = _Call(self._metrics, method, grpc_type, context)
            raised = True
            try:
                yield from behavior(request, context)
                raised = False
            finally:
                call.finish(raised)

        return observed


class _Call:
    def __init__(
        self, metrics: Metrics, method: str, grpc_type: str, context: grpc.ServicerContext
    ) -> None:
        self._metrics = metrics
        self._method = method
        service, _, name = method.lstrip("/").rpartition("/")
        self._labels = (grpc_type, service, name)
        self._quiet = service in _QUIET_SERVICES
        self._context = context
        self._started = time.perf_counter()
        metrics.grpc_started.labels(*self._labels).inc()

    def finish(self, raised: bool) -> None:
        seconds = time.perf_counter() - self._started
        code = final_code(self._context, raised)
        self._metrics.grpc_handled.labels(*self._labels, code.name).inc()
        self._metrics.grpc_handling_seconds.labels(*self._labels).observe(seconds)
        fields: dict[str, Any] = {
            "method": self._method,
            "code": code.name,
            "duration_ms": round(seconds * 1000, 3),
            "peer": self._context.peer(),
        }
        request_id = find_request_id(self._context.invocation_metadata())
        if request_id is not None:
            fields["request_id"] = request_id
        level = logging.DEBUG if self._quiet else logging.INFO
        # Never the request or the status details: both can carry user data.
        access_log.log(level, "%s %s", self._method, code.name, extra=fields)


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
