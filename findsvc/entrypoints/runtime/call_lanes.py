"""Each kind of call on threads of its own, with a cap: no caller can starve another kind.

gRPC's sync server runs a call on the pool its behaviour names in `experimental_thread_pool`,
else on the server's pool. Its one `maximum_concurrent_rpcs` counts every call alike, so idle
health `Watch` or reflection streams could take the slots (and threads) FindService and the
kubelet's probes need. Here each method has a lane: FindService calls, health `Check`,
`Watch` streams and reflection streams. A lane counts the calls queued on it or running, and
a call past its cap gets RESOURCE_EXHAUSTED at once, unless its caller holds less than its
share of the lane (fair_share.py). gRPC asks this interceptor, the outermost, on its polling
thread, just before it queues the call: the count is exact. Calls of no lane (refusals,
unknown methods) run on the server's own small pool.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import grpc
from google.protobuf.descriptor import ServiceDescriptor
from grpc.experimental import wrap_server_method_handler
from grpc_reflection.v1alpha import reflection

from findsvc.config import Settings
from findsvc.contract import FIND_SERVICE, HEALTH_SERVICE
from findsvc.entrypoints.callers import UNAUTHENTICATED
from findsvc.entrypoints.health_service import WATCHES_PER_CONNECTION
from findsvc.entrypoints.runtime.fair_share import FairShares
from findsvc.entrypoints.runtime.standing_queue import StandingQueue
from findsvc.entrypoints.wrap_once import Handler, WrappingInterceptor


class Lane(ThreadPoolExecutor):
    """A pool that knows how many calls it holds, queued or running, and how long the queued
    ones wait. It is full at `cap` calls, or while its queue stands (`standing`): under
    overload a deep queue only makes every call late (a queue that served 1,000 calls a
    second and now, starved of CPU, serves 200 turns a cap of 64 from 64 ms of waiting into
    320 ms, past a 250 ms deadline), but one call that waited through a hiccup says nothing.

    A full lane still admits a caller below its share (FairShares). `admits(caller)` decides,
    and the `submit` that follows on the same thread (gRPC's polling thread queues the call
    it has just asked the interceptors about) charges the call to that caller."""

    def __init__(
        self,
        name: str,
        threads: int,
        cap: int,
        standing: StandingQueue | None = None,
        caller_cap: int | None = None,
    ) -> None:
        super().__init__(threads, thread_name_prefix=name)
        self.cap = cap
        self._standing = standing
        self._shares = FairShares(cap, caller_cap)
        self._admitted = threading.local()  # the caller admitted last on this thread
        self._queued_at: deque[float] = deque()  # oldest first: the pool's queue is FIFO
        self._count_lock = threading.Lock()

    def admits(self, caller: str = UNAUTHENTICATED) -> bool:
        with self._count_lock:
            if not self._shares.admits(caller, self._full()):
                return False
        self._admitted.caller = caller
        return True

    def full(self) -> bool:
        with self._count_lock:
            return self._full()

    def _full(self) -> bool:
        if self._shares.total >= self.cap:
            return True
        if self._standing is None:
            return False
        oldest = time.monotonic() - self._queued_at[0] if self._queued_at else None
        return self._standing.stands(oldest)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        caller = getattr(self._admitted, "caller", UNAUTHENTICATED)
        self._admitted.caller = UNAUTHENTICATED
        with self._count_lock:
            self._shares.add(caller)
            self._queued_at.append(time.monotonic())
        try:
            future = super().submit(self._started, fn, *args, **kwargs)
        except BaseException:
            self._started(self._release, caller)
            raise
        # Runs when the task ends, however: gRPC skips the behaviour of a call gone meanwhile.
        future.add_done_callback(lambda _future: self._release(caller))
        return future

    def _started(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with self._count_lock:
            waited_s = time.monotonic() - self._queued_at.popleft()
            if self._standing is not None:
                self._standing.left_queue(waited_s)
        return fn(*args, **kwargs)

    def _release(self, caller: str) -> None:
        with self._count_lock:
            self._shares.remove(caller)


class _Inline(ThreadPoolExecutor):
    """Runs a task at once on the thread that submits it, gRPC's polling thread: no hand-off
    to another thread (under load, a wait for the GIL of up to 5 ms), no queue."""

    def __init__(self) -> None:
        super().__init__(max_workers=1)  # starts no thread: submit never reaches the pool

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:  # noqa: BLE001 - handed back as the future's outcome
            future.set_exception(error)
        return future


_INLINE = _Inline()


def refusing_at_once(behaviour: Callable[..., Any]) -> grpc.RpcMethodHandler[Any, Any]:
    """A handler for any kind of call that runs `behaviour` on the polling thread. It must
    only refuse (abort), never read the request nor wait: it streams both ways, so gRPC
    does not wait for a request message before calling it."""
    behaviour.experimental_thread_pool = _INLINE  # type: ignore[attr-defined]
    return grpc.stream_stream_rpc_method_handler(behaviour)


def _over_cap(_requests: Any, context: grpc.ServicerContext) -> Any:
    context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "too many calls of this kind in flight")


OVER_CAP = refusing_at_once(_over_cap)


CallerLabel = Callable[[str, Any], str]  # (method, metadata) -> the caller's bounded label


class CallLanes(WrappingInterceptor):
    """`lanes` maps each served method's full name to its lane; `on_refused(method, caller)`
    hears of each call refused past its lane's cap (metrics: the refusal never reaches the
    observer). `caller_label` names a call's caller (token auth knows); without it every
    call is one caller."""

    def __init__(
        self,
        lanes: Mapping[str, Lane],
        on_refused: Callable[[str, str], None] | None = None,
        caller_label: CallerLabel | None = None,
    ) -> None:
        super().__init__()
        self._lanes = dict(lanes)
        self._on_refused = on_refused
        self._caller_label = caller_label

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Handler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        method = handler_call_details.method
        lane = self._lanes.get(method)
        caller = UNAUTHENTICATED
        if lane is not None and self._caller_label is not None:
            caller = self._caller_label(method, handler_call_details.invocation_metadata)
        if lane is not None and not lane.admits(caller):
            # First let a worker have the GIL. Under a flood this thread takes calls in faster
            # than the workers answer them, and each one it must refuse costs about 120 us of CPU;
            # while it waits for the GIL, the flood queues in gRPC's C core, which refuses
            # past its limit without Python. (bench.overload: 40 % fewer refusals here, and
            # goodput at 2x from 0.88 to 0.94 of capacity, medians of 10 rounds.)
            time.sleep(0)
            if self._on_refused is not None:
                self._on_refused(method, caller)
            return OVER_CAP
        return super().intercept_service(continuation, handler_call_details)

    def wraps(self, handler: Handler, method: str) -> bool:
        return method in self._lanes

    def wrap(self, handler: Handler, method: str) -> Handler:
        lane = self._lanes[method]

        def onto_lane(behaviour: Callable[..., Any]) -> Callable[..., Any]:
            def on_lane(request: Any, context: grpc.ServicerContext) -> Any:
                return behaviour(request, context)

            on_lane.experimental_thread_pool = lane  # type: ignore[attr-defined]
            return on_lane

        wrapped: Handler = wrap_server_method_handler(onto_lane, handler)  # type: ignore[no-untyped-call]
        return wrapped

    def close(self) -> None:
        for lane in set(self._lanes.values()):
            lane.shutdown(wait=False, cancel_futures=True)


def _method(service: ServiceDescriptor, name: str) -> str:
    return f"/{service.full_name}/{name}"


CHECK = _method(HEALTH_SERVICE, "Check")
WATCH = _method(HEALTH_SERVICE, "Watch")
CHECK_THREADS = 2
# Checks are answered in microseconds: a deep queue only waits behind a flood of Checks.
CHECK_CAP = 64
# FindService calls are refused while every call for a second has waited more than 100 ms for
# a thread (see Lane): well inside the deadlines callers give, so an accepted call still has
# time to be answered; a second, so a pause of the machine sheds no call, and a closed loop
# below the cap, whose queue drains at its own pace, none either.
FIND_QUEUE_TARGET_S = 0.1
FIND_QUEUE_INTERVAL_S = 1.0


def calls_admitted(settings: Settings) -> int:
    """The most calls all lanes hold at once from one connection: more streams on it would
    only be refused, and gRPC's C core refuses them (REFUSED_STREAM, which clients retry) without
    taking the polling thread. That bounds the calls waiting for it when it falls behind."""
    reflection_cap = settings.max_reflection_streams if settings.reflection else 0
    return settings.max_concurrency + CHECK_CAP + WATCHES_PER_CONNECTION + reflection_cap


def server_lanes(settings: Settings) -> dict[str, Lane]:
    """Every method the server serves, with its lane. A stream holds a thread while it lasts,
    so a stream lane has a thread for each stream it admits. Only FindService's lane is shared
    fairly between callers: the others serve probes and tools, which name no caller."""
    standing = StandingQueue(FIND_QUEUE_TARGET_S, FIND_QUEUE_INTERVAL_S)
    find = Lane(
        "rpc", settings.workers, settings.max_concurrency, standing, settings.caller_max_concurrency
    )
    check = Lane("health-check", CHECK_THREADS, CHECK_CAP)
    watch = Lane("health-watch", settings.max_health_watches, settings.max_health_watches)
    lanes = {_method(FIND_SERVICE, m.name): find for m in FIND_SERVICE.methods}
    lanes |= {CHECK: check, WATCH: watch}
    if settings.reflection:
        streams = settings.max_reflection_streams
        reflection_lane = Lane("reflection", streams, streams)
        lanes[f"/{reflection.SERVICE_NAME}/ServerReflectionInfo"] = reflection_lane
    return lanes
