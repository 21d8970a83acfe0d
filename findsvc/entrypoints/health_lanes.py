"""Health calls on threads of their own: a probe is answered even while every worker waits.

gRPC's sync server runs every call on one pool of FINDSVC_WORKERS threads. With a stuck
database those can all be waiting on it, and a kubelet probe queued behind them would time
out and get a healthy pod restarted. gRPC runs a method on another pool when its behaviour
carries `experimental_thread_pool`; this interceptor, the outermost, sets it for Health.
Check has a small lane; Watch streams hold a thread while they last, so they get their own.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
from grpc.experimental import wrap_server_method_handler

from findsvc.entrypoints.wrap_once import WrappingInterceptor

CHECK = "/grpc.health.v1.Health/Check"
WATCH = "/grpc.health.v1.Health/Watch"
CHECK_THREADS = 2
WATCH_THREADS = 8


class HealthLanes(WrappingInterceptor):
    def __init__(self) -> None:
        super().__init__()
        self._lanes = {
            CHECK: ThreadPoolExecutor(CHECK_THREADS, thread_name_prefix="health-check"),
            WATCH: ThreadPoolExecutor(WATCH_THREADS, thread_name_prefix="health-watch"),
        }

    def wraps(self, handler: grpc.RpcMethodHandler[Any, Any], method: str) -> bool:
        return method in self._lanes

    def wrap(
        self, handler: grpc.RpcMethodHandler[Any, Any], method: str
    ) -> grpc.RpcMethodHandler[Any, Any]:
        lane = self._lanes[method]

        def onto_lane(behaviour: Callable[..., Any]) -> Callable[..., Any]:
            def on_lane(request: Any, context: grpc.ServicerContext) -> Any:
                return behaviour(request, context)

            on_lane.experimental_thread_pool = lane  # type: ignore[attr-defined]
            return on_lane

        wrapped: grpc.RpcMethodHandler[Any, Any] = wrap_server_method_handler(onto_lane, handler)  # type: ignore[no-untyped-call]
        return wrapped

    def close(self) -> None:
        for lane in self._lanes.values():
            lane.shutdown(wait=False, cancel_futures=True)
