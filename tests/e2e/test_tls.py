"""TLS and mutual TLS on findsvc's port: what the server accepts, how it reloads its files,
and what FindClient does with the options."""

from __future__ import annotations

import os
from pathlib import Path

import grpc
import pytest

from devkit.server import ServerProcess, StartServer
from findsvc.client import FindClient, ServiceUnavailableError
from tests.support.calls import KRISHNA, KRISHNA_RECORD, find
from tests.support.certs import Pki, make_pki
from tests.support.metrics import log_entries


def tls_channel(server: ServerProcess, pki: Pki, client_cert: bool) -> grpc.Channel:
    return server.channel(pki.credentials(client_cert=client_cert))


def live_tls_files(
    users_db_url: str, pki: Pki, tmp_path: Path
) -> tuple[dict[str, str], Path, Path]:
    """A TLS server's env, reading copies of `pki`'s server files, which a test may then change."""
    live_cert, live_key = tmp_path / "tls.crt", tmp_path / "tls.key"
    live_cert.write_bytes(pki.server_cert.read_bytes())
    live_key.write_bytes(pki.server_key.read_bytes())
    env = {
        "FINDSVC_DB_URL": users_db_url,
        "FINDSVC_TLS_CERT": str(live_cert),
        "FINDSVC_TLS_KEY": str(live_key),
    }
    return env, live_cert, live_key


class TestTls:
    def test_a_client_trusting_the_ca_finds_users(
        self, tls_server: ServerProcess, pki: Pki
    ) -> None:
        with tls_channel(tls_server, pki, client_cert=False) as channel:
            assert find(channel, KRISHNA) == grpc.StatusCode.OK

    def test_a_plaintext_client_gets_nothing(self, tls_server: ServerProcess) -> None:
        with tls_server.channel() as plaintext:
            assert find(plaintext, KRISHNA, timeout_s=2) == grpc.StatusCode.UNAVAILABLE

    def test_a_renewed_certificate_is_served_without_a_restart(
        self, users_db_url: str, tmp_path: Path, start_server: StartServer
    ) -> None:
        old, new = make_pki(tmp_path / "old"), make_pki(tmp_path / "new", "renewed CA")
        env, live_cert, live_key = live_tls_files(users_db_url, old, tmp_path)
        server = start_server(env, credentials=old.credentials())
        for source, live in ((new.server_key, live_key), (new.server_cert, live_cert)):
            staged = live.with_suffix(".new")
            staged.write_bytes(source.read_bytes())
            os.replace(staged, live)  # as a Secret update does: all at once
        with tls_channel(server, new, client_cert=False) as channel:
            assert find(channel, KRISHNA) == grpc.StatusCode.OK
        assert server.process.poll() is None

    def test_broken_tls_files_are_reported_once_however_many_handshakes_follow(
        self, users_db_url: str, pki: Pki, tmp_path: Path, start_server: StartServer
    ) -> None:
        env, live_cert, _live_key = live_tls_files(users_db_url, pki, tmp_path)
        server = start_server(env, credentials=pki.credentials())
        live_cert.write_text("half written\n")
        for _ in range(5):  # a new connection each: a handshake each
            with tls_channel(server, pki, client_cert=False) as channel:
                assert find(channel, KRISHNA) == grpc.StatusCode.OK
        warnings = [e for e in log_entries(server) if "do not load" in e.get("message", "")]
        assert len(warnings) == 1

    def test_unusable_tls_files_are_one_line_and_exit_code_2(
        self, users_db_url: str, pki: Pki, tmp_path: Path, start_server: StartServer
    ) -> None:
        garbage = tmp_path / "not-a-cert.pem"
        garbage.write_text("hello\n")
        server = start_server(
            {
                "FINDSVC_DB_URL": users_db_url,
                "FINDSVC_TLS_CERT": str(garbage),
                "FINDSVC_TLS_KEY": str(pki.server_key),
            },
            wait=False,
        )
        assert server.process.wait(timeout=30) == 2
        lines = server.logs.strip().splitlines()
        assert len(lines) == 1
        assert "FINDSVC_TLS_CERT" in lines[0]


class TestMutualTls:
    def test_a_client_with_a_certificate_from_the_ca_finds_users(
        self, mtls_server: ServerProcess, pki: Pki
    ) -> None:
        with tls_channel(mtls_server, pki, client_cert=True) as channel:
            assert find(channel, KRISHNA) == grpc.StatusCode.OK

    def test_a_client_without_a_certificate_is_refused(
        self, mtls_server: ServerProcess, pki: Pki
    ) -> None:
        with tls_channel(mtls_server, pki, client_cert=False) as channel:
            assert find(channel, KRISHNA, timeout_s=3) == grpc.StatusCode.UNAVAILABLE

    def test_a_client_with_a_certificate_from_another_ca_is_refused(
        self, mtls_server: ServerProcess, pki: Pki, tmp_path: Path
    ) -> None:
        stranger = make_pki(tmp_path, "some other CA")
        credentials = grpc.ssl_channel_credentials(
            root_certificates=pki.ca.read_bytes(),
            private_key=stranger.client_key.read_bytes(),
            certificate_chain=stranger.client_cert.read_bytes(),
        )
        with mtls_server.channel(credentials) as channel:
            assert find(channel, KRISHNA, timeout_s=3) == grpc.StatusCode.UNAVAILABLE


class TestTlsInTheFindClient:
    def test_a_client_trusting_the_ca_finds_the_record(
        self, tls_server: ServerProcess, pki: Pki
    ) -> None:
        with FindClient(tls_server.target, root_certificates=pki.ca.read_bytes()) as client:
            assert client.find(KRISHNA) == KRISHNA_RECORD

    def test_a_client_trusting_another_ca_raises_service_unavailable(
        self, tls_server: ServerProcess, tmp_path: Path
    ) -> None:
        stranger = make_pki(tmp_path, "some other CA")
        with (
            FindClient(tls_server.target, root_certificates=stranger.ca.read_bytes()) as client,
            pytest.raises(ServiceUnavailableError) as raised,
        ):
            client.find(KRISHNA)
        assert "CERTIFICATE_VERIFY_FAILED" in raised.value.details

    def test_a_client_with_only_the_system_cas_raises_service_unavailable(
        self, tls_server: ServerProcess
    ) -> None:
        with (
            FindClient(tls_server.target, tls=True) as client,
            pytest.raises(ServiceUnavailableError) as raised,
        ):
            client.find(KRISHNA)
        assert "CERTIFICATE_VERIFY_FAILED" in raised.value.details


class TestMutualTlsInTheFindClient:
    def test_a_client_with_a_certificate_from_the_ca_finds_the_record(
        self, mtls_server: ServerProcess, pki: Pki
    ) -> None:
        with FindClient(
            mtls_server.target,
            root_certificates=pki.ca.read_bytes(),
            client_certificate=pki.client_cert.read_bytes(),
            client_key=pki.client_key.read_bytes(),
        ) as client:
            assert client.find(KRISHNA) == KRISHNA_RECORD

    def test_a_client_without_a_certificate_is_refused_as_service_unavailable(
        self, mtls_server: ServerProcess, pki: Pki
    ) -> None:
        with (
            FindClient(mtls_server.target, root_certificates=pki.ca.read_bytes()) as client,
            pytest.raises(ServiceUnavailableError),
        ):
            client.find(KRISHNA)
