"""Interceptors run for every call: each wraps a method's handler once, then reuses it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
