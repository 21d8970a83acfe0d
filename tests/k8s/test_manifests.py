"""The rendered manifests: valid for the API server, and pods as a careful platform team demands
them (probes, limits, lock-down, the database password)."""

from __future__ import annotations

import kubernetes_validate
import pytest

from findsvc.config import OPTIONS, env_name, parse_database_url
from findsvc.contract import FIND_SERVICE_NAME as SERVICE_NAME
from findsvc.entrypoints.health import LIVENESS_NAME
from tests.k8s.manifests import (
    CUSTOM_RESOURCE_APIS,
    K8S_VERSIONS,
    container_env,
    containers,
    every_overlay,
    findsvc_container,
    overlay,
    pod_specs,
    port_number,
    render,
    the,
)

# Switches whose names say PASSWORD but whose values are not one.
PASSWORD_SWITCHES = {"MARIADB_RANDOM_ROOT_PASSWORD"}


class TestRendering:
    @pytest.mark.parametrize("path", ["base", "overlays/dev", "overlays/prod"])
    def test_renders_with_kustomize(self, path: str) -> None:
        kinds = {o["kind"] for o in render(path)}
        assert {"Deployment", "Service", "ConfigMap", "ServiceAccount"} <= kinds
        assert {"PodDisruptionBudget", "HorizontalPodAutoscaler", "NetworkPolicy"} <= kinds

    @every_overlay
    @pytest.mark.parametrize("version", K8S_VERSIONS)
    def test_every_object_passes_strict_schema_validation(self, name: str, version: str) -> None:
        for obj in overlay(name):
            if obj["apiVersion"] not in CUSTOM_RESOURCE_APIS:
                kubernetes_validate.validate(obj, version, strict=True)

    def test_strict_validation_rejects_an_unknown_field(self) -> None:
        service = {**the(overlay("dev"), "Service", "findsvc")}
        service["spec"] = {**service["spec"], "sessionAfinity": "None"}
        with pytest.raises(kubernetes_validate.ValidationError):
            kubernetes_validate.validate(service, K8S_VERSIONS[0], strict=True)


@every_overlay
class TestProbes:
    def test_every_probe_asks_the_health_port_findsvc_serves_it_on(self, name: str) -> None:
        objects = overlay(name)
        container = findsvc_container(objects)
        health_port = port_number(container, "health")
        assert container_env(objects, container)["FINDSVC_HEALTH_PORT"] == str(health_port)
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert container[probe]["grpc"]["port"] == health_port, probe

    def test_no_network_policy_rule_opens_the_health_port(self, name: str) -> None:
        objects = overlay(name)
        container = findsvc_container(objects)
        health = {"health", port_number(container, "health")}
        for policy in [obj for obj in objects if obj["kind"] == "NetworkPolicy"]:
            for rule in policy["spec"].get("ingress", []):
                assert rule.get("ports"), "a rule without ports opens every port"
                assert not health & {port["port"] for port in rule["ports"]}

    def test_readiness_asks_for_the_find_service(self, name: str) -> None:
        container = findsvc_container(overlay(name))
        assert container["readinessProbe"]["grpc"]["service"] == SERVICE_NAME

    def test_liveness_and_startup_ask_for_liveness(self, name: str) -> None:
        container = findsvc_container(overlay(name))
        assert container["livenessProbe"]["grpc"]["service"] == LIVENESS_NAME
        assert container["startupProbe"]["grpc"]["service"] == LIVENESS_NAME

    def test_the_server_listens_where_the_pod_says(self, name: str) -> None:
        objects = overlay(name)
        container = findsvc_container(objects)
        env = container_env(objects, container)
        assert int(env["FINDSVC_PORT"]) == port_number(container, "grpc")
        assert int(env["FINDSVC_METRICS_PORT"]) == port_number(container, "metrics")
        template = the(objects, "Deployment", "findsvc")["spec"]["template"]["metadata"]
        assert template["annotations"]["prometheus.io/port"] == env["FINDSVC_METRICS_PORT"]


