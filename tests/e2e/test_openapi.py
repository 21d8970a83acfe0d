"""envoy/openapi.yaml and the running gateway cannot disagree: schemathesis generates requests
from the spec (valid ones and not) and checks each answer of a real Envoy in front of a real
findsvc against it: documented status, content type, headers and body schema, no 5xx."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from devkit.envoy import EnvoyProcess
from protos.openapi import SPEC

SCHEMA = schemathesis.openapi.from_path(SPEC)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@SCHEMA.parametrize()
# A bounded run (a few seconds per call here): enough to meet each status the spec lists.
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_gateway_answers_as_the_spec_says(case: schemathesis.Case, envoy: EnvoyProcess) -> None:
    case.call_and_validate(base_url=f"http://127.0.0.1:{envoy.port}", checks=CHECKS)
