"""envoy/openapi.yaml is what protos/openapi.py makes from the committed descriptor set (nobody
edited it, nobody changed the proto without `make proto`), and a valid OpenAPI 3.1 document."""

from __future__ import annotations

import yaml
from openapi_spec_validator import validate

from protos.openapi import SPEC, render, spec


def test_the_committed_spec_is_the_generated_one() -> None:
    assert SPEC.read_text() == render(), "run `make proto` and commit envoy/openapi.yaml"


def test_is_a_valid_openapi_3_1_document() -> None:
    document = yaml.safe_load(SPEC.read_text())
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_describes_every_rest_call_with_int64_as_a_string() -> None:
    document = spec()
    assert set(document["paths"]) == {"/", "/user/{name}", "/users:batchFind"}
    phone = document["components"]["schemas"]["UserRecord"]["properties"]["phone"]
    assert (phone["type"], phone["format"]) == ("string", "int64")


def test_every_error_has_the_status_body() -> None:
    for path, methods in spec()["paths"].items():
        for operation in methods.values():
            for status, response in operation["responses"].items():
                if status >= "400":
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Status"}, (path, status)
