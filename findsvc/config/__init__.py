"""Settings: read once from the environment and CLI flags, validated, frozen.

Every setting has an env var FINDSVC_<NAME> and a flag --<name>; a flag wins. Each is written
once, as a field of `Settings` (settings.py, made of server_settings.py, auth_settings.py and
database_settings.py) whose `setting(...)` default carries its parser, what it expects and its
help (options.py); load(), the flags with their --help, and the docs' Settings page
(`python -m findsvc.config`, docs_page.py) all come from those fields. parsers.py turns raw
values into typed ones, database_url.py parses FINDSVC_DB_URL, and errors.py holds ConfigError
and the exit code 2. The package imports the standard library, itself, and findsvc.cpu_budget
(for --processes auto) only. The composition root and the entrypoints read `Settings`; the
domain never imports it, and adapters take plain values instead.
"""

from findsvc.config.database_url import DatabaseUrl, parse_database_url
from findsvc.config.errors import EXIT_CONFIG, ConfigError
from findsvc.config.loading import add_flags, load
from findsvc.config.options import Option, env_name, flag_name, setting
from findsvc.config.parsers import DB_TLS_MODES, MAX_SECONDS, MIN_HEALTH_INTERVAL_S
from findsvc.config.settings import OPTIONS, Settings

__all__ = [
    "DB_TLS_MODES",
    "EXIT_CONFIG",
    "MAX_SECONDS",
    "MIN_HEALTH_INTERVAL_S",
    "OPTIONS",
    "ConfigError",
    "DatabaseUrl",
    "Option",
    "Settings",
    "add_flags",
    "env_name",
    "flag_name",
    "load",
    "parse_database_url",
    "setting",
]
