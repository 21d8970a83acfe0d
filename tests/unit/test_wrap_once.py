"""WrapOnce: a handler is wrapped once per method, then the wrapped one is reused."""

from __future__ import annotations

from findsvc.entrypoints.wrap_once import Handler, WrapOnce


class Recorder:
    def __init__(self) -> None:
        self.wrapped: list[tuple[object, str]] = []

    def __call__(self, handler: Handler, method: str) -> Handler:
        self.wrapped.append((handler, method))
        return ("wrapped", handler, method)


class TestWrapOnce:
    def test_wraps_a_handler_once_and_then_reuses_it(self) -> None:
        wrap = Recorder()
        once = WrapOnce(wrap)
        handler = object()
        first = once(handler, "/svc/Find")
        assert once(handler, "/svc/Find") is first
        assert wrap.wrapped == [(handler, "/svc/Find")]

    def test_one_handler_serving_two_methods_is_wrapped_for_each(self) -> None:
        wrap = Recorder()
        once = WrapOnce(wrap)
        handler = object()
        assert once(handler, "/svc/A") != once(handler, "/svc/B")
        assert len(wrap.wrapped) == 2

    def test_a_new_handler_for_a_method_is_wrapped_anew(self) -> None:
        wrap = Recorder()
        once = WrapOnce(wrap)
        old, new = object(), object()
        once(old, "/svc/Find")
        assert once(new, "/svc/Find") == ("wrapped", new, "/svc/Find")
