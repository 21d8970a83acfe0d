"""Makes sure the tests have a MySQL: FINDSVC_TEST_MYSQL_URL, or a mariadbd to start privately.

Installs Debian's mariadb-server when mariadbd is missing and we are root; otherwise says, in
one line, what to install.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from tests.support.mariadb import find_mariadbd


def main() -> int:
    if os.environ.get("FINDSVC_TEST_MYSQL_URL") or find_mariadbd():
        return 0
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        print(
            "make test needs a MySQL: install Debian's mariadb-server (apt-get install "
            "mariadb-server) or set FINDSVC_TEST_MYSQL_URL=mysql://user:pw@host:port/db",
            file=sys.stderr,
        )
        return 2
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    quiet = {"stdout": subprocess.DEVNULL, "env": env, "check": True}
    print("installing Debian's mariadb-server for the integration tests", file=sys.stderr)
    subprocess.run(["apt-get", "update", "-q"], **quiet)
    subprocess.run(
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", "mariadb-server"], **quiet
    )
    return 0 if find_mariadbd() else 2


if __name__ == "__main__":
    sys.exit(main())
