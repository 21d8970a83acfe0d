"""Runs `buf breaking`: the contract may only grow. `make breaking`, part of `make test`.

What the working tree's protos are compared with, first that exists:
1. on a branch other than main: the merge-base with main, i.e. main's proto when the branch
   left it (the branch may add to it, never change it);
2. on main itself (CI's fresh clone): HEAD~1, the proto before the last commit landed;
3. a single-commit or shallow clone: HEAD, so uncommitted edits are still checked.
Every case compares with a committed proto, so a fresh clone of main passes unless its last
commit broke the contract, which is exactly what should fail.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _git(*args: str) -> str | None:
    # Fixed argument lists of our own; nothing from outside reaches them.
    done = subprocess.run(  # noqa: S603
        ["git", *args],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else None


def baseline() -> tuple[str, str]:
    head = _git("rev-parse", "HEAD")
    main = _git("rev-parse", "--verify", "--quiet", "main") or _git(
        "rev-parse", "--verify", "--quiet", "origin/main"
    )
    if main and head and main != head:
        base = _git("merge-base", "HEAD", main)
        if base and base != head:
            return base, "the merge-base with main"
    parent = _git("rev-parse", "--verify", "--quiet", "HEAD~1")
    if parent:
        return parent, "HEAD~1"
    return "HEAD", "HEAD"


def main() -> int:
    if _git("rev-parse", "--git-dir") is None:
        print("buf breaking: not a git checkout; nothing committed to compare with")
        return 0
    ref, label = baseline()
    buf = str(Path(sys.executable).parent / "buf")
    print(f"buf breaking: against {label} ({ref[:12]})")
    # Only our module: the vendored googleapis module is not ours to keep compatible, and
    # older commits have no second module to compare it with.
    against = f".git#ref={ref},subdir=protos"
    return subprocess.run(  # noqa: S603
        [buf, "breaking", "protos", "--against", against], cwd=ROOT
    ).returncode


if __name__ == "__main__":
    sys.exit(main())
