"""What the tests and the bench both need to run findsvc for real, and no part of findsvc:
a private MariaDB on a free loopback port (`mariadb`), a `findsvc serve` process that is
killed on the way out (`server`), FindUser callers in background threads (`callers`),
Envoy's REST gateway in front of it (`envoy`, which `make rest` runs) and the repository's
ROOT. `tests/` and `bench/` import it; it imports neither, and runs findsvc only as a
process."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the repository's root
