"""JWT auth as deployed: prod reads the cluster's keys from a ConfigMap it mounts; the URL route
binds only the issuer-discovery role and mounts only a short-lived token; a calling pod asks
for a token with findsvc's audience."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

import kubernetes_validate
import pytest
import yaml

from tests.k8s.manifests import (
    CUSTOM_RESOURCE_APIS,
    K8S_DIR,
    K8S_VERSIONS,
    Obj,
    container_env,
    findsvc_container,
    overlay,
    render,
    the,
)

AUDIENCE = "findsvc"


def mounted_volume(objects: tuple[Obj, ...], path: PurePosixPath) -> Obj:
    """The pod volume mounted where `path` lives: as a directory, never through a subPath."""
    container = findsvc_container(objects)
    [mount] = [m for m in container["volumeMounts"] if path.parent == PurePosixPath(m["mountPath"])]
    assert mount["readOnly"] is True
    assert "subPath" not in mount, "a subPath mount never sees an updated ConfigMap"
    pod = the(objects, "Deployment", "findsvc")["spec"]["template"]["spec"]
    [volume] = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    return volume


@pytest.fixture(scope="module")
def with_api_server_keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Obj, ...]:
    """The prod overlay with the URL route added, as an operator would add it."""
    folder = tmp_path_factory.mktemp("overlay")
    (folder / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                # kustomize takes relative paths only
                "resources": [os.path.relpath(K8S_DIR / "overlays" / "prod", folder)],
                "components": [
                    os.path.relpath(K8S_DIR / "components" / "jwks-from-api-server", folder)
                ],
            }
        )
    )
    return render(str(folder))


class TestProdTakesServiceAccountTokens:
    def test_from_the_keys_in_the_findsvc_jwks_config_map(self) -> None:
        objects = overlay("prod")
        env = container_env(objects, findsvc_container(objects))
        assert env["FINDSVC_AUTH_JWT_AUDIENCE"] == AUDIENCE
        assert env["FINDSVC_AUTH_JWT_ISSUER"].startswith("https://")
        jwks_file = PurePosixPath(env["FINDSVC_AUTH_JWKS_FILE"])
        volume = mounted_volume(objects, jwks_file)
        assert volume["configMap"]["name"] == "findsvc-jwks"
        assert [(i["key"], i["path"]) for i in volume["configMap"]["items"]] == [
            ("jwks.json", jwks_file.name)
        ]

    def test_beside_the_tokens_file(self) -> None:
        objects = overlay("prod")
        assert "FINDSVC_AUTH_TOKENS_FILE" in container_env(objects, findsvc_container(objects))


class TestKeysFromTheApiServer:
    def test_every_object_passes_strict_schema_validation(
        self, with_api_server_keys: tuple[Obj, ...]
    ) -> None:
        for version in K8S_VERSIONS:
            for obj in with_api_server_keys:
                if obj["apiVersion"] not in CUSTOM_RESOURCE_APIS:
                    kubernetes_validate.validate(obj, version, strict=True)

    def test_binds_only_the_issuer_discovery_role_to_findsvc(
        self, with_api_server_keys: tuple[Obj, ...]
    ) -> None:
        binding = the(with_api_server_keys, "ClusterRoleBinding")
        assert binding["roleRef"]["name"] == "system:service-account-issuer-discovery"
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": "findsvc", "namespace": "findsvc"}
        ]

    def test_mounts_a_short_lived_token_and_the_cluster_ca_for_the_fetch(
        self, with_api_server_keys: tuple[Obj, ...]
    ) -> None:
        objects = with_api_server_keys
        env = container_env(objects, findsvc_container(objects))
        assert env["FINDSVC_AUTH_JWKS_URL"] == "https://kubernetes.default.svc/openid/v1/jwks"
        token = PurePosixPath(env["FINDSVC_AUTH_JWKS_TOKEN_FILE"])
        sources = mounted_volume(objects, token)["projected"]["sources"]
        [account_token] = [s["serviceAccountToken"] for s in sources if "serviceAccountToken" in s]
        assert account_token["path"] == token.name
        assert account_token["expirationSeconds"] <= 3600
        [ca] = [s["configMap"] for s in sources if "configMap" in s]
        assert ca["name"] == "kube-root-ca.crt"
        assert PurePosixPath(env["FINDSVC_AUTH_JWKS_CA"]).name == ca["items"][0]["path"]
        pod = the(objects, "Deployment", "findsvc")["spec"]["template"]["spec"]
        assert pod["automountServiceAccountToken"] is False, "only the projected token, no other"


class TestACallingPod:
    def test_asks_the_kubelet_for_a_token_with_findsvcs_audience(self) -> None:
        example = yaml.safe_load(Path(K8S_DIR / "examples" / "calling-pod.yaml").read_text())
        for version in K8S_VERSIONS:
            kubernetes_validate.validate(example, version, strict=True)
        pod = example["spec"]["template"]["spec"]
        [volume] = pod["volumes"]
        [source] = volume["projected"]["sources"]
        assert source["serviceAccountToken"]["audience"] == AUDIENCE
        env = {e["name"]: e["value"] for e in pod["containers"][0]["env"]}
        assert env["FINDSVC_TOKEN_FILE"].endswith("/" + source["serviceAccountToken"]["path"])
