import re
from dataclasses import fields
from pathlib import Path

import pytest

from findsvc.config import OPTIONS, ConfigError, Settings, env_name, load, parse_database_url


class TestDefaults:
    def test_no_environment_means_the_embedded_database_on_port_50051(self) -> None:
        settings = load({})
        assert settings.db_url is None
        assert settings.port == 50051
        assert settings.listen_address == "[::]:50051"

    def test_every_setting_has_one_option(self) -> None:
        assert [f.name for f in fields(Settings)] == [o.name for o in OPTIONS]

    def test_no_password_has_a_default(self) -> None:
        assert load({}).db_password is None


class TestSources:
    def test_settings_come_from_the_environment(self) -> None:
        settings = load({"FINDSVC_PORT": "6000", "FINDSVC_LOG_LEVEL": "debug"})
        assert (settings.port, settings.log_level) == (6000, "DEBUG")

    def test_a_flag_wins_over_the_environment(self) -> None:
        assert load({"FINDSVC_PORT": "6000"}, {"port": "7000"}).port == 7000

    def test_the_password_file_wins_over_the_url(self, tmp_path: Path) -> None:
        secret = tmp_path / "password"
        secret.write_text("from-file\n")
        settings = load(
            {
                "FINDSVC_DB_URL": "mysql://findsvc:from-url@db/glarimy",
                "FINDSVC_DB_PASSWORD_FILE": str(secret),
            }
        )
        assert settings.db_password == "from-file"

    def test_processes_auto_means_one_per_core(self) -> None:
        assert load({"FINDSVC_PROCESSES": "auto"}).processes >= 1


class TestDatabaseUrl:
    def test_a_full_mysql_url(self) -> None:
        url = parse_database_url("mysql://ums:s%40cret@db.example:3307/glarimy")
        assert (url.user, url.password, url.host, url.port, url.database) == (
            "ums",
            "s@cret",
            "db.example",
            3307,
            "glarimy",
        )

    def test_the_redacted_form_hides_the_password(self) -> None:
        url = parse_database_url("mysql://ums:secret@db/glarimy")
        assert "secret" not in url.redacted
        assert "secret" not in repr(url)

    def test_a_sqlite_url(self) -> None:
        assert parse_database_url("sqlite:///var/users.db").path == "/var/users.db"


class TestBadConfig:
    @pytest.mark.parametrize(
        ("environ", "names"),
        [
            ({"FINDSVC_PORT": "http"}, "FINDSVC_PORT"),
            ({"FINDSVC_PORT": "70000"}, "FINDSVC_PORT"),
            ({"FINDSVC_DB_URL": "postgres://u@h/db"}, "FINDSVC_DB_URL"),
            ({"FINDSVC_DB_URL": "mysql://db/glarimy"}, "FINDSVC_DB_URL"),
            ({"FINDSVC_DB_URL": "mysql://u@db:port/glarimy"}, "FINDSVC_DB_URL"),
            ({"FINDSVC_DB_PASSWORD_FILE": "/nonexistent/password"}, "FINDSVC_DB_PASSWORD_FILE"),
            ({"FINDSVC_LOG_LEVEL": "chatty"}, "FINDSVC_LOG_LEVEL"),
            ({"FINDSVC_REFLECTION": "maybe"}, "FINDSVC_REFLECTION"),
            ({"FINDSVC_GRACE_S": "-1"}, "FINDSVC_GRACE_S"),
            ({"FINDSVC_TLS_CLIENT_CA": __file__}, "FINDSVC_TLS_CLIENT_CA"),
        ],
    )
    def test_a_bad_setting_is_named_in_one_line(self, environ: dict[str, str], names: str) -> None:
        with pytest.raises(ConfigError) as raised:
            load(environ)
        assert names in str(raised.value)
        assert "\n" not in str(raised.value)

    def test_a_bad_flag_is_named_as_a_flag(self) -> None:
        with pytest.raises(ConfigError, match="--port"):
            load({}, {"port": "x"})

    def test_the_password_never_appears_in_an_error(self) -> None:
        with pytest.raises(ConfigError) as raised:
            load({"FINDSVC_DB_URL": "mysql://u:hunter2@db:99999/glarimy"})
        assert "hunter2" not in str(raised.value)


class TestDocs:
    def test_every_setting_is_in_the_readme(self) -> None:
        readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
        documented = set(re.findall(r"\bFINDSVC_[A-Z_]+\b", readme))
        missing = [env_name(o.name) for o in OPTIONS if env_name(o.name) not in documented]
        assert missing == []
