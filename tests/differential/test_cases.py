"""Table-driven cases (cases/*.txt, format in script.py), each run in RESP2 and RESP3."""

import pytest

from .script import load_all, play

CASES = load_all()


@pytest.mark.parametrize("lines", [lines for _, lines in CASES], ids=[name for name, _ in CASES])
def test_case(pair, lines):
    play(pair, lines)
    pair.assert_clean()
