"""What each overlay adds: prod's disruption budget, spread, TLS and registry; dev's MariaDB
and schema job."""

from __future__ import annotations

import ipaddress

from findsvc.adapters.mysql.grants import read_only_account_sql
from findsvc.config import parse_database_url
from tests.k8s.manifests import (
    container_env,
    containers,
    findsvc_container,
    of_kind,
    overlay,
    pod_specs,
    the,
)


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
