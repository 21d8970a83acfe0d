"""The `findsvc` command: serve, find, and database chores."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from google.protobuf import json_format

from findsvc import bootstrap
from findsvc.adapters.mysql.grants import BINLOG_PRIVILEGES, BadGrant, read_only_account_sql
from findsvc.client import FindClient, FindError, UserRecord
from findsvc.config import EXIT_CONFIG, ConfigError, Settings, add_flags, load
from findsvc.entrypoints.grpc_server import serve_until_signalled
from findsvc.process import cpu_pinning, supervisor
from findsvc.telemetry import logs
from glarimy.ums.find.v1 import find_service_pb2

log = logging.getLogger("findsvc")

# What `findsvc db seed --demo` loads.
DEMO_USERS: tuple[tuple[str, int, datetime], ...] = (
    ("KrishnaMohan", 9731423166, datetime(2018, 3, 14, 9, 30, tzinfo=UTC)),
    ("AdaLovelace", 9845012345, datetime(2019, 12, 10, 8, 0, tzinfo=UTC)),
    ("GraceHopper", 9900112233, datetime(2020, 12, 9, 17, 45, tzinfo=UTC)),
    ("AlanTuring", 9123456780, datetime(2021, 6, 23, 12, 0, tzinfo=UTC)),
)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "find":
            return _find(args)
        if args.command == "db" and args.db_command == "grant":
            return _grant(args.user, args.host, args.database, args.password_file, args.binlog)
        settings = load(os.environ, vars(args))
    except ConfigError as error:
        print(f"findsvc: {error}", file=sys.stderr)
        return EXIT_CONFIG
    logs.configure(settings.log_level)
    if args.command == "serve":
        return _serve(settings)
    try:
        return _db(args.db_command, settings, demo=getattr(args, "demo", False))
    except ConfigError as error:
        print(f"findsvc: {error}", file=sys.stderr)
        return EXIT_CONFIG


def _serve(settings: Settings) -> int:
    if settings.processes > 1:
        return supervisor.serve_processes(settings, lambda index: _serve_one(settings, index))
    code = _serve_one(settings, 0)
    if code == 0:
        # Calls cut at the end of the grace may still hold worker threads in a DB wait; the
        # interpreter would join them at exit. The drain and grace are the promise: exit now.
        # (A supervisor's child exits so too, once its metrics dir is let go.)
        sys.stdout.flush()
        os._exit(0)
    return code


def _serve_one(settings: Settings, index: int) -> int:
    """Serves as the index-th server process, until signalled."""
    placed = cpu_pinning.keep_to_one_cpu(settings.cpu_pinning, index, settings.processes)
    try:
        service = bootstrap.build_service(settings)
    except ConfigError as error:
        print(f"findsvc: {error}", file=sys.stderr)
        return EXIT_CONFIG
    if placed is not None:
        log.info(placed)
    serve_until_signalled(service.server, repeat_ends_at_once=settings.processes == 1)
    service.close()
    logging.shutdown()
    return 0


def _find(args: argparse.Namespace) -> int:
    files = {}
    for option in ("ca_cert", "client_cert", "client_key", "token_file"):
        path = getattr(args, option)
        try:
            files[option] = Path(path).read_bytes() if path else None
        except OSError:
            raise ConfigError(f"--{option.replace('_', '-')}: cannot read {path}") from None
    token = files["token_file"].decode().strip() if files["token_file"] else None
    try:
        client = FindClient(
            args.target,
            deadline_s=args.deadline,
            tls=args.tls,
            root_certificates=files["ca_cert"],
            client_certificate=files["client_cert"],
            client_key=files["client_key"],
            token=token,
        )
    except ValueError as error:
        raise ConfigError(str(error)) from None
    with client:
        try:
            record = client.find(args.name)
        except FindError as error:
            print(f"findsvc find: {error.code.name}: {error.details}", file=sys.stderr)
            return 1
    print(user_json(record))
    return 0


def user_json(record: UserRecord) -> str:
    """The record in proto3 JSON, as grpcurl and REST show it: the int64 phone as a string,
    the time in RFC 3339 with Z. One shape of a user wherever a user reads one."""
    message = find_service_pb2.UserRecord(name=record.name, phone=record.phone)
    message.since.FromDatetime(record.since)
    return json_format.MessageToJson(message, indent=None)


def _db(command: str, settings: Settings, demo: bool) -> int:
    users = bootstrap.build_store(settings)
    try:
        users.create_schema()
        if command == "seed" and demo:
            users.add_all(DEMO_USERS)
    except Exception as error:  # noqa: BLE001 - one line for the operator, not a traceback
        print(f"findsvc db {command}: failed: {type(error).__name__}", file=sys.stderr)
        return 1
    finally:
        users.close()
    target = settings.db_url.redacted if settings.db_url else str(bootstrap.DEFAULT_SQLITE_PATH)
    log.info("db %s done on %s", command, target)
    return 0


def _grant(
    user: str, host: str, database: str, password_file: str | None, binlog: str | None
) -> int:
    try:
        password = None
        if password_file is not None:
            password = Path(password_file).read_text(encoding="utf-8").rstrip("\r\n")
        print(read_only_account_sql(user, host, database, password, binlog), end="")
    except (BadGrant, OSError) as error:
        reason = str(error) if isinstance(error, BadGrant) else "cannot read --password-file"
        print(f"findsvc db grant: {reason}", file=sys.stderr)
        return EXIT_CONFIG
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="findsvc", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve FindService over gRPC")
    add_flags(serve)

    find = commands.add_parser("find", help="look up a user and print it as JSON")
    find.add_argument("name")
    find.add_argument("--target", default="localhost:50051", help="host:port of a findsvc")
    find.add_argument("--deadline", type=float, default=5.0, help="seconds to wait at most")
    find.add_argument("--tls", action="store_true", help="TLS with the system's root CAs")
    find.add_argument("--ca-cert", metavar="PEM", help="CA to check the server with (TLS)")
    find.add_argument("--client-cert", metavar="PEM", help="client certificate (mutual TLS)")
    find.add_argument("--client-key", metavar="PEM", help="client private key (mutual TLS)")
    find.add_argument("--token-file", metavar="FILE", help="file holding a bearer token")

    db = commands.add_parser("db", help="database chores for dev and tests")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    add_flags(db_commands.add_parser("init", help="create the table as the AddService would"))
    seed = db_commands.add_parser("seed", help="create the table and load users")
    seed.add_argument("--demo", action="store_true", required=True, help="load the demo users")
    add_flags(seed)
    grant = db_commands.add_parser("grant", help="print the SQL for a read-only DB account")
    grant.add_argument("user", help="the account findsvc will connect as")
    grant.add_argument("--host", default="%", help="where it may connect from (default: %%)")
    grant.add_argument("--database", default="glarimy", help="the AddService's database")
    grant.add_argument("--password-file", help="put this file's password in the SQL")
    grant.add_argument(
        "--binlog",
        choices=sorted(BINLOG_PRIVILEGES),
        help="also grant what the binlog cache needs, on this kind of server",
    )
    return parser


if __name__ == "__main__":
    sys.exit(main())
