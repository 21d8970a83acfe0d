"""A real Java caller, the AddService's language: stubs from our .proto by protoc + grpc-java."""

from __future__ import annotations

import os
import secrets
import subprocess
from importlib.resources import files
from pathlib import Path

import pytest

from devkit import ROOT
from devkit.server import ServerProcess, StartServer
from tests.support.calls import KRISHNA, KRISHNA_PHONE, KRISHNA_SINCE

JARS = "/usr/share/java/*"


@pytest.fixture(scope="module")
def java_client(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Compiles the stubs and FindUserCli.java; returns the classes folder."""
    out = tmp_path_factory.mktemp("java")
    well_known = str(files("grpc_tools") / "_proto")
    subprocess.run(
        [
            "protoc",
            f"-I{ROOT / 'protos'}",
            f"-I{ROOT / 'third_party' / 'googleapis'}",
            f"-I{well_known}",
            f"--java_out={out}",
            f"--grpc-java_out={out}",
            "--plugin=protoc-gen-grpc-java=/usr/bin/grpc_java_plugin",
            "glarimy/ums/find/v1/find_service.proto",
            # The REST mapping's options: no Debian jar holds their Java classes.
            "google/api/annotations.proto",
            "google/api/http.proto",
        ],
        check=True,
    )
    sources = [str(p) for p in out.rglob("*.java")]
    classes = out / "classes"
    subprocess.run(
        [
            "javac",
            "-nowarn",
            "-cp",
            JARS,
            "-d",
            str(classes),
            *sources,
            str(ROOT / "clients" / "java" / "FindUserCli.java"),
        ],
        check=True,
        capture_output=True,
    )
    return classes


def call_from_java(
    classes: Path, server: ServerProcess, name: str, token_file: Path | None = None
) -> str:
    env = {**os.environ, "FINDSVC_TOKEN_FILE": str(token_file)} if token_file else None
    result = subprocess.run(
        ["java", "-cp", f"{classes}:{JARS}", "FindUserCli", server.target, name],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env=env,
    )
    return result.stdout.strip()


class TestJavaClient:
    def test_a_java_client_finds_the_user(self, java_client: Path, server: ServerProcess) -> None:
        expected = f"{KRISHNA} {KRISHNA_PHONE} {int(KRISHNA_SINCE.timestamp())}"
        assert call_from_java(java_client, server, "KrishnaMohan") == expected

    @pytest.mark.parametrize(
        ("name", "code"), [("NobodyByThisName", "NOT_FOUND"), ("short", "INVALID_ARGUMENT")]
    )
    def test_a_java_client_gets_the_documented_codes(
        self, java_client: Path, server: ServerProcess, name: str, code: str
    ) -> None:
        assert call_from_java(java_client, server, name) == code


class TestJavaClientWithAToken:
    def test_sends_the_token_file_it_is_given(
        self, java_client: Path, users_db_url: str, start_server: StartServer, tmp_path: Path
    ) -> None:
        token = secrets.token_urlsafe(24)
        tokens = tmp_path / "tokens"
        tokens.write_text(f"{token} java-caller\n")
        server = start_server(
            {"FINDSVC_DB_URL": users_db_url, "FINDSVC_AUTH_TOKENS_FILE": str(tokens)}
        )
        assert call_from_java(java_client, server, KRISHNA) == "UNAUTHENTICATED"
        token_file = tmp_path / "token"
        token_file.write_text(token + "\n")
        assert call_from_java(java_client, server, KRISHNA, token_file).startswith(KRISHNA)
