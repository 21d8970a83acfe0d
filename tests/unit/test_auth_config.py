"""The auth settings: which go together, and what a wrong one says."""

from __future__ import annotations

from pathlib import Path

import pytest

from findsvc.config import ConfigError, load


@pytest.fixture
def a_file(tmp_path: Path) -> str:
    path = tmp_path / "file"
    path.write_text("x")
    return str(path)


class TestJwtSettings:
    def test_a_jwks_url_with_issuer_and_audience(self) -> None:
        settings = load(
            {
                "FINDSVC_AUTH_JWKS_URL": "https://kubernetes.default.svc/openid/v1/jwks",
                "FINDSVC_AUTH_JWT_ISSUER": "https://kubernetes.default.svc.cluster.local",
                "FINDSVC_AUTH_JWT_AUDIENCE": "findsvc",
                "FINDSVC_AUTH_JWT_CALLERS": " system:serviceaccount:a:b ,"
                "system:serviceaccount:c:d,",
            }
        )
        assert settings.auth_jwks_url == "https://kubernetes.default.svc/openid/v1/jwks"
        assert settings.auth_jwt_callers == (
            "system:serviceaccount:a:b",
            "system:serviceaccount:c:d",
        )

    @pytest.mark.parametrize("url", ["http://kubernetes.default.svc/jwks", "file:///etc/jwks"])
    def test_keys_come_over_https_only(self, url: str) -> None:
        with pytest.raises(ConfigError) as refused:
            load({"FINDSVC_AUTH_JWKS_URL": url})
        assert str(refused.value) == "FINDSVC_AUTH_JWKS_URL: expected an https:// URL"

    @pytest.mark.parametrize(
        ("env", "message"),
        [
            (
                {"FINDSVC_AUTH_JWKS_URL": "https://issuer/jwks", "FINDSVC_AUTH_JWT_ISSUER": "i"},
                "FINDSVC_AUTH_JWKS_URL needs FINDSVC_AUTH_JWT_ISSUER and FINDSVC_AUTH_JWT_AUDIENCE",
            ),
            (
                {"FINDSVC_AUTH_JWT_AUDIENCE": "findsvc"},
                "FINDSVC_AUTH_JWT_ISSUER and _AUDIENCE need FINDSVC_AUTH_JWKS_FILE or _URL",
            ),
        ],
    )
    def test_issuer_audience_and_keys_go_together(self, env: dict[str, str], message: str) -> None:
        with pytest.raises(ConfigError) as refused:
            load(env)
        assert str(refused.value) == message

    def test_the_url_s_ca_and_token_need_the_url(self, a_file: str) -> None:
        with pytest.raises(ConfigError) as refused:
            load({"FINDSVC_AUTH_JWKS_TOKEN_FILE": a_file})
        assert str(refused.value) == (
            "FINDSVC_AUTH_JWKS_CA and _TOKEN_FILE need FINDSVC_AUTH_JWKS_URL"
        )
