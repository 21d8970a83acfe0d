"""The demo users that `findsvc db seed --demo` loads."""

from __future__ import annotations

from datetime import UTC, datetime

DEMO_USERS: tuple[tuple[str, int, datetime], ...] = (
    ("KrishnaMohan", 9731423166, datetime(2018, 3, 14, 9, 30, tzinfo=UTC)),
    ("AdaLovelace", 9845012345, datetime(2019, 12, 10, 8, 0, tzinfo=UTC)),
    ("GraceHopper", 9900112233, datetime(2020, 12, 9, 17, 45, tzinfo=UTC)),
    ("AlanTuring", 9123456780, datetime(2021, 6, 23, 12, 0, tzinfo=UTC)),
)
