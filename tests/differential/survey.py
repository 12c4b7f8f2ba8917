"""Survey: every distinct mismatch random sequences find, each with a short reproduction.

Not a test: the test suite stops at the first mismatch of each test, this keeps
going. Once a command has mismatched (per protocol), later sequences leave it
out, so the commands behind it get their turn. Each finding is cut down to the
steps that still produce it.

    python -m tests.differential.survey [--examples 300] [--family lists]
"""

import argparse
import sys

from hypothesis import HealthCheck, Phase, given, settings

from tests.support import ServerProcess

from . import generators as g
from .normalise import rule_name
from .runner import reproduce


def survey(servers, family, strategy, resp3, examples, found):
    @settings(max_examples=examples, deadline=None, phases=[Phase.generate], database=None, suppress_health_check=list(HealthCheck))
    @given(steps=strategy)
    def run(steps):
        steps = [(i, a) for i, a in steps if (rule_name(a), resp3) not in found]
        if not steps:
            return
        found_here = reproduce(servers, resp3, steps)
        if found_here is None or (found_here[0], resp3) in found:
            return
        found[(found_here[0], resp3)] = found_here[1]
        name = found_here[0]
        print("[%s %s] %s" % (family, "RESP3" if resp3 else "RESP2", found[(name, resp3)]), flush=True)

    run()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=300)
    parser.add_argument("--family", choices=sorted(g.FAMILIES) + ["mixed"], action="append")
    parser.add_argument("--resp", choices=["2", "3"], action="append")
    opts = parser.parse_args(argv)
    families = opts.family or sorted(g.FAMILIES) + ["mixed"]
    protocols = [p == "3" for p in opts.resp or ["2", "3"]]
    found = {}
    with ServerProcess("redis", name="redis-server") as redis, ServerProcess("triokv") as triokv:
        for resp3 in protocols:
            for family in families:
                strategy = g.mixed_sequence() if family == "mixed" else g.sequence(g.FAMILIES[family])
                survey((redis, triokv), family, strategy, resp3, opts.examples, found)
    print("\n%d distinct mismatching commands" % len(found))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
