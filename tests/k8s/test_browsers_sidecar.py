"""The sidecar serves browsers as `make rest` and the e2e tests' Envoy do: the same browsers
filter and lookup page, and its CORS origins from the overlay's findsvc-cors ConfigMap (dev:
any port on this machine, as devkit; prod: none until an operator lists them)."""

from __future__ import annotations

import pytest

from devkit.envoy import CONFIG, DEV_CORS_ORIGINS
from tests.k8s.manifests import OVERLAYS, Obj, overlay, the
from tests.k8s.test_rest_sidecar import envoy_config_map, envoy_container, mounted_config

BROWSER_FILES = ("browsers.lua", "lookup.html")


def cors_origins(objects: tuple[Obj, ...]) -> str:
    """CORS_ALLOWED_ORIGINS as the sidecar's environment gets it."""
    (variable,) = (
        e for e in envoy_container(objects)["env"] if e["name"] == "CORS_ALLOWED_ORIGINS"
    )
    ref = variable["valueFrom"]["configMapKeyRef"]
    value: str = the(objects, "ConfigMap", ref["name"])["data"][ref["key"]]
    return value


@pytest.mark.parametrize("name", OVERLAYS)
class TestEverySidecar:
    def test_gets_the_browsers_filter_and_page_byte_for_byte(self, name: str) -> None:
        data = envoy_config_map(overlay(name))["data"]
        for file in BROWSER_FILES:
            assert data[file] == (CONFIG.parent / file).read_text()

    def test_its_config_reads_them_from_its_mount(self, name: str) -> None:
        text = str(mounted_config(overlay(name)))
        mount = next(
            m for m in envoy_container(overlay(name))["volumeMounts"] if m["name"] == "envoy-config"
        )
        for file in BROWSER_FILES:
            assert f"{mount['mountPath']}/{file}" in text


class TestCorsOriginsPerOverlay:
    def test_dev_allows_this_machine_on_any_port_as_devkit_does(self) -> None:
        assert cors_origins(overlay("dev")) == DEV_CORS_ORIGINS

    def test_prod_allows_none_until_an_operator_lists_them(self) -> None:
        assert cors_origins(overlay("prod")).split() == []
