"""FINDSVC_DB_REPLICA_URLS and FINDSVC_DB_REPLICA_MAX_LAG_S."""

from __future__ import annotations

from pathlib import Path

import pytest

from findsvc.config import ConfigError, load

PRIMARY = "mysql://findsvc:primary-pw@primary:3306/glarimy"


class TestReplicaUrls:
    def test_a_comma_separated_list_of_mysql_urls(self) -> None:
        settings = load(
            {
                "FINDSVC_DB_URL": PRIMARY,
                "FINDSVC_DB_REPLICA_URLS": "mysql://findsvc@r1/glarimy, mysql://findsvc@r2:3307/glarimy",
            }
        )
        urls = settings.db_replica_urls or ()
        assert [(url.host, url.port) for url in urls] == [("r1", 3306), ("r2", 3307)]
        assert settings.db_replica_max_lag_s == 5.0

    def test_a_replica_shares_the_primarys_password_unless_its_url_has_one(
        self, tmp_path: Path
    ) -> None:
        password_file = tmp_path / "password"
        password_file.write_text("from-the-file\n")
        settings = load(
            {
                "FINDSVC_DB_URL": PRIMARY,
                "FINDSVC_DB_PASSWORD_FILE": str(password_file),
                "FINDSVC_DB_REPLICA_URLS": "mysql://findsvc@r1/glarimy,mysql://ro:own-pw@r2/glarimy",
            }
        )
        shared, own = settings.db_replica_urls or ()
        assert settings.replica_password(shared) == "from-the-file"
        assert settings.replica_password(own) == "own-pw"

    @pytest.mark.parametrize(
        "raw",
        [
            "mysql://findsvc@r1/glarimy,",
            "mysql://findsvc@r1/glarimy,,mysql://findsvc@r2/glarimy",
            "sqlite:///replica.db",
            "r1:3306",
            "mysql://findsvc@r1:99999/glarimy",
            "mysql://findsvc:secret-pw@r1/glarimy?ssl=1",
        ],
    )
    def test_a_malformed_list_is_named_in_one_line(self, raw: str) -> None:
        with pytest.raises(ConfigError) as raised:
            load({"FINDSVC_DB_URL": PRIMARY, "FINDSVC_DB_REPLICA_URLS": raw})
        message = str(raised.value)
        assert message.startswith("FINDSVC_DB_REPLICA_URLS: ")
        assert "\n" not in message
        assert "secret-pw" not in message

    def test_replicas_need_a_mysql_primary(self) -> None:
        with pytest.raises(ConfigError, match="FINDSVC_DB_REPLICA_URLS needs a mysql://"):
            load({"FINDSVC_DB_REPLICA_URLS": "mysql://findsvc@r1/glarimy"})

    def test_the_lag_limit_must_be_above_zero(self) -> None:
        with pytest.raises(ConfigError, match="FINDSVC_DB_REPLICA_MAX_LAG_S"):
            load({"FINDSVC_DB_REPLICA_MAX_LAG_S": "0"})

    def test_the_lag_limit_is_at_least_two_health_intervals(self) -> None:
        with pytest.raises(ConfigError, match="at least twice FINDSVC_HEALTH_INTERVAL_S"):
            load(
                {
                    "FINDSVC_DB_URL": PRIMARY,
                    "FINDSVC_DB_REPLICA_URLS": "mysql://findsvc@r1/glarimy",
                    "FINDSVC_DB_REPLICA_MAX_LAG_S": "3",
                    "FINDSVC_HEALTH_INTERVAL_S": "2",
                }
            )
