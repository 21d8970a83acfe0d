"""What a binlog event says changed in ums_users, for the follower to tell its cache."""

from __future__ import annotations

from typing import Any

from pymysqlreplication.row_event import DeleteRowsEvent, UpdateRowsEvent, WriteRowsEvent

TABLE = "ums_users"
ROW_EVENTS = (WriteRowsEvent, UpdateRowsEvent, DeleteRowsEvent)


def changed_names(event: Any) -> list[str] | None:
    """The names in a row event's images, before and after; None when the binlog has no
    column names (binlog_row_metadata is not FULL), so what changed cannot be told."""
    names: list[str] = []
    for row in event.rows:
        for image in ("values", "before_values", "after_values"):
            values = row.get(image)
            if values is None:
                continue
            if "name" not in values:
                return None
            if values["name"] is not None:
                names.append(str(values["name"]))
    return names


def may_change_rows(event: Any) -> bool:
    """A query event (TRUNCATE, DROP, RENAME...) that changes rows without row events."""
    query = str(event.query).lower()
    return TABLE in query and not query.startswith(("begin", "commit", "xa "))
