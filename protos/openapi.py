"""Generates envoy/openapi.yaml, the OpenAPI 3.1 description of the REST calls Envoy serves,
from the descriptor set Envoy's transcoder reads (envoy/find_service.binpb): the paths of the
google.api.http options, the messages as the transcoder prints them (proto field names, int64
as a string), and every status the gateway answers, each with its google.rpc.Status body.

Run through `make proto` (after protos/generate.py); a test compares the committed file, and
another runs schemathesis with it against a real Envoy and findsvc.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml
from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor

REPO = Path(__file__).resolve().parent.parent
DESCRIPTOR = REPO / "envoy" / "find_service.binpb"
SPEC = REPO / "envoy" / "openapi.yaml"
SERVICE = "glarimy.ums.find.v1.FindService"

# What each status means when the gateway answers it (docs/rest.md has the table).
ERRORS = {
    "400": "INVALID_ARGUMENT: a name that breaks the rules, or a malformed request",
    "401": "UNAUTHENTICATED: findsvc wants a bearer token (FINDSVC_AUTH_TOKENS_FILE)",
    "404": "NOT_FOUND: no user has that name, or no REST call has this method and path",
    "413": "the request body is over 64 KiB",
    "429": "RESOURCE_EXHAUSTED: findsvc is at its concurrency limit; retry with backoff",
    "500": "INTERNAL or DATA_LOSS: a fault, or a stored record that breaks the rules",
    "503": "UNAVAILABLE: the user database (or findsvc) is unavailable; retry with backoff",
    "504": "DEADLINE_EXCEEDED: findsvc did not answer in time",
}
SCALARS = {
    FieldDescriptor.TYPE_STRING: {"type": "string"},
    FieldDescriptor.TYPE_BOOL: {"type": "boolean"},
    FieldDescriptor.TYPE_INT32: {"type": "integer", "format": "int32"},
    # proto3's JSON mapping writes 64-bit integers as strings (JavaScript's numbers cannot
    # hold them all).
    FieldDescriptor.TYPE_INT64: {"type": "string", "format": "int64", "pattern": "^-?[0-9]+$"},
}
WELL_KNOWN = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Any": {
        "type": "object",
        "properties": {"@type": {"type": "string"}},
        "required": ["@type"],
    },
}


def _pool() -> descriptor_pool.DescriptorPool:
    files = descriptor_pb2.FileDescriptorSet.FromString(DESCRIPTOR.read_bytes())
    pool = descriptor_pool.DescriptorPool()
    for file in files.file:
        pool.Add(file)
    return pool


def _schema_name(message: Descriptor) -> str:
    return message.full_name.rpartition(".")[2]


def _field_schema(field: FieldDescriptor, schemas: dict[str, Any]) -> dict[str, Any]:
    if field.message_type is not None:
        one = WELL_KNOWN.get(field.message_type.full_name) or _ref(field.message_type, schemas)
    else:
        one = SCALARS[field.type]
    if field.is_repeated:
        return {"type": "array", "items": one}
    return dict(one)


def _ref(message: Descriptor, schemas: dict[str, Any]) -> dict[str, str]:
    """A $ref to the message's schema, adding it (and what it holds) on first use."""
    name = _schema_name(message)
    if name not in schemas:
        schemas[name] = {}  # placed first: a message may hold itself
        schemas[name] = {
            "type": "object",
            "properties": {f.name: _field_schema(f, schemas) for f in message.fields},
            "additionalProperties": False,
        }
    return {"$ref": f"#/components/schemas/{name}"}


def _errors(*statuses: str) -> dict[str, Any]:
    status_body = {"application/json": {"schema": {"$ref": "#/components/schemas/Status"}}}
    return {code: {"description": ERRORS[code], "content": status_body} for code in statuses}


def _rest_binding(rule: http_pb2.HttpRule) -> tuple[str, str]:
    """The method and path of an HttpRule; only the primary binding is REST (the additional
    ones on the gRPC path are for Connect clients, docs/browsers.md)."""
    method = rule.WhichOneof("pattern")
    return method, getattr(rule, method)


def _operation(method: MethodDescriptor, schemas: dict[str, Any]) -> tuple[str, str, Any]:
    rule = method.GetOptions().Extensions[annotations_pb2.http]
    verb, path = _rest_binding(rule)
    answer = {
        "description": "the answer, as proto3's JSON mapping with the proto's field names",
        "content": {"application/json": {"schema": _ref(method.output_type, schemas)}},
    }
    operation: dict[str, Any] = {"operationId": method.name, "summary": f"{SERVICE}.{method.name}"}
    statuses = ["400", "401", "404", "429", "500", "503", "504"]
    not_modified: dict[str, Any] = {}
    if rule.body:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(method.input_type, schemas)}},
        }
        statuses.insert(3, "413")
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in path.replace("}", "{").split("{")[1::2]
    ]
    if verb == "get":
        # FindUser's answers carry an ETag (findsvc's) and the operator's Cache-Control.
        parameters.append({"name": "If-None-Match", "in": "header", "schema": {"type": "string"}})
        answer["headers"] = {
            "ETag": {"schema": {"type": "string"}, "description": "changes when the record does"},
            "Cache-Control": {"schema": {"type": "string"}, "description": "FINDSVC_CACHE_CONTROL"},
        }
        not_modified = {"304": {"description": "If-None-Match named the current ETag; no body"}}
    if parameters:
        operation["parameters"] = parameters
    operation["responses"] = {"200": answer, **not_modified, **_errors(*statuses)}
    return path, verb, operation


def _lookup_page() -> dict[str, Any]:
    query = [
        {"name": name, "in": "query", "schema": {"type": "string"}, "description": what}
        for name, what in (("name", "looked up at once"), ("via", "rest or connect"))
    ]
    return {
        "get": {
            "operationId": "LookupPage",
            "summary": "the lookup page (HTML, for people)",
            "parameters": query,
            "responses": {"200": {"description": "the page", "content": {"text/html": {}}}},
        }
    }


def spec() -> dict[str, Any]:
    pool = _pool()
    service = pool.FindServiceByName(SERVICE)
    schemas: dict[str, Any] = {}
    paths: dict[str, Any] = {"/": _lookup_page()}
    for method in service.methods:
        path, verb, operation = _operation(method, schemas)
        paths.setdefault(path, {})[verb] = operation
    _ref(pool.FindMessageTypeByName("google.rpc.Status"), schemas)
    schemas["Status"]["required"] = ["code", "message", "details"]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "findsvc REST (through Envoy)",
            "version": "v1",
            "description": "Generated by protos/openapi.py from envoy/find_service.binpb: "
            "do not edit. No query string is accepted on a REST call (400).",
        },
        "servers": [{"url": "http://127.0.0.1:8080", "description": "make rest"}],
        "paths": paths,
        "components": {"schemas": dict(sorted(schemas.items()))},
    }


class _Dumper(yaml.SafeDumper):
    """Each schema written out where it is used: no &anchors and *aliases to follow."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def render() -> str:
    header = "# Generated by protos/openapi.py (make proto) from envoy/find_service.binpb.\n"
    body = yaml.dump(spec(), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return header + body


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else SPEC
    target.write_text(render())
