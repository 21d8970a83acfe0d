"""The end of a drain: refuse new calls at once, finish the admitted ones, and leave without
grpc's own shutdown.

grpc core's shutdown (server.stop()) cancels the calls that reached the server but were not
yet matched to a handler, and those that arrive after it and before the client reads the
GOAWAY: the client gets CANCELLED, which retry policies on UNAVAILABLE do not retry
(grpc/grpc#41785; the fix, PR 41786, is not in grpcio 1.85). Under steady load every stop
cut a few calls so, a refusal first did not change that: the calls that meet the stop
itself are the ones lost.

So once the drain is over, the gate answers each new FindService call at once with
UNAVAILABLE, a refusal every client retries (under round_robin, on another server); it
counts the calls admitted before it closed until gRPC reports them ended (their status sent
or the call cancelled); and once none is left, or the grace is over, the server process
exits without calling stop(). The kernel closes the connections; a call still on the wire
fails with UNAVAILABLE, which clients retry too. The typed client retries CANCELLED as well
(findsvc/client.py), for servers that do call stop().
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import grpc

from findsvc.entrypoints.wrap_once import Handler, WrapOnce


class ClosingGate(grpc.ServerInterceptor):  # type: ignore[type-arg]
    def __init__(self, service: str) -> None:
        self._prefix = f"/{service}/"
        self._closed = False
        self._running = 0
        self._idle = threading.Condition()
        self._counted = WrapOnce(self._counting)
        self._refusal = grpc.unary_unary_rpc_method_handler(_refuse)  # the request stays bytes

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Handler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        method = handler_call_details.method
        if not method.startswith(self._prefix):  # health and reflection are always served
            return continuation(handler_call_details)
        if self._closed:
            return self._refusal
        handler = continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        return self._counted(handler, method)

    def close(self) -> None:
        """From now on, new calls are refused."""
        self._closed = True

    def wait_idle(self, timeout_s: float) -> int:
        """Waits until every admitted call has ended, or timeout_s; returns how many have not."""
        with self._idle:
            self._idle.wait_for(lambda: self._running == 0, timeout_s)
            return self._running

    def _counting(self, handler: Handler, _method: str) -> Handler:
        behaviour = handler.unary_unary

        def counted(request: Any, context: grpc.ServicerContext) -> Any:
            with self._idle:
                self._running += 1
            if not context.add_callback(self._ended):  # called once the status is sent
                self._ended()  # the call has already ended
            return behaviour(request, context)

        return handler._replace(unary_unary=counted)

    def _ended(self) -> None:
        with self._idle:
            self._running -= 1
            if self._running == 0:
                self._idle.notify_all()


def _refuse(_request: bytes, context: grpc.ServicerContext) -> None:
    context.abort(grpc.StatusCode.UNAVAILABLE, "the server is shutting down; retry")
