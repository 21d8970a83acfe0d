"""The database settings: timeouts, idle time, TLS, and URL edges are checked at start."""

from __future__ import annotations

import ssl
import tomllib
from pathlib import Path

import pytest

from devkit import ROOT
from findsvc.bootstrap import db_tls_context as client_context
from findsvc.config import ConfigError, load

MYSQL = "mysql://findsvc@db.internal/glarimy"


def refused(environ: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as raised:
        load(environ)
    message = str(raised.value)
    assert "\n" not in message
    return message


class TestTimeouts:
    @pytest.mark.parametrize(
        "name", ["FINDSVC_DB_TIMEOUT_S", "FINDSVC_DB_CONNECT_TIMEOUT_S", "FINDSVC_DB_MAX_IDLE_S"]
    )
    def test_zero_is_refused(self, name: str) -> None:
        assert name in refused({name: "0"})

    def test_pooled_connections_are_recycled_well_before_mysqls_wait_timeout(self) -> None:
        assert 0 < load({}).db_max_idle_s <= 300 < 8 * 3600


class TestDatabaseUrlEdges:
    def test_port_zero_is_an_error_not_3306(self) -> None:
        assert "port" in refused({"FINDSVC_DB_URL": "mysql://u@h:0/db"})

    @pytest.mark.parametrize("options", ["?ssl-mode=REQUIRED", "?charset=latin1", "#x"])
    def test_url_options_are_refused_not_dropped(self, options: str) -> None:
        assert "FINDSVC_DB_TLS" in refused({"FINDSVC_DB_URL": MYSQL + options})


class TestTls:
    def test_off_by_default(self) -> None:
        assert load({}).db_tls == "off"

    def test_an_unknown_mode_is_refused(self) -> None:
        assert "FINDSVC_DB_TLS" in refused({"FINDSVC_DB_TLS": "preferred"})

    @pytest.mark.parametrize("mode", ["off", "required"])
    def test_a_ca_without_verification_is_refused(self, mode: str) -> None:
        message = refused({"FINDSVC_DB_TLS": mode, "FINDSVC_DB_TLS_CA": __file__})
        assert "verify-identity" in message

    def test_a_ca_file_that_is_no_certificate_is_a_config_error(self) -> None:
        with pytest.raises(ConfigError, match="FINDSVC_DB_TLS_CA"):
            client_context("verify-identity", Path(__file__))

    @pytest.mark.parametrize(
        ("mode", "verify", "check_name"),
        [
            ("required", ssl.CERT_NONE, False),
            ("verify-ca", ssl.CERT_REQUIRED, False),
            ("verify-identity", ssl.CERT_REQUIRED, True),
        ],
    )
    def test_each_mode_checks_what_mysql_s_ssl_mode_of_that_name_checks(
        self, mode: str, verify: ssl.VerifyMode, check_name: bool
    ) -> None:
        context = client_context(mode, None)
        assert context is not None
        assert (context.verify_mode, context.check_hostname) == (verify, check_name)


class TestDependencies:
    def test_pymysql_comes_with_rsa_for_mysql_8_logins_without_tls(self) -> None:
        project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
        assert any(dep.startswith("PyMySQL[rsa]") for dep in project["dependencies"])
