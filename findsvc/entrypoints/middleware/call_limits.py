"""What every call gets before the servicer sees it: a strict decode and its deadline."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, NoReturn

import grpc
from google.protobuf.message import DecodeError

from findsvc.domain import deadline
from findsvc.entrypoints.wrap_once import WrappingInterceptor

Decode = Callable[[bytes], Any]


class CallLimits(WrappingInterceptor):
    """Malformed request bytes get INVALID_ARGUMENT (gRPC's own answer is INTERNAL), on every
    kind of method: gRPC's decoder is taken out and the request decoded here instead. For
    unary calls, the call's one time budget is set here (deadline.for_call): the caller's
    remaining deadline, capped by `cap_s` (FINDSVC_DB_TIMEOUT_S), which is also the budget of a
    call with no deadline. Nothing below narrows it again."""

    def __init__(self, cap_s: float) -> None:
        super().__init__()
        self._cap_s = cap_s

    def wrap(
        self, handler: grpc.RpcMethodHandler[Any, Any], method: str
    ) -> grpc.RpcMethodHandler[Any, Any]:
        decode = handler.request_deserializer or (lambda raw: raw)
        if handler.unary_unary is not None:
            return handler._replace(  # type: ignore[attr-defined,no-any-return]
                unary_unary=_unary(handler.unary_unary, decode, self._cap_s),
                request_deserializer=None,
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


def _unary(behaviour: Callable[..., Any], decode: Decode, cap_s: float) -> Callable[..., Any]:
    def limited(raw: bytes, context: grpc.ServicerContext) -> Any:
        request = _decoded(raw, decode, context)
        with deadline.within(deadline.for_call(context.time_remaining(), cap_s)):
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
