"""Who may call: the tokens file and JWT auth."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from findsvc.config import parsers as parse
from findsvc.config.options import setting
from findsvc.config.setting_kinds import PEM_FILE


@dataclass(frozen=True)
class AuthSettings:
    auth_tokens_file: Path | None = setting(
        None,
        parse.readable_file,
        "a readable file",
        "bearer tokens, one a line, each optionally followed by its caller's name: turns on "
        "token auth for FindService",
        see="Bearer tokens",
    )
    auth_jwks_file: Path | None = setting(
        None,
        parse.readable_file,
        "a readable JWKS (JSON) file",
        "keys of a JWT issuer (a cluster's /openid/v1/jwks), re-read when it changes: turns on "
        "JWT auth for FindService (RS256, ES256); the caller is the token's sub",
        see="JWTs: Kubernetes service-account tokens",
    )
    auth_jwks_url: str | None = setting(
        None,
        parse.https_url,
        "an https:// URL",
        "where the JWT issuer publishes its keys (a cluster's "
        "https://kubernetes.default.svc/openid/v1/jwks), fetched every 5 min in the background: "
        "turns on JWT auth for FindService",
        see="JWTs: Kubernetes service-account tokens",
    )
    auth_jwks_ca: Path | None = setting(
        None, parse.readable_file, PEM_FILE, "CA of the JWKS URL's server", unset="the system's CAs"
    )
    auth_jwks_token_file: Path | None = setting(
        None,
        parse.readable_file,
        "a readable file",
        "bearer token to show the JWKS URL (the pod's service-account token), read at each fetch",
    )
    auth_jwt_issuer: str | None = setting(
        None, parse.optional_text, "a URL or name", "the iss a JWT must have (with JWT keys)"
    )
    auth_jwt_audience: str | None = setting(
        None, parse.optional_text, "a name", "the aud a JWT must have (with JWT keys)"
    )
    auth_jwt_callers: tuple[str, ...] | None = setting(
        None,
        parse.name_list,
        "comma-separated JWT subjects",
        "the JWT callers the metrics name; others count as other",
        unset="the first 100 distinct subjects",
    )
