"""Jepsen-style fault drills: every nemesis against a triokv cluster in network namespaces, in
the default (asynchronous, Redis's) mode and in the durable mode (synchronous-replicas 1).

Every drill must end with the cluster settled and converged (tests/durability/drill.py), no
value present twice and none that nobody wrote. In durable mode no acknowledged write may be
lost; in default mode losses are printed and collected in the end-of-run summary, not failed
on (that is the behaviour the durable mode exists to fix).
"""

import pytest

from tests.durability import nemesis

# Drill -> (nemesis, Plan settings): each nemesis with the default Plan (faults of 4 s, longer
# than a failover needs). The master-with-replica partition runs twice, healed at a step of the
# failover rather than after a fixed time (where the heal lands decides what is tested, and a
# fixed time lands anywhere on a loaded machine): once when the attempt is over (a replica
# promoted, or the attempt given up: the durable mode must give up, as only one replica is
# reachable), once as soon as the leader starts choosing a replica (so the replica with the
# newest writes answers the fence while the leader's view of it is still "down").
OVER = ("+promoted-slave", "-failover-abort-no-good-slave")
CASES = {name: (name, {}) for name in nemesis.ALL}
CASES["isolate_master_with_replica"] = ("isolate_master_with_replica", {"heal_on": OVER, "fault": 12.0})
CASES["isolate_master_with_replica_early_heal"] = ("isolate_master_with_replica", {"heal_on": ("+failover-state-select-slave",), "fault": 12.0})

# Durable-mode drills that lose acknowledged writes because a piece is missing outside the
# tests; the drill is xfail for that loss only (any other failure still fails). Remove an entry
# once its piece lands.
MISSING = {}


class AcknowledgedWritesLost(AssertionError):
    pass


@pytest.mark.parametrize("case", list(CASES))
def test_drill(drills, case, request):
    if drills.mode == "durable" and case in MISSING:
        # Marked here, not on the parameter: the same id runs in default mode, where it must pass.
        request.node.add_marker(pytest.mark.xfail(raises=AcknowledgedWritesLost, strict=False, reason=MISSING[case]))
    name, settings = CASES[case]
    result = drills.run(case, name, settings)
    v = result.verdict
    assert v.duplicates == 0 and v.unknown_present == 0, result.summary()
    if drills.mode == "durable" and v.acknowledged_lost:
        raise AcknowledgedWritesLost("%s\n%s" % (result.summary(), result.explain()))
