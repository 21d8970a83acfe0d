"""Runs promtool on rules, and on unit tests written as Python data.

A unit test's expected alerts carry the rule's own annotations with `{{ $labels.x }}` filled
in, so the tests pin what fires and when, not the wording.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from monitoring.generated import ROOT, RULES_FILE
from monitoring.rules import alerts, groups

_LABEL = re.compile(r"\{\{ \$labels\.(\w+) \}\}")


def promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("promtool")
    assert tool, "the monitoring tests need promtool (Debian's prometheus package: make tools)"
    return subprocess.run(
        [tool, *map(str, args)], capture_output=True, text=True, check=False, timeout=120
    )


def counter(*segments: tuple[int, float]) -> str:
    """A counter from 0 that grows by `per_minute` for `minutes`, segment after segment."""
    values, total = ["0"], 0.0
    for minutes, per_minute in segments:
        values.append(f"{total + per_minute:.15g}+{per_minute:.15g}x{minutes - 1}")
        total += per_minute * minutes
    return " ".join(values)


def gauge(*segments: tuple[int, float]) -> str:
    """A gauge that holds `value` for `minutes`, segment after segment."""
    return " ".join(f"{value:.15g}x{minutes - 1}" for minutes, value in segments)


def series(metric: str, values: str, **labels: str) -> dict[str, str]:
    selector = ",".join(f'{key}="{value}"' for key, value in labels.items())
    return {"series": f"{metric}{{{selector}}}", "values": values}


@dataclass
class Expect:
    """At `minute`, exactly these alerts of `alertname` fire, each with these labels."""

    minute: int
    alertname: str
    firing: list[dict[str, str]] = field(default_factory=list)


def _fill(template: str, labels: dict[str, str]) -> str:
    return _LABEL.sub(lambda m: labels.get(m.group(1), ""), template)


def _alert_case(expect: Expect) -> dict[str, Any]:
    rule = next(a for a in alerts() if a["alert"] == expect.alertname)
    expected = []
    for labels in expect.firing:
        all_labels = {**rule["labels"], **labels}
        annotations = {key: _fill(text, all_labels) for key, text in rule["annotations"].items()}
        assert "{{" not in "".join(annotations.values()), "a template the tests cannot fill"
        expected.append({"exp_labels": all_labels, "exp_annotations": annotations})
    return {"eval_time": f"{expect.minute}m", "alertname": expect.alertname, "exp_alerts": expected}


def run_unit_test(
    tmp_path: Path, input_series: list[dict[str, str]], expects: list[Expect], step: int = 1
) -> None:
    """Runs the rules over `input_series` (a sample every `step` minutes) with promtool."""
    test = {
        "rule_files": [str(ROOT / RULES_FILE)],
        "evaluation_interval": f"{step}m",
        # promtool runs groups in random order: records first, as each alert reads them.
        "group_eval_order": [group["name"] for group in groups()],
        "tests": [
            {
                "interval": f"{step}m",
                "input_series": input_series,
                "alert_rule_test": [_alert_case(e) for e in expects],
            }
        ],
    }
    path = tmp_path / "test.yml"
    path.write_text(yaml.safe_dump(test, sort_keys=False))
    result = promtool("test", "rules", path)
    assert result.returncode == 0, result.stdout + result.stderr
