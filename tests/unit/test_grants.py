"""`findsvc db grant`: SQL for a read-only account that never invents a password."""

from __future__ import annotations

import pytest

from findsvc.adapters.mysql_grants import BadGrant, read_only_account_sql


class TestReadOnlyAccountSql:
    def test_grants_select_on_the_users_table_and_nothing_else(self) -> None:
        sql = read_only_account_sql("findsvc", "%", "glarimy", "s3cret")
        grants = [line for line in sql.splitlines() if line.startswith("GRANT")]
        assert grants == ["GRANT SELECT ON `glarimy`.`ums_users` TO 'findsvc'@'%';"]

    def test_without_a_password_a_placeholder_makes_the_sql_fail_until_edited(self) -> None:
        sql = read_only_account_sql("findsvc", "%", "glarimy", None)
        assert "IDENTIFIED BY <PASSWORD>;" in sql
        assert "IDENTIFIED BY '" not in sql

    def test_quotes_in_names_and_passwords_are_escaped(self) -> None:
        sql = read_only_account_sql("o'brien", "10.%", "my`db", "it's")
        assert "'o\\'brien'@'10.%'" in sql
        assert "`my``db`.`ums_users`" in sql
        assert "IDENTIFIED BY 'it\\'s'" in sql

    @pytest.mark.parametrize(("user", "password"), [("", "pw"), ("find\nsvc", "pw"), ("x", "")])
    def test_empty_or_control_characters_are_refused(self, user: str, password: str) -> None:
        with pytest.raises(BadGrant):
            read_only_account_sql(user, "%", "glarimy", password)
