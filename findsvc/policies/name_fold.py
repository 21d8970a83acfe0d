"""A key every spelling of a name shares that MySQL's case- and accent-insensitive collations
(utf8mb4_general_ci, utf8mb4_unicode_ci, utf8mb4_0900_ai_ci and their kin) call equal.

The binlog cache evicts by it: when a row named N changes, every cached key whose fold equals
fold(N) goes. The fold may be coarser than the collation (then a key is evicted that did not
have to be: one more query), never finer (then a stale answer would stay). So it throws away
whatever any of those collations ignores: case, accents and other combining marks,
compatibility forms, invisible format characters and trailing spaces (PAD SPACE); and it maps
the letters one collation expands and another does not (ß is `s` to general_ci and `ss` to the
Unicode ones) to one spelling.
"""

from __future__ import annotations

import re
import unicodedata

# Letters whose mark is not a combining one, so NFKD keeps them, but that general_ci or the
# Unicode collations sort with their base letter.
_BASE_LETTERS = str.maketrans(
    {
        "đ": "d",
        "ð": "d",
        "ø": "o",
        "ł": "l",
        "ħ": "h",
        "ŧ": "t",
        "\u0131": "i",  # dotless i
        "ŀ": "l",
        "ĸ": "k",
        "ŉ": "n",
        "þ": "th",
        "æ": "ae",
        "œ": "oe",
        "ŋ": "n",
        "ƀ": "b",
        "ƈ": "c",
        "ɗ": "d",
        "ƒ": "f",
        "ɠ": "g",
        "ɨ": "i",
        "ƙ": "k",
        "ƚ": "l",
        "ɲ": "n",
        "ɵ": "o",
        "ƥ": "p",
        "ʠ": "q",
        "ƫ": "t",
        "ƭ": "t",
        "\u028b": "v",  # v with hook
        "ƴ": "y",
        "ƶ": "z",
    }
)
_IGNORED_CATEGORIES = frozenset({"Mn", "Mc", "Me", "Cf", "Cc", "Zl", "Zp"})
_RUNS_OF_S = re.compile("s+")


def fold(name: str) -> str:
    # Case folding can itself make marks (İ folds to i and a combining dot): decompose after.
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", name).casefold())
    kept = "".join(ch for ch in decomposed if unicodedata.category(ch) not in _IGNORED_CATEGORIES)
    folded = kept.translate(_BASE_LETTERS)
    # general_ci weighs ß as one s, the Unicode collations as two: any run of s is one s.
    return _RUNS_OF_S.sub("s", folded).rstrip(" ")
