"""Who may call findsvc in prod, as the rendered prod overlay says: only namespaces the operator
lists reach gRPC and REST (by the name Kubernetes gives each namespace, not a label a pod can
set), and every FindService call needs a token from a Secret (not shipped: test_manifests.py)."""

from __future__ import annotations

from pathlib import PurePosixPath

from tests.k8s.manifests import Obj, container_env, findsvc_container, overlay, the

NAMESPACE_NAME = "kubernetes.io/metadata.name"


def ingress_from(port: str) -> list[Obj]:
    policy = the(overlay("prod"), "NetworkPolicy", "findsvc")["spec"]
    [rule] = [r for r in policy["ingress"] if [p["port"] for p in r["ports"]] == [port]]
    peers: list[Obj] = rule["from"]
    return peers


class TestCallersByNamespace:
    def test_grpc_and_rest_admit_listed_namespaces_by_their_own_name_only(self) -> None:
        for port in ("grpc", "http"):
            [peer] = ingress_from(port)
            assert set(peer) == {"namespaceSelector"}, f"{port}: a pod label would admit more"
            [match] = peer["namespaceSelector"]["matchExpressions"]
            assert (match["key"], match["operator"]) == (NAMESPACE_NAME, "In")
            assert match["values"], f"{port}: no namespace listed"
            assert "matchLabels" not in peer["namespaceSelector"]

    def test_no_rule_admits_callers_by_a_pod_label_alone(self) -> None:
        policy = the(overlay("prod"), "NetworkPolicy", "findsvc")["spec"]
        for rule in policy["ingress"]:
            for peer in rule["from"]:
                selector = peer.get("namespaceSelector")
                assert selector, "a peer with no namespaceSelector is this namespace's any pod"
                names = selector.get("matchLabels", {}).get(NAMESPACE_NAME) or [
                    v for m in selector.get("matchExpressions", []) for v in m["values"]
                ]
                assert names, "namespaceSelector {} is every namespace"

    def test_metrics_only_from_prometheus_in_monitoring(self) -> None:
        [peer] = ingress_from("metrics")
        assert peer["namespaceSelector"]["matchLabels"] == {NAMESPACE_NAME: "monitoring"}
        assert peer["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "prometheus"}


class TestTokenAuth:
    def test_findsvc_reads_its_tokens_from_a_mounted_secret(self) -> None:
        objects = overlay("prod")
        container = findsvc_container(objects)
        tokens_file = PurePosixPath(container_env(objects, container)["FINDSVC_AUTH_TOKENS_FILE"])
        [mount] = [
            m
            for m in container["volumeMounts"]
            if tokens_file.parent == PurePosixPath(m["mountPath"])
        ]
        assert mount["readOnly"] is True
        assert "subPath" not in mount, "a subPath mount never sees a rotated Secret"
        pod = the(objects, "Deployment", "findsvc")["spec"]["template"]["spec"]
        [volume] = [v for v in pod["volumes"] if v["name"] == mount["name"]]
        assert volume["secret"]["secretName"] == "findsvc-tokens"
        assert [(i["key"], i["path"]) for i in volume["secret"]["items"]] == [
            ("tokens", tokens_file.name)
        ]
