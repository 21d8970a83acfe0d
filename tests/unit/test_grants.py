"""`findsvc db grant`: SQL for a read-only account that never invents a password."""

from __future__ import annotations

import pytest

from findsvc.adapters.mysql.grants import BadGrant, read_only_account_sql


class TestReadOnlyAccountSql:
    def test_grants_select_on_the_users_table_and_nothing_else(self) -> None:
        sql = read_only_account_sql("findsvc", "%", "glarimy", "s3cret")
        grants = [line for line in sql.splitlines() if line.startswith("GRANT")]
        assert grants == ["GRANT SELECT ON `glarimy`.`ums_users` TO 'findsvc'@'%';"]

    def test_an_existing_account_loses_what_it_had_before_the_grant(self) -> None:
        lines = read_only_account_sql("findsvc", "%", "glarimy", "s3cret").splitlines()
        revoke = "REVOKE ALL PRIVILEGES, GRANT OPTION FROM 'findsvc'@'%';"
        assert lines.index(revoke) < lines.index(
            "GRANT SELECT ON `glarimy`.`ums_users` TO 'findsvc'@'%';"
        )

    def test_without_a_password_a_placeholder_makes_the_sql_fail_until_edited(self) -> None:
        sql = read_only_account_sql("findsvc", "%", "glarimy", None)
        assert "IDENTIFIED BY <PASSWORD>;" in sql
        assert "IDENTIFIED BY '" not in sql

    def test_quotes_are_doubled_which_holds_under_every_sql_mode(self) -> None:
        sql = read_only_account_sql("o'brien", "10.%", "my`db", "it's")
        assert "'o''brien'@'10.%'" in sql
        assert "`my``db`.`ums_users`" in sql
        assert "IDENTIFIED BY 'it''s'" in sql
        assert "\\" not in sql

    @pytest.mark.parametrize(("user", "password"), [("", "pw"), ("find\nsvc", "pw"), ("x", "")])
    def test_empty_or_control_characters_are_refused(self, user: str, password: str) -> None:
        with pytest.raises(BadGrant):
            read_only_account_sql(user, "%", "glarimy", password)

    @pytest.mark.parametrize(
        ("host", "password"),
        [("10.0.0.%\\", "pw"), ("%", "pw\\' OR 1;--"), ("%", "tab\there"), ("%\x7f", "pw")],
    )
    def test_backslashes_and_control_characters_in_host_or_password_are_refused(
        self, host: str, password: str
    ) -> None:
        with pytest.raises(BadGrant, match="backslash"):
            read_only_account_sql("findsvc", host, "glarimy", password)


class TestReplicas:
    def test_says_replicas_need_the_same_account_and_no_more_grants(self) -> None:
        sql = read_only_account_sql("findsvc", "%", "glarimy", None)
        assert "read replicas need the same account" in sql
        assert "need no grant" in sql
        assert [line for line in sql.splitlines() if line.startswith("GRANT")] == [
            "GRANT SELECT ON `glarimy`.`ums_users` TO 'findsvc'@'%';"
        ]


class TestBinlogGrants:
    def test_without_binlog_the_account_stays_read_only(self) -> None:
        sql = read_only_account_sql("findsvc", "%", "glarimy", "s3cret")
        assert "REPLICATION" not in sql

    @pytest.mark.parametrize(
        ("server", "privileges"),
        [
            ("mariadb", "REPLICATION SLAVE, BINLOG MONITOR"),
            ("mysql", "REPLICATION SLAVE, REPLICATION CLIENT"),
        ],
    )
    def test_the_follower_may_read_the_binlog_and_its_position(
        self, server: str, privileges: str
    ) -> None:
        sql = read_only_account_sql("findsvc", "%", "glarimy", "s3cret", binlog=server)
        assert f"GRANT {privileges} ON *.* TO 'findsvc'@'%';" in sql.splitlines()
