"""The rendered manifests' Services and NetworkPolicies: who reaches findsvc's pods, and where
they may go."""

from __future__ import annotations

from tests.k8s.manifests import (
    every_overlay,
    overlay,
    pod_specs,
    the,
)


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
