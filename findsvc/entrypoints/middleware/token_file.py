"""The tokens file: `TOKEN NAME` a line, so each caller has a name and can be cut off alone.

A line with only a token is still valid; its caller is `unnamed`. Blank lines and lines
starting with # (indented or not) are skipped. A token or a name on two lines is an error:
two callers sharing a token could not be told apart, and one caller under two tokens could
not be cut off by removing one line.
"""

from __future__ import annotations

import hmac
import logging
from pathlib import Path

from findsvc.entrypoints.file_watch import FileWatch

log = logging.getLogger(__name__)

UNNAMED = "unnamed"

# How often, at most, the tokens file is checked for a change (token rotation, no restart).
RELOAD_CHECK_S = 1.0

# A name becomes a metric label and a log field: keep it short and plain.
NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:@/")
MAX_NAME_CHARS = 128


class TokenFileError(ValueError):
    """What is wrong with the file, by line number: never the token itself."""


def read_tokens(path: Path) -> dict[bytes, str]:
    """Each token and its caller's name. Raises TokenFileError, OSError, UnicodeDecodeError."""
    callers: dict[bytes, str] = {}
    named: dict[str, int] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        token, *rest = line.split()
        if len(rest) > 1:
            raise TokenFileError(f"line {number}: expected TOKEN or TOKEN NAME")
        name = rest[0] if rest else UNNAMED
        if len(name) > MAX_NAME_CHARS or not set(name) <= NAME_CHARS:
            raise TokenFileError(
                f"line {number}: a name is at most {MAX_NAME_CHARS} letters, digits or -_.:@/"
            )
        if token.encode() in callers:
            raise TokenFileError(f"line {number}: this token is on an earlier line too")
        if name != UNNAMED and name in named:
            raise TokenFileError(f"line {number}: the name {name} is on line {named[name]} too")
        named.setdefault(name, number)
        callers[token.encode()] = name
    if not callers:
        raise TokenFileError("the file holds no tokens")
    return callers


class TokenFile:
    """The accepted tokens, re-read when the file changes (a rotated Kubernetes Secret).

    A file that cannot be read, or is wrong, keeps the tokens loaded before, with one warning
    until it changes again: an emptied or half-written Secret must not lock every caller out.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._watch = FileWatch(path, every_s=RELOAD_CHECK_S)
        self._callers = read_tokens(path)
        self._unreadable = False

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self._callers.values())

    def caller_of(self, candidate: bytes) -> str | None:
        """The caller whose token this is, or None. Compares with every token, in constant
        time each, so the answer's timing tells nothing of which token came close."""
        self._reload_if_changed()
        found: str | None = None
        for token, name in self._callers.items():
            if hmac.compare_digest(token, candidate):
                found = name
        return found

    def _reload_if_changed(self) -> None:
        try:
            if not self._watch.changed():  # a bad file is reported once, not at every check
                return
            callers = read_tokens(self._path)
        except (OSError, UnicodeDecodeError):
            if not self._unreadable:  # once until it reads again, not at every check
                log.warning("cannot read the tokens file; keeping the tokens loaded before")
            self._unreadable = True
            return
        except TokenFileError as error:
            log.warning(f"tokens file: {error}; keeping the tokens loaded before")
            return
        self._unreadable = False
        self._callers = callers
        log.info("tokens reloaded", extra={"tokens": len(callers)})
