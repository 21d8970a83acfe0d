"""The lookup page at GET / on the REST port, driven in a real headless Chromium against a real
Envoy and findsvc: /?name=NAME looks the user up at once, through REST or Connect, and says
the answer or the error in words."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from devkit.envoy import EnvoyProcess
from tests.support.calls import KRISHNA, KRISHNA_PHONE


def page_after_load(envoy: EnvoyProcess, query: str, profile: Path) -> str:
    """The page's DOM once its scripts and their fetches are done (Chromium's virtual time
    waits for them), as `tests/support/ensure_test_tools.py` installs Chromium."""
    chromium = shutil.which("chromium")
    assert chromium, "make test installs Debian's chromium (tests/support/ensure_test_tools.py)"
    done = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",  # as root in a container; the page is our own
            "--disable-gpu",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=10000",
            "--dump-dom",
            f"http://127.0.0.1:{envoy.port}/{query}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


def answer(dom: str) -> str:
    found = re.search(r'<div id="answer"[^>]*>(.*?)</div>', dom, re.S)
    assert found, dom[:500]
    return found.group(1)


class TestLookingUp:
    @pytest.mark.parametrize("via", ["rest", "connect"])
    def test_a_shared_link_shows_the_users_phone(
        self, envoy: EnvoyProcess, tmp_path: Path, via: str
    ) -> None:
        shown = answer(page_after_load(envoy, f"?name={KRISHNA}&via={via}", tmp_path))
        assert f'<dd id="user-phone">{KRISHNA_PHONE}</dd>' in shown
        assert f'<dd id="user-name">{KRISHNA}</dd>' in shown

    def test_a_missing_user_is_said_in_words(self, envoy: EnvoyProcess, tmp_path: Path) -> None:
        shown = answer(page_after_load(envoy, "?name=NobodyByThisName", tmp_path))
        assert shown == 'No user has the name "NobodyByThisName" (yet).'

    def test_a_bad_name_says_why(self, envoy: EnvoyProcess, tmp_path: Path) -> None:
        shown = answer(page_after_load(envoy, "?name=short&via=connect", tmp_path))
        assert shown == '"short" is not a valid name: must be 8 to 32 characters long.'

    def test_without_a_name_it_waits_for_one(self, envoy: EnvoyProcess, tmp_path: Path) -> None:
        assert answer(page_after_load(envoy, "", tmp_path)) == "Type a name and press Find."


class TestThePage:
    def test_is_html_that_loads_nothing_from_elsewhere(self, envoy: EnvoyProcess) -> None:
        reply = envoy.request("GET", "/")
        assert (reply.status, reply.headers["content-type"]) == (200, "text/html; charset=utf-8")
        assert "default-src 'none'" in reply.headers["content-security-policy"]
        assert b"<form" in reply.body
        assert not re.search(rb'(src|href)="(https?:)?//', reply.body)

    def test_only_get_serves_it(self, envoy: EnvoyProcess) -> None:
        reply = envoy.request("POST", "/")
        assert (reply.status, reply.json()["code"]) == (404, 5)
