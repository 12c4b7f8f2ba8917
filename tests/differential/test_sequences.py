"""Hypothesis-generated command sequences, sent to real Redis and to triokv.

Each example starts from two empty servers and fresh connections, runs its
steps on both, and stops at the first reply that differs (rules in
normalise.py). The failure names that command, both raw replies and the
shortest sequence found that still produces it (runner.shrink).
"""

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from . import generators as g
from .runner import check

EXAMPLES = 150
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    # runner.shrink cuts failures down in seconds; hypothesis's shrinker would take minutes.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    # The servers are session fixtures that each example empties itself.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.parametrize("family", sorted(g.FAMILIES))
@SETTINGS
@given(data=g.st.data())
def test_family(redis, triokv, resp3, family, data):
    steps = data.draw(g.sequence(g.FAMILIES[family]), label="steps")
    check((redis, triokv), resp3, steps)


@settings(SETTINGS, max_examples=EXAMPLES * 2)
@given(steps=g.mixed_sequence())
def test_mixed(redis, triokv, resp3, steps):
    check((redis, triokv), resp3, steps)


@settings(SETTINGS, max_examples=EXAMPLES)
@given(steps=g.pipelined_sequence())
def test_pipelined(redis, triokv, resp3, steps):
    """A whole sequence in one write: triokv runs a pipeline's data commands on a fast
    path (Node.run_ready) that MULTI, WATCH, errors or blocking commands in the middle
    must switch off and back on exactly where Redis's per-command checks would apply."""
    check((redis, triokv), resp3, steps, pipelined=True)
