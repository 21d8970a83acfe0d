"""findsvc.client.FindClient against a real server: records and typed errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from devkit.mariadb import free_port
from devkit.server import ServerProcess
from findsvc.client import (
    FindClient,
    InvalidNameError,
    ServiceUnavailableError,
    UserNotFoundError,
)
from tests.support.calls import KRISHNA_PHONE, KRISHNA_SINCE, findsvc
from tests.support.certs import Pki


class TestFind:
    def test_a_known_user_is_a_record(self, server: ServerProcess) -> None:
        with FindClient(server.target) as client:
            record = client.find("KrishnaMohan")
        assert (record.name, record.phone, record.since) == (
            "KrishnaMohan",
            KRISHNA_PHONE,
            KRISHNA_SINCE,
        )

    def test_a_headless_service_style_dns_target_works(self, server: ServerProcess) -> None:
        with FindClient(f"dns:///{server.target}") as client:
            assert client.find("KrishnaMohan").phone == KRISHNA_PHONE

    def test_an_unknown_name_raises_user_not_found(self, server: ServerProcess) -> None:
        with FindClient(server.target) as client, pytest.raises(UserNotFoundError):
            client.find("NobodyByThisName")

    def test_a_bad_name_raises_invalid_name(self, server: ServerProcess) -> None:
        with FindClient(server.target) as client, pytest.raises(InvalidNameError):
            client.find("short")

    def test_no_server_raises_service_unavailable_after_the_retries(self) -> None:
        with (
            FindClient(f"127.0.0.1:{free_port()}", deadline_s=5) as client,
            pytest.raises(ServiceUnavailableError),
        ):
            client.find("KrishnaMohan")


class TestFindMany:
    def test_found_users_in_order_and_the_names_not_found(self, server: ServerProcess) -> None:
        with FindClient(server.target) as client:
            result = client.find_many(["NobodyByThisName", "krishnamohan"])
        assert [user.name for user in result.users] == ["KrishnaMohan"]
        assert result.not_found == ["NobodyByThisName"]


class TestFindCommand:
    def test_an_unreadable_ca_file_is_one_line_and_exit_code_2(self, tmp_path: Path) -> None:
        missing = tmp_path / "no-such-ca.pem"
        result = findsvc("find", "KrishnaMohan", "--ca-cert", str(missing))
        assert result.returncode == 2
        assert result.stderr.strip().splitlines() == [f"findsvc: --ca-cert: cannot read {missing}"]

    @pytest.mark.parametrize("given", ["--client-cert", "--client-key"])
    def test_half_a_client_certificate_is_one_line_and_exit_code_2(
        self, pki: Pki, given: str
    ) -> None:
        pem = pki.client_cert if given == "--client-cert" else pki.client_key
        result = findsvc("find", "KrishnaMohan", "--ca-cert", str(pki.ca), given, str(pem))
        assert result.returncode == 2
        assert result.stderr.strip().splitlines() == [
            "findsvc: a client certificate and its key go together: give both or neither"
        ]
