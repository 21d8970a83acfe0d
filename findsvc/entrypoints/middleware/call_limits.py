"""What every call gets before the servicer sees it: a strict decode and its deadline."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

import grpc
from google.protobuf.message import DecodeError

from findsvc.domain.deadline import deadline_in
from findsvc.entrypoints.wrap_once import WrappingInterceptor

Decode = Callable[[bytes], Any]


class CallLimits(WrappingInterceptor):
    """Malformed request bytes get INVALID_ARGUMENT (gRPC's own answer is INTERNAL), on every
    kind of method: gRPC's decoder is taken out and the request decoded here instead. For
    unary calls, the caller's remaining deadline becomes the budget that adapters honour."""

    def wrap(
        self, handler: grpc.RpcMethodHandler[Any, Any], method: str
    ) -> grpc.RpcMethodHandler[Any, Any]:
        decode = handler.request_deserializer or (lambda raw: raw)
        if handler.unary_unary is not None:
            return handler._replace(  # type: ignore[attr-defined,no-any-return]
                unary_unary=_unary(handler.unary_unary, decode), request_deserializer=None
            )
        if handler.unary_stream is not None:
            return handler._replace(  # type: ignore[attr-defined,no-any-return]
                unary_stream=_decoded_first(handler.unary_stream, decode),
                request_deserializer=None,
            )
        if handler.stream_unary is not None:
            return handler._replace(  # type: ignore[attr-defined,no-any-return]
                stream_unary=_decoded_each(handler.stream_unary, decode),
                request_deserializer=None,
            )
        assert handler.stream_stream is not None
        return handler._replace(  # type: ignore[attr-defined,no-any-return]
            stream_stream=_decoded_each(handler.stream_stream, decode), request_deserializer=None
        )


def _refuse(context: grpc.ServicerContext) -> NoReturn:
    context.abort(grpc.StatusCode.INVALID_ARGUMENT, "the request is not a valid message")
    raise AssertionError("abort raises")


def _decoded(raw: bytes, decode: Decode, context: grpc.ServicerContext) -> Any:
    try:
        return decode(raw)
    except DecodeError:
        _refuse(context)


def _unary(behaviour: Callable[..., Any], decode: Decode) -> Callable[..., Any]:
    def limited(raw: bytes, context: grpc.ServicerContext) -> Any:
        request = _decoded(raw, decode, context)
        remaining = context.time_remaining()
        if remaining is None or math.isinf(remaining):
            return behaviour(request, context)
        with deadline_in(remaining, set_by_caller=True):
            return behaviour(request, context)

    return limited


def _decoded_first(behaviour: Callable[..., Any], decode: Decode) -> Callable[..., Any]:
    def limited(raw: bytes, context: grpc.ServicerContext) -> Any:
        return behaviour(_decoded(raw, decode, context), context)

    return limited


def _decoded_each(behaviour: Callable[..., Any], decode: Decode) -> Callable[..., Any]:
    def limited(raws: Iterator[bytes], context: grpc.ServicerContext) -> Any:
        return behaviour((_decoded(raw, decode, context) for raw in raws), context)

    return limited