@every_overlay
class TestPods:
    def test_every_container_has_requests_and_limits(self, name: str) -> None:
        for where, pod in pod_specs(overlay(name)):
            for container in containers(pod):
                for bound in ("requests", "limits"):
                    assert {"cpu", "memory"} <= container["resources"][bound].keys(), where

    def test_every_container_is_locked_down(self, name: str) -> None:
        for where, pod in pod_specs(overlay(name)):
            pod_context = pod.get("securityContext", {})
            for container in containers(pod):
                context = container["securityContext"]
                assert context.get("runAsNonRoot", pod_context.get("runAsNonRoot")), where
                assert context["readOnlyRootFilesystem"] is True, where
                assert context["allowPrivilegeEscalation"] is False, where
                assert context["capabilities"]["drop"] == ["ALL"], where
                seccomp = context.get("seccompProfile", pod_context.get("seccompProfile"))
                assert seccomp == {"type": "RuntimeDefault"}, where

    def test_no_pod_gets_a_kubernetes_token_or_service_links(self, name: str) -> None:
        for where, pod in pod_specs(overlay(name)):
            assert pod["automountServiceAccountToken"] is False, where
            assert pod["enableServiceLinks"] is False, where

    def test_the_grace_period_outlasts_drain_plus_grace(self, name: str) -> None:
        objects = overlay(name)
        env = container_env(objects, findsvc_container(objects))
        pod = the(objects, "Deployment", "findsvc")["spec"]["template"]["spec"]
        drain_and_grace = float(env["FINDSVC_DRAIN_S"]) + float(env["FINDSVC_GRACE_S"])
        assert pod["terminationGracePeriodSeconds"] > drain_and_grace

    def test_images_are_pinned(self, name: str) -> None:
        for where, pod in pod_specs(overlay(name)):
            for container in containers(pod):
                image = container["image"]
                tag = image.rpartition(":")[2] if "@" not in image else "digest"
                assert "/" not in tag and tag not in ("", "latest"), f"{where}: {image}"

    def test_every_setting_given_is_one_findsvc_knows(self, name: str) -> None:
        objects = overlay(name)
        known = {env_name(option.name) for option in OPTIONS}
        for source in findsvc_container(objects)["envFrom"]:
            config_map = the(objects, "ConfigMap", source["configMapRef"]["name"])
            assert set(config_map["data"]) <= known, config_map["metadata"]["name"]


@every_overlay
class TestDatabasePassword:
    def test_the_url_carries_no_password(self, name: str) -> None:
        objects = overlay(name)
        env = container_env(objects, findsvc_container(objects))
        assert parse_database_url(env["FINDSVC_DB_URL"]).password is None

    def test_the_password_file_is_mounted_from_a_secret(self, name: str) -> None:
        objects = overlay(name)
        pod = the(objects, "Deployment", "findsvc")["spec"]["template"]["spec"]
        container = findsvc_container(objects)
        password_file = container_env(objects, container)["FINDSVC_DB_PASSWORD_FILE"]
        mounts = [
            m for m in container["volumeMounts"] if password_file.startswith(m["mountPath"] + "/")
        ]
        assert len(mounts) == 1
        volume = next(v for v in pod["volumes"] if v["name"] == mounts[0]["name"])
        assert volume["secret"]["secretName"].startswith("findsvc-db")
        assert mounts[0]["readOnly"] is True

    def test_no_env_var_holds_a_secret_value(self, name: str) -> None:
        for where, pod in pod_specs(overlay(name)):
            for container in containers(pod):
                for var in container.get("env", []):
                    if "PASSWORD" in var["name"] and not (
                        var["name"].endswith("_FILE") or var["name"] in PASSWORD_SWITCHES
                    ):
                        assert "secretKeyRef" in var.get("valueFrom", {}), where
