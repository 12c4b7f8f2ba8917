"""Play a generated sequence on both servers, and cut a failing one down.

Hypothesis's own shrinking replays a sequence thousands of times against two
live servers, which takes minutes; this greedy pass drops one step at a time
while the same command still mismatches, a few dozen replays at most.
"""

from tests.support import fresh

from .compare import Mismatch, Pair
from .normalise import rule_name


def replay(servers, resp3, steps, pipelined=False):
    """Two empty servers, fresh connections, `steps` run until the first mismatch; the Pair.
    `pipelined`: the steps (all on connection 1) go out in one write."""
    redis, triokv = servers
    fresh(redis)
    fresh(triokv)
    pair = Pair(redis, triokv, resp3=resp3, stop_at_first=True)
    try:
        if pipelined:
            pair.run_pipelined([args for _, args in steps])
        for index, args in steps if not pipelined else ():
            pair.run(args, index)
    except Mismatch:
        pass
    finally:
        pair.close()
    return pair


def culprit(pair):
    """The rule name of the first mismatching command, None when all matched."""
    return rule_name(pair.failed[0]) if pair.failed and pair.failed[0] else None


def shrink(servers, resp3, steps, name, passes=3, pipelined=False):
    """Drop steps one by one while command `name` still mismatches."""
    for _ in range(passes):
        before = len(steps)
        i = len(steps) - 1
        while i >= 0:
            trial = steps[:i] + steps[i + 1 :]
            if trial and culprit(replay(servers, resp3, trial, pipelined)) == name:
                steps = trial
            i -= 1
        if len(steps) == before:
            break
    return steps


def reproduce(servers, resp3, steps, pipelined=False):
    """(command name, report with the shortest reproduction found), or None when all matched."""
    pair = replay(servers, resp3, steps, pipelined)
    name = culprit(pair)
    if name is None:
        return None
    small = shrink(servers, resp3, steps, name, pipelined=pipelined)
    again = replay(servers, resp3, small, pipelined)
    if culprit(again) != name:  # random picks (SPOP...) made it come and go: show the first run
        return name, "%s\n  (did not reproduce on a replay: random picks are involved)" % pair.report()
    return name, "%s\n  (cut down from %d steps to %d)" % (again.report(), len(steps), len(small))


def check(servers, resp3, steps, pipelined=False):
    """Fail with the shortest reproduction found when the servers disagree."""
    found = reproduce(servers, resp3, steps, pipelined)
    if found is not None:
        raise Mismatch(found[1])
