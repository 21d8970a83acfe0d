"""The Prometheus Operator's objects in the rendered overlays.

kubernetes-validate knows no CRDs, so their shape is checked here, their rules by promtool,
and the ServiceMonitor against the Services it selects.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from monitoring.generated import ROOT, RULES_FILE
from monitoring.rules import SCRAPE_JOB
from tests.k8s.manifests import CUSTOM_RESOURCE_APIS, Obj, of_kind, overlay, render, the
from tests.monitoring.promtool import promtool

RULE_KEYS = {"record", "alert", "expr", "for", "labels", "annotations"}


def _metadata_is_namespaced(obj: Obj, namespace: str) -> None:
    assert set(obj) == {"apiVersion", "kind", "metadata", "spec"}
    assert obj["apiVersion"] in CUSTOM_RESOURCE_APIS
    assert obj["metadata"]["namespace"] == namespace


class TestPrometheusRule:
    def test_prod_carries_the_plain_rules_files_groups(self) -> None:
        (rule,) = of_kind(overlay("prod"), "PrometheusRule")
        _metadata_is_namespaced(rule, "findsvc")
        assert set(rule["spec"]) == {"groups"}
        plain = yaml.safe_load((ROOT / RULES_FILE).read_text())
        assert rule["spec"]["groups"] == plain["groups"]

    def test_every_rule_has_the_fields_the_crd_allows(self) -> None:
        (rule,) = of_kind(overlay("prod"), "PrometheusRule")
        for group in rule["spec"]["groups"]:
            assert set(group) == {"name", "rules"}
            for each in group["rules"]:
                assert set(each) <= RULE_KEYS, set(each) - RULE_KEYS
                assert ("record" in each) != ("alert" in each)
                assert isinstance(each["expr"], str)
                assert all(isinstance(v, str) for v in each.get("labels", {}).values())

    def test_promtool_accepts_the_rendered_rules(self, tmp_path: Path) -> None:
        (rule,) = of_kind(overlay("prod"), "PrometheusRule")
        rendered = tmp_path / "rendered.rules.yml"
        rendered.write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}))
        result = promtool("check", "rules", rendered)
        assert result.returncode == 0, result.stdout + result.stderr

    def test_dev_and_base_need_no_operator(self) -> None:
        for objects in (overlay("dev"), render("base")):
            assert not [o for o in objects if o["apiVersion"] in CUSTOM_RESOURCE_APIS]


class TestServiceMonitor:
    def test_scrapes_one_service_port_named_as_the_pods_metrics_port(self) -> None:
        objects = overlay("prod")
        (monitor,) = of_kind(objects, "ServiceMonitor")
        _metadata_is_namespaced(monitor, "findsvc")
        wanted = monitor["spec"]["selector"]["matchLabels"]
        selected = [
            s
            for s in of_kind(objects, "Service")
            if wanted.items() <= s["metadata"].get("labels", {}).items()
        ]
        (port,) = {endpoint["port"] for endpoint in monitor["spec"]["endpoints"]}
        with_port = [s for s in selected if port in {p.get("name") for p in s["spec"]["ports"]}]
        assert [s["metadata"]["name"] for s in with_port] == ["findsvc-headless"]

    def test_its_job_label_is_the_job_the_alerts_watch(self) -> None:
        objects = overlay("prod")
        (monitor,) = of_kind(objects, "ServiceMonitor")
        headless = the(objects, "Service", "findsvc-headless")
        assert headless["metadata"]["labels"][monitor["spec"]["jobLabel"]] == SCRAPE_JOB
