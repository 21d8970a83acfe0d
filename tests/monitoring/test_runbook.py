"""The README documents what the rules do: the SLO queries, and a runbook entry per alert."""

from __future__ import annotations

import re

import pytest

from monitoring.generated import ROOT
from monitoring.rules import RUNBOOK, alerts
from monitoring.slo import SLOS, Slo

README = (ROOT / "README.md").read_text()
ANNOTATIONS = {"summary", "description", "runbook_url"}


def github_anchor(heading: str) -> str:
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def runbook_entries() -> dict[str, str]:
    runbook = README.split("\n### Runbook\n", 1)[1].split("\n## ", 1)[0]
    parts = re.split(r"^#### (.+)$", runbook, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


class TestRunbook:
    @pytest.mark.parametrize("alert", alerts(), ids=lambda a: a["alert"])
    def test_every_alert_links_to_a_heading_of_the_readme(self, alert: dict[str, object]) -> None:
        annotations = alert["annotations"]
        assert isinstance(annotations, dict)
        assert set(annotations) == ANNOTATIONS
        url, _, anchor = annotations["runbook_url"].partition("#")
        assert url == RUNBOOK
        headings = re.findall(r"^#+ (.+)$", README, flags=re.MULTILINE)
        assert anchor in {github_anchor(h) for h in headings}

    def test_has_one_entry_per_alert(self) -> None:
        assert sorted(runbook_entries()) == sorted(a["alert"] for a in alerts())

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
        assert slo.ratio_expr("30d") in README

    def test_states_each_target(self) -> None:
        for slo in SLOS:
            assert f"{slo.target * 100:g} %" in README
