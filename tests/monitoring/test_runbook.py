"""The docs say what the rules do: the SLO queries, and a runbook entry per alert."""

from __future__ import annotations

import re

import pytest
import yaml

from findsvc.config.docs_page import headings
from monitoring.rules import MKDOCS, RUNBOOK_PAGE, alerts, runbook
from monitoring.slo import SLOS, Slo
from tests.support.docs import DOCS, anchors, page

RUNBOOK = page("runbook.md")
MONITORING = page("monitoring.md")
ANNOTATIONS = {"summary", "description", "runbook_url"}


def runbook_entries() -> dict[str, str]:
    parts = re.split(r"^## (.+)$", RUNBOOK, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


class TestRunbookLinks:
    def test_point_at_the_runbook_page_under_the_sites_address(self) -> None:
        site_url = yaml.safe_load(MKDOCS.read_text())["site_url"]
        assert runbook() == site_url.rstrip("/") + "/runbook/"
        assert (DOCS / RUNBOOK_PAGE.rstrip("/")).with_suffix(".md").is_file()

    @pytest.mark.parametrize("alert", alerts(), ids=lambda a: a["alert"])
    def test_every_alert_links_to_a_heading_of_the_runbook(self, alert: dict[str, object]) -> None:
        annotations = alert["annotations"]
        assert isinstance(annotations, dict)
        assert set(annotations) == ANNOTATIONS
        url, _, anchor = annotations["runbook_url"].partition("#")
        assert url == runbook()
        assert anchor in anchors("runbook.md")


class TestRunbook:
    def test_has_one_entry_per_alert(self) -> None:
        assert sorted(runbook_entries()) == sorted(a["alert"] for a in alerts())
        assert headings(RUNBOOK) == ["Runbook", *runbook_entries()]

    @pytest.mark.parametrize("name", sorted(runbook_entries()))
    def test_every_entry_says_what_it_means_three_checks_and_a_mitigation(self, name: str) -> None:
        entry = runbook_entries()[name]
        assert "**Means:**" in entry and "**Mitigate:**" in entry
        checks = entry.split("**Check first:**", 1)[1].split("**Mitigate:**", 1)[0]
        numbered = re.findall(r"^(\d)\. ", checks, flags=re.MULTILINE)
        assert numbered == ["1", "2", "3"]
        assert checks.count("`") >= 6, "each check has an exact query or command"


class TestSloSection:
    @pytest.mark.parametrize("slo", SLOS, ids=lambda s: s.key)
    def test_shows_the_query_the_rules_record(self, slo: Slo) -> None:
        assert slo.ratio_expr("30d") in MONITORING

    def test_states_each_target(self) -> None:
        for slo in SLOS:
            assert f"{slo.target * 100:g} %" in MONITORING
