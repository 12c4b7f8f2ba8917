"""Fixtures for fault tests in network namespaces (tests/faults/netns.py).

`network(hosts)` builds a Network under the test's tmp_path and tears it down
after the test, whatever happened. Without root or the tools it skips with the
reason (printed again at the end of the run); with CI set it fails instead.
"""

import os

import pytest

from tests.faults.netns import Network, missing_tools
from tests.support import SKIP_REASONS


def need_netns(partitions: bool = True):
    """Skip (fail in CI) unless this machine can build namespaced networks."""
    reasons = missing_tools(partitions)
    if not reasons:
        return
    reason = "network namespace tests need root and iproute2/util-linux/iptables: " + "; ".join(reasons)
    if os.environ.get("CI"):
        pytest.fail("CI is set but " + reason, pytrace=False)
    SKIP_REASONS.add(reason)
    pytest.skip(reason)


@pytest.fixture
def network(tmp_path):
    """network(["node1", "client"]) -> a Network, torn down at the end of the test."""
    need_netns()
    built = []

    def make(hosts):
        net = Network(hosts, tmp_path / ("net%d" % len(built)))
        built.append(net)
        return net.__enter__()

    yield make
    for net in built:
        net.teardown()
