"""Interceptors run for every call: each wraps a method's handler once, then reuses it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc

Handler = Any  # grpc.RpcMethodHandler; its stubs are not generic at run time


class WrapOnce:
    def __init__(self, wrap: Callable[[Handler, str], Handler]) -> None:
        self._wrap = wrap
        # Keyed by the handler's id and the method: one refusing handler may serve many methods.
        self._wrapped: dict[tuple[int, str], tuple[Handler, Handler]] = {}

    def __call__(self, handler: Handler, method: str) -> Handler:
        key = (id(handler), method)
        cached = self._wrapped.get(key)
        if cached is None or cached[0] is not handler:
            cached = (handler, self._wrap(handler, method))
            self._wrapped[key] = cached
        return cached[1]


class WrappingInterceptor(grpc.ServerInterceptor):  # type: ignore[type-arg]
    """Wraps, once each, the handlers `wraps` picks; the others pass through untouched."""

    def __init__(self) -> None:
        self._wrapped = WrapOnce(self.wrap)

    def wraps(self, handler: Handler, method: str) -> bool:
        return True

    def wrap(self, handler: Handler, method: str) -> Handler:
        raise NotImplementedError

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Handler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        handler = continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or not self.wraps(handler, method):
            return handler
        return self._wrapped(handler, method)
