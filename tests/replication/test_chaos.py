"""Random workloads on a triokv master with two triokv replicas, with link cuts, replica
restarts and master restarts in between; at the end every digest is equal. A link cut
is resumed from the backlog: it moves no snapshot (sync_full does not grow)."""

from hypothesis import HealthCheck, example, given, settings, strategies as st

from tests.replication.conftest import Node, sync_counts, wait_linked, wait_same_data
from tests.replication.workload import write_workload

ACTIONS = ("write", "write", "cut_from_master", "cut_from_replica", "restart_replica", "restart_master")


class Cluster:
    def __init__(self):
        self.master = Node("triokv", name="master").start()
        self.replicas = []
        for i in (1, 2):
            node = Node("triokv", name="replica%d" % i)
            node.replica_of = self.master
            self.replicas.append(node.start())
        for r in self.replicas:
            wait_linked(r)

    def remove(self):
        for node in (self.master, *self.replicas):
            node.remove()


def _apply(cluster, action, rng_seed, step):
    master, replicas = cluster.master, cluster.replicas
    if action == "write":
        write_workload(master.client(), seed=rng_seed + step, count=150)
    elif action == "cut_from_master":
        full = sync_counts(master)[0]
        master.client().client_kill_filter(_type="replica")
        write_workload(master.client(), seed=rng_seed + step, count=50)
        for r in replicas:
            wait_linked(r)
        assert sync_counts(master)[0] == full, "a cut inside the backlog must not move a snapshot"
    elif action == "cut_from_replica":
        full = sync_counts(master)[0]
        victim = replicas[step % 2]
        victim.client().client_kill_filter(_type="master")
        wait_linked(victim)
        assert sync_counts(master)[0] == full, "a cut inside the backlog must not move a snapshot"
    elif action == "restart_replica":
        victim = replicas[step % 2]
        victim.client().execute_command("SAVE")
        victim.stop_process()
        write_workload(master.client(), seed=rng_seed + step, count=50)
        victim.start()
        wait_linked(victim)
    else:
        master.client().execute_command("SAVE")
        master.stop_process()
        master.start()  # same port: the replicas find it again (a new history: full resyncs)
        for r in replicas:
            wait_linked(r)


@settings(max_examples=3, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(actions=st.lists(st.sampled_from(ACTIONS), min_size=3, max_size=6), seed=st.integers(0, 1000))
@example(actions=["cut_from_master", "restart_replica", "write", "cut_from_replica", "restart_master", "write", "cut_from_master"], seed=7)
def test_random_workload_with_cuts_and_restarts(actions, seed):
    cluster = Cluster()
    try:
        write_workload(cluster.master.client(), seed=seed, count=100)
        for step, action in enumerate(actions):
            _apply(cluster, action, seed * 100, step)
        wait_same_data(cluster.master, *cluster.replicas)
    finally:
        cluster.remove()
