"""`synchronous-replicas N`: a write is acknowledged to its client only once N replicas hold
it; otherwise the client gets an error, never a success (replication.synchronous)."""

import os
import signal

import pytest
import redis as redis_py

from tests.replication.conftest import wait_linked, wait_same_data
from tests.support import wait_until


@pytest.fixture
def pair(nodes):
    """A master with synchronous-replicas 1 (timeout 500 ms) and one replica linked to it."""
    master = nodes("triokv", "--synchronous-replicas", 1, "--synchronous-replicas-timeout", 500, "--min-replicas-max-lag", 2, name="master")
    replica = nodes("triokv", replica_of=master, name="replica")
    wait_linked(replica)
    wait_until(lambda: master.info()["slave0"]["state"] == "online", 10, "the replica to be online")
    return master, replica


def test_an_acknowledged_write_is_already_on_the_replica(pair):
    master, replica = pair
    m, r = master.client(), replica.client()
    for i in range(200):
        assert m.set("k%d" % i, i) is True
        # No waiting here: the reply came after the replica acknowledged, so it holds the key.
        assert r.get("k%d" % i) == str(i).encode()
    pipe = m.pipeline(transaction=False)
    for i in range(100):
        pipe.rpush("log", i)
        pipe.get("k1")
    assert pipe.execute()[-2:] == [100, b"1"]
    assert r.llen("log") == 100
    tx = m.pipeline(transaction=True)
    tx.incr("n").incr("n")
    assert tx.execute() == [1, 2]
    assert r.get("n") == b"2"
    wait_same_data(master, replica)


def test_a_write_the_replica_cannot_acknowledge_is_an_error(pair):
    master, replica = pair
    m = master.client()
    m.set("before", 1)
    os.kill(replica.proc.pid, signal.SIGSTOP)
    try:
        with pytest.raises(redis_py.ResponseError, match="NOREPLICAS Write not acknowledged by 1 replica"):
            m.set("unacknowledged", 1)
        # Reads are served as ever, and a pipeline gets an error for each write only.
        pipe = m.pipeline(transaction=False)
        pipe.get("before").set("x", 1).get("before")
        replies = pipe.execute(raise_on_error=False)
        assert replies[0] == b"1" and replies[2] == b"1" and isinstance(replies[1], redis_py.ResponseError)
        # Once the replica stopped acknowledging for min-replicas-max-lag, writes fail fast,
        # without being applied, with the reason named.
        def refused():
            try:
                m.set("fast", 1)
            except redis_py.ResponseError as e:
                return "Not enough good replicas to write: synchronous-replicas is 1" in str(e)
            return False

        wait_until(refused, 10, "writes to be refused at once")
        with pytest.raises(redis_py.ResponseError, match="Not enough good replicas"):
            m.set("refused", 1)
        assert m.get("refused") is None
    finally:
        os.kill(replica.proc.pid, signal.SIGCONT)
    wait_until(lambda: _writes(m), 10, "writes to be acknowledged again")


def _writes(client) -> bool:
    try:
        return client.set("again", 1) is True
    except redis_py.ResponseError:
        return False


def test_a_fenced_replica_stops_acknowledging_until_given_a_master(pair):
    master, replica = pair
    m, r = master.client(), replica.client()
    m.set("k", 1)
    offset = r.execute_command("FENCE", 3, 60000)
    assert offset == master.info()["master_repl_offset"] or offset > 0
    with pytest.raises(redis_py.ResponseError, match="NOREPLICAS"):
        m.set("during-fence", 1)
    assert r.get("during-fence") is None
    assert r.info("replication")["master_link_status"] == "down"
    assert "Fenced by a failover (epoch 3)" in replica.log_text()
    # REPLICAOF (a sentinel's reconfiguration) ends the fence.
    r.execute_command("REPLICAOF", master.host, master.port)
    wait_linked(replica)
    wait_until(lambda: _writes(m), 10, "writes to be acknowledged after the fence")
    with pytest.raises(redis_py.ResponseError, match="FENCE is for replicas"):
        m.execute_command("FENCE", 1, 1000)


