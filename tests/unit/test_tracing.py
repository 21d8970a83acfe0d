"""Tracing is optional: off by default, and a clear config error without its extra."""

from __future__ import annotations

import sys

import pytest

from findsvc.config import ConfigError, load
from findsvc.telemetry.tracing import tracing_interceptors


class TestTracing:
    def test_is_off_by_default(self) -> None:
        assert load({}).tracing is False

    def test_off_adds_no_interceptor(self) -> None:
        interceptors, flush = tracing_interceptors(False)
        assert interceptors == []
        flush()  # nothing to flush, and no error

    def test_on_without_the_otel_extra_says_what_to_install(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # None in sys.modules makes the import fail, as when the extra is not installed.
        monkeypatch.setitem(sys.modules, "opentelemetry", None)
        monkeypatch.setitem(sys.modules, "opentelemetry.exporter", None)
        with pytest.raises(ConfigError, match=r"pip install 'findsvc\[otel\]'"):
            tracing_interceptors(True)

    def test_is_switched_on_by_findsvc_tracing(self) -> None:
        assert load({"FINDSVC_TRACING": "1"}).tracing is True
