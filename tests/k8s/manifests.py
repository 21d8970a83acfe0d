"""The kustomize overlays rendered as `kubectl apply -k` would send them, and ways to read them."""

from __future__ import annotations

import functools
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from devkit import ROOT

K8S_DIR = ROOT / "k8s"
OVERLAYS = ("dev", "prod")
every_overlay = pytest.mark.parametrize("name", OVERLAYS)
# The oldest Kubernetes the manifests are for (native gRPC probes and matchLabelKeys in
# topology spread need >= 1.27), and the newest schema kubernetes-validate ships.
K8S_VERSIONS = ("1.30.0", "1.37.0")

Obj = dict[str, Any]
# Custom resources kubernetes-validate has no schema for; tests/k8s/test_monitoring_manifests.py
# checks their shape and content instead.
CUSTOM_RESOURCE_APIS = ("monitoring.coreos.com/v1",)


@functools.cache
def render(path: str) -> tuple[Obj, ...]:
    kubectl = shutil.which("kubectl")
    assert kubectl, "the k8s tests need kubectl (kubectl kustomize) on PATH"
    rendered = subprocess.run(
        [kubectl, "kustomize", str(K8S_DIR / path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert rendered.returncode == 0, rendered.stderr
    return tuple(doc for doc in yaml.safe_load_all(rendered.stdout) if doc)


def overlay(name: str) -> tuple[Obj, ...]:
    return render(f"overlays/{name}")


def the(objects: tuple[Obj, ...], kind: str, name: str | None = None) -> Obj:
    found = [o for o in objects if o["kind"] == kind and name in (None, o["metadata"]["name"])]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def of_kind(objects: tuple[Obj, ...], kind: str) -> list[Obj]:
    return [o for o in objects if o["kind"] == kind]


def pod_specs(objects: tuple[Obj, ...]) -> Iterator[tuple[str, Obj]]:
    for o in objects:
        if o["kind"] in ("Deployment", "StatefulSet", "Job", "DaemonSet"):
            yield f"{o['kind']}/{o['metadata']['name']}", o["spec"]["template"]["spec"]


def containers(pod_spec: Obj) -> list[Obj]:
    return [*pod_spec.get("initContainers", []), *pod_spec["containers"]]


def findsvc_container(objects: tuple[Obj, ...]) -> Obj:
    pod = the(objects, "Deployment", "findsvc")["spec"]["template"]["spec"]
    return next(c for c in pod["containers"] if c["name"] == "findsvc")


def container_env(objects: tuple[Obj, ...], container: Obj) -> dict[str, str]:
    """The environment the kubelet gives the container: envFrom ConfigMaps, then env."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        config_map = the(objects, "ConfigMap", source["configMapRef"]["name"])
        env.update(config_map["data"])
    for var in container.get("env", []):
        assert "value" in var, f"{var['name']} comes from elsewhere than a literal"
        env[var["name"]] = var["value"]
    return env


def port_number(container: Obj, name: str) -> int:
    return next(p["containerPort"] for p in container["ports"] if p["name"] == name)
