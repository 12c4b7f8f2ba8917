"""Hypothesis-generated command sequences, sent to real Redis and to triokv.

Each example starts from two empty servers and fresh connections, runs its
steps on both, and stops at the first reply that differs (rules in
normalise.py). The failure names that command, both raw replies and the
commands before it; hypothesis then shrinks the sequence to a short one.
"""

import pytest
from hypothesis import HealthCheck, given, settings

from tests.support import fresh

from . import generators as g
from .compare import Pair

EXAMPLES = 150
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    # The servers are session fixtures emptied by each example itself.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


def play(redis, triokv, resp3, steps):
    fresh(redis)
    fresh(triokv)
    pair = Pair(redis, triokv, resp3=resp3, stop_at_first=True)
    try:
        for index, args in steps:
            pair.run(args, index)
    finally:
        pair.close()


@pytest.mark.parametrize("family", sorted(g.FAMILIES))
@SETTINGS
@given(data=g.st.data())
def test_family(redis, triokv, resp3, family, data):
    steps = data.draw(g.sequence(g.FAMILIES[family]), label="steps")
    play(redis, triokv, resp3, steps)


@settings(SETTINGS, max_examples=EXAMPLES * 2)
@given(steps=g.mixed_sequence())
def test_mixed(redis, triokv, resp3, steps):
    play(redis, triokv, resp3, steps)
