"""A private mariadbd in a temp dir, on a free loopback port: the tests' real MySQL."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import pymysql


def find_mariadbd() -> str | None:
    for name in ("mariadbd", "mysqld"):
        for folder in (None, "/usr/sbin", "/usr/local/sbin", "/usr/libexec"):
            found = shutil.which(name, path=folder)
            if found:
                return found
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PrivateMariaDB:
    """Root with no password, on 127.0.0.1 only; stop() and start() keep the data.

    `options`: more mariadbd options, e.g. --ssl-cert and --ssl-key. `binlog`: a row-based
    binlog with full row images and metadata, as findsvc's binlog cache follows it.
    `server_id`: that binlog, with GTIDs under this id, so replicas can follow (see
    `start_replica`).
    """

    def __init__(
        self, options: Sequence[str] = (), server_id: int | None = None, *, binlog: bool = False
    ) -> None:
        self._options = tuple(options) + _binlog_options(server_id, binlog)
        self.server_id = server_id
        self.dir = Path(tempfile.mkdtemp(prefix="findsvc-mariadb-"))
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None
        binary = find_mariadbd()
        if binary is None:
            raise RuntimeError("no mariadbd: run `make test`, which installs it")
        self._binary = binary
        self._initialize()

    @property
    def url(self) -> str:
        return f"mysql://root@127.0.0.1:{self.port}/glarimy"

    def _tmpdir(self) -> Path:
        # Its own: in a shared /tmp, servers in other PID namespaces can pick the same
        # temporary table names (they hold the pid), and bootstrap then fails now and then.
        tmpdir = self.dir / "tmp"
        tmpdir.mkdir(exist_ok=True)
        return tmpdir

    def _initialize(self) -> None:
        install = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
        if install is None:
            raise RuntimeError("no mariadb-install-db next to mariadbd")
        user = ["--user=root"] if os.geteuid() == 0 else []
        subprocess.run(
            [
                install,
                "--no-defaults",
                f"--datadir={self.dir / 'data'}",
                f"--tmpdir={self._tmpdir()}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                *user,
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def start(self) -> None:
        user = ["--user=root"] if os.geteuid() == 0 else []
        self._process = subprocess.Popen(
            [
                self._binary,
                "--no-defaults",
                f"--datadir={self.dir / 'data'}",
                f"--socket={self.dir / 'mysqld.sock'}",
                f"--tmpdir={self._tmpdir()}",
                f"--pid-file={self.dir / 'mysqld.pid'}",
                f"--log-error={self.dir / 'error.log'}",
                f"--port={self.port}",
                "--bind-address=127.0.0.1",
                "--innodb-buffer-pool-size=64M",
                "--innodb-log-file-size=16M",
                "--max-connections=500",
                *self._options,
                *user,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._wait_ready()

    def _wait_ready(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                log = (self.dir / "error.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"mariadbd exited early:\n{log}")
            try:
                pymysql.connect(host="127.0.0.1", port=self.port, user="root").close()
                return
            except pymysql.err.OperationalError:
                time.sleep(0.1)
        raise RuntimeError("mariadbd did not become ready in time")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=60)
            self._process = None

    def kill(self) -> None:
        """As a crash or a lost host: no goodbye to its clients."""
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=60)
            self._process = None

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def _binlog_options(server_id: int | None, binlog: bool) -> tuple[str, ...]:
    if server_id is None and not binlog:
        return ("--skip-log-bin",)
    # binlog_row_image=FULL is the default.
    return (
        "--log-bin=mariadb-bin",
        f"--server-id={server_id or 1}",
        "--binlog-format=ROW",
        "--binlog-row-metadata=FULL",
    )


def start_replica(replica: PrivateMariaDB, primary: PrivateMariaDB) -> None:
    """Makes the started `replica` follow the started `primary` over GTID, from its start.

    Both need a server_id of their own; the replica copies everything the primary logged.
    """
    with (
        pymysql.connect(host="127.0.0.1", port=replica.port, user="root", autocommit=True) as conn,
        conn.cursor() as cursor,
    ):
        cursor.execute("STOP SLAVE")
        cursor.execute("SET GLOBAL gtid_slave_pos = ''")
        cursor.execute(
            "CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = %s, "
            "MASTER_USER = 'root', MASTER_PASSWORD = '', MASTER_USE_GTID = slave_pos, "
            "MASTER_CONNECT_RETRY = 1",
            (primary.port,),
        )
        cursor.execute("START SLAVE")
