"""A key every spelling of a name shares that MySQL's case- and accent-insensitive collations
(utf8mb4_general_ci, utf8mb4_unicode_ci, utf8mb4_0900_ai_ci and their kin) call equal.

The binlog cache evicts by it: when a row named N changes, every cached key whose fold equals
fold(N) goes. The fold may be coarser than the collation (then a key is evicted that did not
have to be: one more query), never finer (then a stale answer would stay). So it throws away
whatever any of those collations ignores: case, accents and other combining marks,
compatibility forms, invisible format characters and spaces (trailing ones: PAD SPACE); it maps
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
        "\u214d": "a/s",  # aktieselskab, which uca1400 expands as ℁ (a/s)
        "ƴ": "y",
        "ƶ": "z",
    }
)
# Marks, invisible characters and every space: a space inside a name is dropped as well as a
# trailing one, which is coarser than any collation, never finer.
_IGNORED_CATEGORIES = frozenset({"Mn", "Mc", "Me", "Cf", "Cc", "Zs", "Zl", "Zp"})
# The middle dot of ŀ, once NFKD splits it off; and iota: general_ci ignores the iota
# subscript (U+1FB3 is alpha) where the Unicode collations weigh it as an iota (alpha iota).
_IGNORED = frozenset("\u00b7\u03b9")
_NUMBER_CATEGORIES = frozenset({"No", "Nl"})
_RUNS_OF_S = re.compile("s+")


# What _fold_char drops of ASCII: the control characters and the space.
_ASCII_IGNORED = str.maketrans("", "", "".join(map(chr, range(0x21))) + "\x7f")


def fold(name: str) -> str:
    if name.isascii():  # most names: the same key without unicodedata, in a third of the time
        return _RUNS_OF_S.sub("s", name.lower().translate(_ASCII_IGNORED))
    return fold_unicode(name)


def fold_unicode(name: str) -> str:
    """fold for any text; fold's ASCII shortcut must give what this gives."""
    # Case folding can itself make marks (İ folds to i and a combining dot): decompose after.
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", name).casefold())
    folded = "".join(_fold_char(ch) for ch in decomposed).translate(_BASE_LETTERS)
    # general_ci weighs ß as one s, the Unicode collations as two: any run of s is one s.
    return _RUNS_OF_S.sub("s", folded)


def _fold_char(ch: str) -> str:
    category = unicodedata.category(ch)
    if category in _IGNORED_CATEGORIES or ch in _IGNORED:
        return ""
    if category in _NUMBER_CATEGORIES:
        # Circled, negative circled, Roman late forms...: the Unicode collations weigh them
        # as their number, which NFKD does not always say.
        number = unicodedata.numeric(ch, None)
        if number is not None and number == int(number):
            return str(int(number))
    return ch
