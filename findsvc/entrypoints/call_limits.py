"""What every unary call gets before the servicer sees it: a strict decode and its deadline."""

from __future__ import annotations

import math
from typing import Any

import grpc
from google.protobuf.message import DecodeError

from findsvc.domain.deadline import deadline_in
from findsvc.entrypoints.wrap_once import WrappingInterceptor


class CallLimits(WrappingInterceptor):
    """Malformed request bytes get INVALID_ARGUMENT (gRPC's own answer is INTERNAL), and the
    caller's remaining deadline becomes the budget that adapters honour."""

    def wraps(self, handler: grpc.RpcMethodHandler[Any, Any], method: str) -> bool:
        return handler.unary_unary is not None

    def wrap(
        self, handler: grpc.RpcMethodHandler[Any, Any], method: str
    ) -> grpc.RpcMethodHandler[Any, Any]:
        return _limited(handler, method)


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
