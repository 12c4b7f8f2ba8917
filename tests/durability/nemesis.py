"""Nemeses: the faults a drill injects, each a function of the cluster, the roles at the start
of the drill and a Plan (how long, which random choices). Each one leaves the network healed
and every process running again when it returns; settling is the drill's job.

    isolate_master                 the master's cable pulled: nobody reaches it, client included
    isolate_master_with_replica    {master, one replica, client} | {other replica, sentinels}:
                                   the client stays with the old master, where Redis loses writes
    isolate_master_from_sentinels  only the sentinels lose the master; replicas and client keep it
    kill_master                    kill -9 (link down first: a power cut), restart from its dir
    kill_master_and_replica        the same for the master and one replica, restarted together
    kill_master_and_leading_replica  the other replica is cut from the master first (lag), so the
                                   killed one holds acknowledged writes that only its disk keeps
    flapping_partition             {master, client} cut from the rest and healed, several times
    sentinel_majority_cut          two sentinels cut from everyone else
    pause_master                   SIGSTOP the master for longer than down-after, then SIGCONT

Why the client sits where it does: a client cut off with the master can only time out, which
loses nothing; a client left with a master that the sentinels replace is Jepsen's case.
"""

import random
import time
from dataclasses import dataclass, field

from tests.durability.cluster import CLIENT, SENTINELS


@dataclass
class Plan:
    fault: float = 4.0  # seconds a fault lasts (> down-after + election + promotion)
    flaps: int = 3
    flap_cut: float = 1.5  # seconds cut per flap: around down-after, so failovers may or may not start
    flap_heal: float = 1.0
    lag: float = 0.6  # seconds a replica is held back before kill_master_and_leading_replica
    # isolate_master_with_replica: heal once a sentinel logs one of these texts (the failover
    # reached that step), at most `fault` seconds after the cut; None: after `fault` seconds
    heal_on: tuple = None
    rng: random.Random = field(default_factory=lambda: random.Random(0))

    def sleep(self, seconds: float):
        time.sleep(seconds)


def _cut_from_rest(c, side):
    c.note("partition %s | rest" % side)
    c.net.partition(side, c.net.others(*side))


def _heal(c):
    c.net.heal()
    c.note("heal")


def isolate_master(c, roles, plan: Plan):
    master = roles["master"]
    c.note("isolate %s" % master)
    c.net.isolate(master)
    plan.sleep(plan.fault)
    _heal(c)


def isolate_master_with_replica(c, roles, plan: Plan):
    master, (kept, *_) = roles["master"], plan.rng.sample(roles["replicas"], 2)
    minority = [master, kept, CLIENT]
    marks = c.log_sizes(SENTINELS)
    _cut_from_rest(c, minority)
    if plan.heal_on is None:
        plan.sleep(plan.fault)
    else:
        c.note("a sentinel logged %r" % c.wait_log(marks, plan.heal_on, plan.fault))
    _heal(c)


def isolate_master_from_sentinels(c, roles, plan: Plan):
    master = roles["master"]
    c.note("partition %s | sentinels" % master)
    c.net.partition([master], list(SENTINELS))
    plan.sleep(plan.fault)
    _heal(c)


def kill_master(c, roles, plan: Plan):
    master = roles["master"]
    c.note("kill -9 %s" % master)
    c.net.kill(master)
    plan.sleep(plan.fault)
    c.restart(master)


def kill_master_and_replica(c, roles, plan: Plan):
    master, replica = roles["master"], plan.rng.choice(roles["replicas"])
    c.note("kill -9 %s and %s" % (master, replica))
    c.net.kill(master)
    c.net.kill(replica)
    plan.sleep(plan.fault)
    for host in plan.rng.sample([master, replica], 2):
        c.restart(host)


def kill_master_and_leading_replica(c, roles, plan: Plan):
    """The guarantee covers it: the killed replica comes back with what it acknowledged (fsync
    always), and it alone has the last acknowledged writes; the failover must not lose them."""
    master, (ahead, behind) = roles["master"], plan.rng.sample(roles["replicas"], 2)
    c.note("partition %s | %s (it falls behind)" % (behind, master))
    c.net.partition([behind], [master])
    plan.sleep(plan.lag)
    c.note("kill -9 %s and %s" % (master, ahead))
    c.net.kill(master)
    c.net.kill(ahead)
    _heal(c)
    plan.sleep(plan.fault)
    for host in plan.rng.sample([master, ahead], 2):
        c.restart(host)


def flapping_partition(c, roles, plan: Plan):
    master = roles["master"]
    side = [master, CLIENT]
    for _ in range(plan.flaps):
        _cut_from_rest(c, side)
        plan.sleep(plan.flap_cut)
        _heal(c)
        plan.sleep(plan.flap_heal)


def sentinel_majority_cut(c, roles, plan: Plan):
    cut = sorted(plan.rng.sample(list(SENTINELS), 2))
    _cut_from_rest(c, cut)
    plan.sleep(plan.fault)
    _heal(c)


def pause_master(c, roles, plan: Plan):
    master = roles["master"]
    c.note("SIGSTOP %s" % master)
    c.net.pause(master)
    plan.sleep(plan.fault)
    c.net.resume(master)
    c.note("SIGCONT %s" % master)


ALL = {
    fn.__name__: fn
    for fn in (
        isolate_master,
        isolate_master_with_replica,
        isolate_master_from_sentinels,
        kill_master,
        kill_master_and_replica,
        kill_master_and_leading_replica,
        flapping_partition,
        sentinel_majority_cut,
        pause_master,
    )
}
