"""What the tests and the bench both need to run findsvc for real, and no part of findsvc:
a private MariaDB on a free loopback port (`mariadb`), a `findsvc serve` process that is
killed on the way out (`server`), and Envoy's REST gateway in front of it (`envoy`, which
`make rest` runs). `tests/` and `bench/` import it; it imports neither, nor anything of
findsvc but its command line."""
