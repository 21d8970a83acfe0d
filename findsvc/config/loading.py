"""Reading the settings: the flags of a command, and load() from the environment and flags."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

from findsvc.config.errors import ConfigError
from findsvc.config.parsers import OutOfRange
from findsvc.config.settings import OPTIONS, Settings


def add_flags(parser: argparse.ArgumentParser) -> None:
    """Adds a --flag for every setting; unset flags fall back to the environment."""
    for option in OPTIONS:
        parser.add_argument(
            option.flag,
            dest=option.name,
            default=None,
            metavar="VALUE",
            help=f"{option.help} [{option.env_var}]",
        )


def load(environ: Mapping[str, str], flags: Mapping[str, str | None] | None = None) -> Settings:
    """Raises ConfigError naming the first bad setting."""
    values: dict[str, Any] = {}
    for option in OPTIONS:
        flag_value = (flags or {}).get(option.name)
        raw = flag_value if flag_value is not None else environ.get(option.env_var)
        if raw is None:
            continue
        source = option.flag if flag_value is not None else option.env_var
        try:
            values[option.name] = option.parse(raw.strip())
        except ConfigError as error:
            raise ConfigError(str(error).replace("FINDSVC_DB_URL", source)) from None
        except OutOfRange as error:
            raise ConfigError(f"{source}: expected {option.expects} {error}") from None
        except ValueError:
            raise ConfigError(f"{source}: expected {option.expects}") from None
    settings = Settings(**values)
    _check_consistency(settings)
    return settings


def _check_consistency(settings: Settings) -> None:
    if (settings.tls_cert is None) != (settings.tls_key is None):
        raise ConfigError("FINDSVC_TLS_CERT and FINDSVC_TLS_KEY go together: set both or neither")
    if settings.tls_client_ca is not None and settings.tls_cert is None:
        raise ConfigError("FINDSVC_TLS_CLIENT_CA needs FINDSVC_TLS_CERT and FINDSVC_TLS_KEY")
    if settings.db_password_file is not None and (
        settings.db_url is None or settings.db_url.scheme != "mysql"
    ):
        raise ConfigError("FINDSVC_DB_PASSWORD_FILE needs a mysql:// FINDSVC_DB_URL")
    if settings.db_replica_urls and (settings.db_url is None or settings.db_url.scheme != "mysql"):
        raise ConfigError("FINDSVC_DB_REPLICA_URLS needs a mysql:// FINDSVC_DB_URL (the primary)")
    if settings.db_replica_urls and settings.db_replica_max_lag_s < 2 * settings.health_interval_s:
        # Lag is measured once an interval: a tighter limit would take caught-up replicas out.
        raise ConfigError(
            "FINDSVC_DB_REPLICA_MAX_LAG_S must be at least twice FINDSVC_HEALTH_INTERVAL_S"
        )
    if settings.db_tls_ca is not None and settings.db_tls not in ("verify-ca", "verify-identity"):
        raise ConfigError("FINDSVC_DB_TLS_CA needs FINDSVC_DB_TLS=verify-ca or verify-identity")
    jwt_claims = (settings.auth_jwt_issuer, settings.auth_jwt_audience)
    jwt_keys = settings.auth_jwks_file is not None or settings.auth_jwks_url is not None
    if jwt_keys and None in jwt_claims:
        keys = "FINDSVC_AUTH_JWKS_FILE" if settings.auth_jwks_file else "FINDSVC_AUTH_JWKS_URL"
        raise ConfigError(f"{keys} needs FINDSVC_AUTH_JWT_ISSUER and FINDSVC_AUTH_JWT_AUDIENCE")
    if not jwt_keys and jwt_claims != (None, None):
        raise ConfigError(
            "FINDSVC_AUTH_JWT_ISSUER and _AUDIENCE need FINDSVC_AUTH_JWKS_FILE or _URL"
        )
    if settings.auth_jwks_url is None and (settings.auth_jwks_ca or settings.auth_jwks_token_file):
        raise ConfigError("FINDSVC_AUTH_JWKS_CA and _TOKEN_FILE need FINDSVC_AUTH_JWKS_URL")
