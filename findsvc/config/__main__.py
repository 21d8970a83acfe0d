"""Prints the README's settings table; `--write README.md` puts it between the markers there."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from findsvc.config.table import settings_table, with_settings_table


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m findsvc.config", description=__doc__)
    parser.add_argument("--write", type=Path, metavar="README", help="update the table there")
    readme: Path | None = parser.parse_args().write
    if readme is None:
        print(settings_table())
        return 0
    try:
        readme.write_text(with_settings_table(readme.read_text(encoding="utf-8")), encoding="utf-8")
    except (OSError, ValueError) as error:
        print(f"python -m findsvc.config: {readme}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
