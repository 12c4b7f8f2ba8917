"""Fixtures for the durability drills (tests/durability/test_drills.py).

`drills` is one cluster in network namespaces per mode ("default", "durable"), shared by the
module's drills to save its start-up: every drill begins by waiting for a healthy cluster in
sync, and a drill that did not end settled marks it broken, so the next drill gets a new one.
Each drill's result is printed and collected; the collection is printed as a table at the end
of the run (default mode's losses are reported there, not failed on).
"""

import random

import pytest

from tests.durability import nemesis
from tests.durability.cluster import HOSTS, Cluster
from tests.durability.drill import run_drill
from tests.faults.conftest import need_netns
from tests.faults.netns import Network

RESULTS = []  # one line per drill, in run order


class Drills:
    """A cluster for one mode, rebuilt when a drill broke it; runs and records drills."""

    def __init__(self, mode: str, base):
        self.mode, self.base = mode, base
        self.net = self.cluster = None
        self.broken = True
        self.builds = 0

    def _build(self):
        self.close()
        self.builds += 1
        self.net = Network(HOSTS, self.base / ("cluster%d" % self.builds)).__enter__()
        self.cluster = Cluster(self.net, "triokv", self.mode).start()
        self.broken = False

    def run(self, case: str, name: str, settings: dict):
        """Drill `case`: nemesis `name` with these Plan settings (its random choices seeded by
        the case, so a rerun repeats them)."""
        if self.broken:
            self._build()
        self.broken = True  # until the drill ends with the cluster settled
        plan = nemesis.Plan(rng=random.Random(case), **settings)
        try:
            result = run_drill(self.cluster, nemesis.ALL[name], case, plan)
        except AssertionError as exc:
            RESULTS.append("triokv/%s %-38s FAILED: %s" % (self.mode, case, str(exc).splitlines()[0][:150]))
            raise AssertionError("%s\nevents: %s\n%s" % (exc, self.cluster.events[-12:], self.cluster.logs())) from None
        self.broken = False
        RESULTS.append(result.summary())
        print(result.summary())
        print(result.explain())
        return result

    def close(self):
        if self.net is not None:
            self.net.teardown()
        self.net = self.cluster = None


@pytest.fixture(scope="module", params=["default", "durable"])
def drills(request, tmp_path_factory):
    need_netns()
    pool = Drills(request.param, tmp_path_factory.mktemp("drills-%s" % request.param))
    yield pool
    pool.close()


def pytest_terminal_summary(terminalreporter):
    if RESULTS:
        terminalreporter.section("durability drills (lost = acknowledged writes missing after the drill)")
        for line in RESULTS:
            terminalreporter.write_line(line)
