"""The service config other languages copy (clients/service-config.json) is the Python client's."""

from __future__ import annotations

import json

from devkit import ROOT
from findsvc.client import SERVICE_CONFIG


def test_the_published_service_config_file_is_the_python_clients() -> None:
    published = json.loads((ROOT / "clients" / "service-config.json").read_text())
    assert published == SERVICE_CONFIG
