"""fold's ASCII shortcut gives the key the full Unicode fold gives, for every ASCII name.
(tests/integration/test_name_fold.py checks the fold itself against MariaDB's collations.)"""

from __future__ import annotations

import string

from hypothesis import example, given
from hypothesis import strategies as st

from findsvc.policies.name_fold import fold, fold_unicode

ASCII = st.text(st.characters(max_codepoint=0x7F))


@given(ASCII)
@example("KrishnaMohan")
@example("Mass  \t\x00\x7f")
@example(string.printable)
def test_the_ascii_shortcut_folds_as_unicode_does(name: str) -> None:
    assert fold(name) == fold_unicode(name)


def test_a_name_beyond_ascii_takes_the_unicode_fold() -> None:
    assert fold("Straße") == fold_unicode("Straße") == fold("strasse")