def test_a_fence_expires(pair):
    master, replica = pair
    replica.client().execute_command("FENCE", 1, 300)
    wait_linked(replica)
    assert master.client().set("after", 1) is True


def test_a_master_restarted_empty_waits_for_confirmation_and_never_wipes_its_replica(pair):
    """Without persistence a restarted master holds nothing: its replica must not be
    resynchronized to that. It refuses to serve as master until told what it is."""
    master, replica = pair
    m = master.client()
    for i in range(50):
        m.set("k%d" % i, i)
    master.kill9()
    master.start()
    fresh = master.client()
    with pytest.raises(redis_py.ResponseError, match="UNCONFIRMED This node was master and restarted without its full dataset"):
        fresh.set("x", 1)
    with pytest.raises(redis_py.ResponseError, match="UNCONFIRMED"):
        fresh.ping()
    assert fresh.info("replication")["role"] == "master"
    assert "did not shut down cleanly" in master.log_text()
    # The replica keeps every acknowledged write meanwhile (its resync is refused).
    wait_until(lambda: "UNCONFIRMED" in replica.log_text(), 10, "the replica's sync to be refused")
    assert replica.client().dbsize() == 50
    # A sentinel's (or an operator's) decision: the old master follows the replica, promoted.
    replica.client().execute_command("REPLICAOF", "NO", "ONE")
    fresh.execute_command("REPLICAOF", replica.host, replica.port)
    wait_linked(master)
    assert fresh.get("k49") == b"49"


def test_a_clean_restart_is_confirmed_at_once(pair):
    master, replica = pair
    master.client().set("k", 1)
    master.stop_process()  # SIGTERM: no save points, but nothing to lose with the replica in sync?
    master.start()
    # Without persistence the clean shutdown saved no dataset: still unconfirmed.
    with pytest.raises(redis_py.ResponseError, match="UNCONFIRMED"):
        master.client().set("x", 1)
    assert "does not hold the history it ended with" in master.log_text()


def test_a_clean_restart_from_its_snapshot_is_confirmed(nodes):
    master = nodes("triokv", "--synchronous-replicas", 1, "--synchronous-replicas-timeout", 500, "--save", "3600 1", name="master")
    replica = nodes("triokv", replica_of=master, name="replica")
    wait_linked(replica)
    wait_until(lambda: master.info()["slave0"]["state"] == "online", 10, "the replica to be online")
    assert master.client().set("k", 1)
    master.stop_process()
    master.start()
    wait_linked(replica)
    wait_until(lambda: _writes(master.client()), 10, "writes to be acknowledged after a clean restart")
    assert master.info("stats")["sync_full"] == 0


def test_a_replica_restarted_from_its_aof_reports_the_position_it_holds(nodes):
    """With the AOF on, a replica claims (ACK, INFO, FENCE) only what is on its disk, and after
    a crash still reports it, so a failover leader comparing offsets does not pass it over."""
    args = ("--synchronous-replicas", 1, "--synchronous-replicas-timeout", 1000, "--appendonly", "yes", "--appendfsync", "always")
    master = nodes("triokv", *args, name="master")
    replica = nodes("triokv", *args, replica_of=master, name="replica")
    wait_linked(replica)
    wait_until(lambda: master.info()["slave0"]["state"] == "online", 10, "the replica to be online")
    m = master.client()
    for i in range(100):
        assert m.rpush("log", i)
    acked = master.info()["master_repl_offset"]
    master.kill9()
    replica.kill9()
    replica.start()
    r = replica.client()
    assert r.llen("log") == 100
    assert "Restored the replication position" in replica.log_text()
    # At least the offset of the last acknowledged write (a GETACK may follow it in the stream).
    assert r.info("replication")["slave_repl_offset"] >= acked - 40
    assert r.execute_command("FENCE", 1, 1000) == r.info("replication")["slave_repl_offset"]
