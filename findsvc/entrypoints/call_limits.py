"""What every unary call gets before the servicer sees it: a strict decode and its deadline."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import grpc
from google.protobuf.message import DecodeError

from findsvc.domain.deadline import deadline_in
from findsvc.entrypoints.wrap_once import WrapOnce


class CallLimits(grpc.ServerInterceptor):  # type: ignore[type-arg]
    """Malformed request bytes get INVALID_ARGUMENT (gRPC's own answer is INTERNAL), and the
    caller's remaining deadline becomes the budget that adapters honour."""

    def __init__(self) -> None:
        self._wrapped = WrapOnce(_limited)

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler[Any, Any] | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        wrapped: grpc.RpcMethodHandler[Any, Any] = self._wrapped(
            handler, handler_call_details.method
        )
        return wrapped


def _limited(
    handler: grpc.RpcMethodHandler[Any, Any], _method: str
) -> grpc.RpcMethodHandler[Any, Any]:
    behaviour = handler.unary_unary
    assert behaviour is not None
    decode = handler.request_deserializer

    def limited(raw: bytes, context: grpc.ServicerContext) -> Any:
        try:
            request = decode(raw) if decode is not None else raw
        except DecodeError:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "the request is not a valid message")
        remaining = context.time_remaining()
        if remaining is None or math.isinf(remaining):
            return behaviour(request, context)
        with deadline_in(remaining, set_by_caller=True):
            return behaviour(request, context)

    return grpc.unary_unary_rpc_method_handler(
        limited, request_deserializer=None, response_serializer=handler.response_serializer
    )
