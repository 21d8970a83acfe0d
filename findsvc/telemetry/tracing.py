"""Optional OpenTelemetry tracing: `pip install 'findsvc[otel]'` and FINDSVC_TRACING=1.

Off by default. The exporter is OTLP over gRPC and takes the standard OTEL_* variables
(OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER...).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc

from findsvc.config import ConfigError

NO_TRACING: tuple[list[grpc.ServerInterceptor[Any, Any]], Callable[[], None]] = ([], lambda: None)


def tracing_interceptors(
    enabled: bool,
) -> tuple[list[grpc.ServerInterceptor[Any, Any]], Callable[[], None]]:
    """The interceptors to add, and what flushes the spans at shutdown."""
    if not enabled:
        return NO_TRACING
    try:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
        from opentelemetry.instrumentation.grpc import server_interceptor
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        raise ConfigError(
            "FINDSVC_TRACING needs the otel extra: pip install 'findsvc[otel]'"
        ) from None
    # OTEL_SERVICE_NAME, when set, wins over this default.
    provider: Any = TracerProvider(resource=Resource.create({"service.name": "findsvc"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return [server_interceptor(tracer_provider=provider)], provider.shutdown
