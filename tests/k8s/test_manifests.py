"""The rendered manifests: valid for the API server, and what a careful platform team demands."""

from __future__ import annotations

import ipaddress

import kubernetes_validate
import pytest

from findsvc.adapters.mysql.grants import read_only_account_sql
from findsvc.config import OPTIONS, env_name, parse_database_url
from findsvc.contract import FIND_SERVICE_NAME as SERVICE_NAME
from findsvc.entrypoints.health import LIVENESS_NAME
from tests.k8s.manifests import (
    CUSTOM_RESOURCE_APIS,
    K8S_VERSIONS,
    OVERLAYS,
    container_env,
    containers,
    findsvc_container,
    of_kind,
    overlay,
    pod_specs,
    port_number,
    render,
    the,
)

every_overlay = pytest.mark.parametrize("name", OVERLAYS)
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


class TestServices:
    @every_overlay
    def test_the_cluster_ip_service_speaks_grpc(self, name: str) -> None:
        port = the(overlay(name), "Service", "findsvc")["spec"]["ports"][0]
        assert (port["name"], port["appProtocol"], port["targetPort"]) == ("grpc", "grpc", "grpc")

    @every_overlay
    def test_the_headless_service_lists_pods_for_round_robin(self, name: str) -> None:
        spec = the(overlay(name), "Service", "findsvc-headless")["spec"]
        assert spec["clusterIP"] == "None"
        assert any(p["name"] == "grpc" and p["appProtocol"] == "grpc" for p in spec["ports"])

    @every_overlay
    def test_services_pdb_and_policy_select_the_findsvc_pods(self, name: str) -> None:
        objects = overlay(name)
        pod_labels = the(objects, "Deployment", "findsvc")["spec"]["template"]["metadata"]
        selectors: list[dict[str, str]] = [
            the(objects, "Service", "findsvc")["spec"]["selector"],
            the(objects, "Service", "findsvc-headless")["spec"]["selector"],
            the(objects, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"],
            the(objects, "NetworkPolicy", "findsvc")["spec"]["podSelector"]["matchLabels"],
        ]
        for selector in selectors:
            assert selector.items() <= pod_labels["labels"].items()

    def test_no_other_pod_is_selected_as_a_server(self) -> None:
        objects = overlay("dev")
        selector = the(objects, "Service", "findsvc")["spec"]["selector"].items()
        for where, _pod in pod_specs(objects):
            kind, _, obj_name = where.partition("/")
            labels = the(objects, kind, obj_name)["spec"]["template"]["metadata"]["labels"]
            assert (selector <= labels.items()) == (where == "Deployment/findsvc"), where


class TestNetworkPolicy:
    def test_in_dev_labelled_clients_reach_grpc_and_rest_and_only_prometheus_reaches_metrics(
        self,
    ) -> None:
        # Prod admits callers by namespace instead: tests/k8s/test_prod_callers.py.
        policy = the(overlay("dev"), "NetworkPolicy", "findsvc")["spec"]
        assert set(policy["policyTypes"]) == {"Ingress", "Egress"}
        by_port = {rule["ports"][0]["port"]: rule["from"] for rule in policy["ingress"]}
        assert set(by_port) == {"grpc", "http", "metrics"}
        clients = by_port["grpc"][0]["podSelector"]["matchLabels"]
        assert clients == {"ums.glarimy.com/findsvc-client": "true"}
        rest_clients = by_port["http"][0]["podSelector"]["matchLabels"]
        assert rest_clients == {"ums.glarimy.com/findsvc-rest-client": "true"}
        scrapers = by_port["metrics"][0]["podSelector"]["matchLabels"]
        assert scrapers == {"app.kubernetes.io/name": "prometheus"}

    @every_overlay
    def test_egress_goes_only_to_dns_and_mysql(self, name: str) -> None:
        policy = the(overlay(name), "NetworkPolicy", "findsvc")["spec"]
        ports = {(p["port"], p["protocol"]) for rule in policy["egress"] for p in rule["ports"]}
        assert ports == {(53, "UDP"), (53, "TCP"), (3306, "TCP")}
        assert all(rule.get("to") for rule in policy["egress"]), "an egress rule to anywhere"


class TestProd:
    def test_at_least_two_pods_serve_through_any_voluntary_disruption(self) -> None:
        objects = overlay("prod")
        assert the(objects, "HorizontalPodAutoscaler")["spec"]["minReplicas"] >= 3
        assert the(objects, "PodDisruptionBudget")["spec"]["minAvailable"] >= 2
        strategy = the(objects, "Deployment", "findsvc")["spec"]["strategy"]
        assert strategy["rollingUpdate"]["maxUnavailable"] == 0

    def test_pods_spread_over_nodes_and_zones(self) -> None:
        pod = the(overlay("prod"), "Deployment", "findsvc")["spec"]["template"]
        constraints = pod["spec"]["topologySpreadConstraints"]
        keys = {c["topologyKey"] for c in constraints if c["whenUnsatisfiable"] == "DoNotSchedule"}
        assert keys == {"kubernetes.io/hostname", "topology.kubernetes.io/zone"}
        for constraint in constraints:
            assert (
                constraint["labelSelector"]["matchLabels"].items()
                <= pod["metadata"]["labels"].items()
            )

    def test_no_secret_is_shipped(self) -> None:
        assert of_kind(overlay("prod"), "Secret") == []

    def test_mysql_is_reached_over_tls_that_checks_the_servers_name(self) -> None:
        objects = overlay("prod")
        pod = the(objects, "Deployment", "findsvc")["spec"]["template"]["spec"]
        container = findsvc_container(objects)
        env = container_env(objects, container)
        assert env["FINDSVC_DB_TLS"] == "verify-identity"
        mount = next(
            m
            for m in container["volumeMounts"]
            if env["FINDSVC_DB_TLS_CA"].startswith(m["mountPath"] + "/")
        )
        volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
        assert volume.get("configMap") or volume.get("secret")
        assert mount["readOnly"] is True

    def test_mysql_is_reached_only_at_its_own_addresses(self) -> None:
        policy = the(overlay("prod"), "NetworkPolicy", "findsvc")["spec"]
        mysql = next(r for r in policy["egress"] if r["ports"][0]["port"] == 3306)
        for peer in mysql["to"]:
            network = ipaddress.ip_network(peer["ipBlock"]["cidr"])
            assert network.prefixlen >= 16, "too wide for one database"

    def test_the_image_comes_from_a_registry(self) -> None:
        image = findsvc_container(overlay("prod"))["image"]
        assert "/" in image.partition(":")[0]


class TestDev:
    def test_its_only_secret_is_marked_dev_only(self) -> None:
        secrets = of_kind(overlay("dev"), "Secret")
        assert len(secrets) == 1
        assert secrets[0]["metadata"]["annotations"]["ums.glarimy.com/dev-only"] == "true"

    def test_mariadb_runs_in_the_namespace_and_findsvc_points_at_it(self) -> None:
        objects = overlay("dev")
        database = the(objects, "StatefulSet", "findsvc-mariadb")
        service = the(objects, "Service", database["spec"]["serviceName"])
        env = container_env(objects, findsvc_container(objects))
        url = parse_database_url(env["FINDSVC_DB_URL"])
        assert url.host == service["metadata"]["name"]
        assert url.port == service["spec"]["ports"][0]["port"]

    def test_mariadb_writes_the_binlog_the_cache_follows_and_findsvc_may_read_it(
        self,
    ) -> None:
        objects = overlay("dev")
        database = the(objects, "StatefulSet", "findsvc-mariadb")["spec"]["template"]["spec"]
        args = containers(database)[0]["args"]
        for option in ("--binlog-format=ROW", "--binlog-row-metadata=FULL", "--server-id=1"):
            assert option in args
        assert any(arg.startswith("--log-bin") for arg in args)
        init = the(objects, "ConfigMap", "findsvc-mariadb-initdb")["data"]
        env = container_env(objects, findsvc_container(objects))
        user = parse_database_url(env["FINDSVC_DB_URL"]).user
        grants = read_only_account_sql(user, "%", "glarimy", None, binlog="mariadb")
        binlog_grant = next(line for line in grants.splitlines() if "REPLICATION" in line)
        assert binlog_grant in init["binlog-grants.sql"].splitlines()

    def test_a_job_creates_the_schema_with_findsvc_db_init(self) -> None:
        job = the(overlay("dev"), "Job", "findsvc-schema")["spec"]["template"]["spec"]
        commands = [c["command"] + c["args"] for c in containers(job)]
        assert ["findsvc", "db", "init"] in commands

    def test_the_database_admits_only_findsvc_pods(self) -> None:
        objects = overlay("dev")
        policy = the(objects, "NetworkPolicy", "findsvc-mariadb")["spec"]
        admitted = policy["ingress"][0]["from"][0]["podSelector"]["matchLabels"]
        for where, _pod in pod_specs(objects):
            kind, _, obj_name = where.partition("/")
            labels = the(objects, kind, obj_name)["spec"]["template"]["metadata"]["labels"]
            if kind != "StatefulSet":
                assert admitted.items() <= labels.items(), where
        assert policy["egress"] == []
