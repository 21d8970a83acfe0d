"""The alerting rules, run by promtool on synthetic series: what fires, when, and what not."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitoring.generated import ROOT, RULES_FILE
from monitoring.rules import alerts
from tests.monitoring.promtool import promtool, run_unit_test
from tests.monitoring.scenarios import SCENARIOS, Scenario


class TestRulesFile:
    def test_promtool_accepts_the_rules(self) -> None:
        result = promtool("check", "rules", ROOT / RULES_FILE)
        assert result.returncode == 0, result.stdout + result.stderr

    def test_promtool_rejects_a_broken_expression(self, tmp_path: Path) -> None:
        broken = tmp_path / "broken.yml"
        broken.write_text("groups:\n- name: x\n  rules:\n  - record: a:b\n    expr: rate(x[5m]\n")
        assert promtool("check", "rules", broken).returncode != 0


class TestAlertsOnSyntheticSeries:
    @pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
    def test_fires_when_it_should_and_not_otherwise(
        self, scenario: Scenario, tmp_path: Path
    ) -> None:
        run_unit_test(tmp_path, scenario.input_series, scenario.expects, scenario.step)

    def test_every_alert_is_shown_firing_by_some_scenario(self) -> None:
        fired = {e.alertname for s in SCENARIOS for e in s.expects if e.firing}
        assert fired == {a["alert"] for a in alerts()}

    def test_a_wrong_expectation_fails(self, tmp_path: Path) -> None:
        scenario = next(s for s in SCENARIOS if "database unreachable" in s.name)
        never = next(e for e in scenario.expects if not e.firing)
        never.firing.append({"namespace": "findsvc"})
        try:
            with pytest.raises(AssertionError):
                run_unit_test(tmp_path, scenario.input_series, [never])
        finally:
            never.firing.clear()
