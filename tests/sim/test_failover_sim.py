"""Whole groups (three nodes, three sentinels) on MockClock: failovers, partitions and
restarts in virtual time, each checked for its outcome and its events."""

import trio

from tests.sim.cluster import Group, until


def leaders_by_epoch(group):
    """epoch -> set of sentinels that announced +elected-leader in it."""
    out = {}
    for s in group.sentinels:
        epoch = None
        for _, type_, message in s.events:
            if type_ == "+new-epoch":
                epoch = int(message)
            elif type_ == "+elected-leader":
                out.setdefault(epoch, set()).add(s.host)
    return out


async def failed_over(group, *also_old, deadline=30):
    """Until the sentinels agree on a master other than the first one (and also_old) and the
    group has settled."""
    old = (None, ("10.0.0.1", 6379), *also_old)
    await until(lambda: group.agreed_master() not in old and group.settled(), deadline)


async def test_master_killed_fails_over(autojump_clock):
    async with trio.open_nursery() as nursery:
        group = Group(nursery, seed=1)
        await group.start()
        old = group.nodes[0]
        old.run("SET", "before", "kill")
        await until(lambda: all(n.run("GET", "before") == b"$4\r\nkill\r\n" for n in group.nodes[1:]))
        killed_at = trio.current_time()
        old.kill()
        await failed_over(group)
        took = trio.current_time() - killed_at
        new = group.node_at(group.agreed_master())
        assert new.run("GET", "before") == b"$4\r\nkill\r\n"
        assert new.run("SET", "after", "1") == b"+OK\r\n"
        # Every sentinel saw the same story: SDOWN, ODOWN or not, then the switch.
        for s in group.sentinels:
            types = s.types()
            assert "+sdown" in types and types.count("+switch-master") == 1, types
        leaders = leaders_by_epoch(group)
        assert all(len(who) == 1 for who in leaders.values()), leaders
        leader = next(s for s in group.sentinels if "+elected-leader" in s.types())
        expected = ["+sdown", "+odown", "+try-failover", "+elected-leader", "+failover-state-select-slave", "+selected-slave",
                    "+failover-state-send-slaveof-noone", "+failover-state-wait-promotion", "+promoted-slave",
                    "+failover-state-reconf-slaves", "+slave-reconf-sent", "+slave-reconf-inprog", "+slave-reconf-done",
                    "+failover-end", "+switch-master"]
        seen = [t for t in leader.types() if t in expected]
        assert _subsequence(expected, seen), seen
        assert took < 1 + 5 + 2  # down-after, then the failover in a few seconds of virtual time

        # The old master comes back empty: it is turned into a replica of the new one.
        await old.start()
        await until(lambda: old.node.role == "slave" and group.settled(), 60)
        assert any(t == "+convert-to-slave" for s in group.sentinels for t in s.types())
        await until(lambda: old.run("GET", "after") == b"$1\r\n1\r\n", 30)
        nursery.cancel_scope.cancel()


def _subsequence(wanted, seen) -> bool:
    it = iter(seen)
    return all(any(x == w for x in it) for w in wanted)


async def test_minority_partition_cannot_fail_over(autojump_clock):
    """The master and one sentinel cut off from the other two sentinels and replicas: the
    majority side fails over; the old master's side cannot (one sentinel is no majority),
    and after the heal the old master becomes a replica of the new one."""
    async with trio.open_nursery() as nursery:
        group = Group(nursery, seed=2)
        await group.start()
        minority = ["10.0.0.1", "10.0.1.1"]
        majority = ["10.0.0.2", "10.0.0.3", "10.0.1.2", "10.0.1.3"]
        group.net.partition(minority, majority)
        s1 = group.sentinels[0]
        await until(lambda: all(s.master_addr() != ("10.0.0.1", 6379) for s in group.sentinels[1:]), 30)
        await trio.sleep(10)
        assert s1.master_addr() == ("10.0.0.1", 6379)
        assert "+elected-leader" not in s1.types() and "+odown" not in s1.types()
        new_addr = group.sentinels[1].master_addr()
        group.net.heal()
        await until(group.settled, 60)
        assert group.agreed_master() == new_addr
        assert group.nodes[0].node.role == "slave"
        nursery.cancel_scope.cancel()


async def test_lone_sentinel_sees_sdown_but_no_odown(autojump_clock):
    async with trio.open_nursery() as nursery:
        group = Group(nursery, seed=3)
        await group.start()
        lone = group.sentinels[2]
        group.net.partition([lone.host], [h.host for h in group.nodes + group.sentinels[:2]])
        await until(lambda: "+sdown" in lone.types(), 10)
        await trio.sleep(15)
        assert "+odown" not in lone.types() and "+try-failover" not in lone.types()
        assert all("+sdown" not in s.types() or "+odown" not in s.types() for s in group.sentinels[:2])
        group.net.heal()
        await until(lambda: "-sdown" in lone.types(), 10)
        assert group.agreed_master() == ("10.0.0.1", 6379)
        nursery.cancel_scope.cancel()


async def test_master_back_before_down_after_no_failover(autojump_clock):
    async with trio.open_nursery() as nursery:
        group = Group(nursery, seed=4)
        await group.start()
        everyone = [n.host for n in group.nodes[1:]] + [s.host for s in group.sentinels]
        group.net.partition(["10.0.0.1"], everyone)
        await trio.sleep(0.6)  # less than down-after-milliseconds (1000)
        group.net.heal()
        await trio.sleep(10)
        for s in group.sentinels:
            assert "+sdown" not in s.types() and "+switch-master" not in s.types(), s.types()
        assert group.settled() and group.agreed_master() == ("10.0.0.1", 6379)
        nursery.cancel_scope.cancel()


async def test_failover_with_passwords_everywhere(autojump_clock):
    """Nodes with requirepass (sentinels use auth-pass) and sentinels with requirepass (they
    use sentinel-pass with each other): discovery, votes and the failover all authenticate."""
    async with trio.open_nursery() as nursery:
        group = Group(nursery, seed=8, password="s3cret")
        await group.start()
        group.nodes[0].kill()
        await failed_over(group)
        leaders = leaders_by_epoch(group)
        assert sum(len(who) for who in leaders.values()) == 1
        nursery.cancel_scope.cancel()


async def test_priority_zero_replica_never_chosen(autojump_clock):
    async with trio.open_nursery() as nursery:
        group = Group(nursery, seed=5, priorities=(100, 0, 100))
        await group.start()
        group.nodes[0].kill()
        await failed_over(group)
        assert group.agreed_master() == ("10.0.0.3", 6379)
        nursery.cancel_scope.cancel()


async def test_two_failovers_in_a_row(autojump_clock):
    async with trio.open_nursery() as nursery:
        group = Group(nursery, seed=6)
        await group.start()
        group.nodes[0].kill()
        await failed_over(group)
        first = group.node_at(group.agreed_master())
        epoch1 = group.sentinels[0].sentinel.masters["mymaster"].config_epoch
        await until(lambda: all(len(s.sentinel.masters["mymaster"].slaves) == 2 for s in group.sentinels), 10)
        first.kill()
        await failed_over(group, (first.host, first.port), deadline=40)
        epoch2 = group.sentinels[0].sentinel.masters["mymaster"].config_epoch
        assert epoch2 > epoch1
        for s in group.sentinels:
            assert s.count("+switch-master") == 2, s.types()
        nursery.cancel_scope.cancel()


async def test_manual_failover_loses_no_write(autojump_clock):
    """SENTINEL FAILOVER while a client writes: every acknowledged write is on the new master."""
    async with trio.open_nursery() as nursery:
        group = Group(nursery, seed=7)
        await group.start()
        acked = []
        stop = trio.Event()

        async def writer():
            from replication.resp_client import RespClient

            i = 0
            while not stop.is_set():
                addr = group.agreed_master() or ("10.0.0.1", 6379)
                try:
                    client = await RespClient.connect(*addr, timeout=1, open_stream=group.net.opener("10.0.9.9"))
                    while not stop.is_set():
                        i += 1
                        if await client.call("SET", "k%d" % i, i, timeout=1) == b"OK":
                            acked.append(i)
                        await trio.sleep(0.01)
                except (ConnectionError, OSError):
                    await trio.sleep(0.05)

        nursery.start_soon(writer)
        await trio.sleep(1)
        leader = group.sentinels[0]
        reply = _sentinel_command(leader, "SENTINEL", "FAILOVER", "mymaster")
        assert reply == b"+OK\r\n", reply
        await failed_over(group)
        await trio.sleep(1)
        stop.set()
        new = group.node_at(group.agreed_master())
        missing = [i for i in acked if new.run("GET", "k%d" % i) == b"$-1\r\n"]
        assert acked and not missing, (len(acked), missing[:5])
        assert group.nodes[0].node.role == "slave"
        assert leader.sentinel.masters["mymaster"].config_epoch == 1
        assert "Replica" not in str(leader.types())  # only Redis's events were published
        assert "+elected-leader" in leader.types() and "+switch-master" in leader.types()
        nursery.cancel_scope.cancel()


def _sentinel_command(sim_sentinel, *args):
    node = sim_sentinel.net.servers[(sim_sentinel.host, sim_sentinel.port)].node
    client = node.new_client("127.0.0.1:1")
    node.execute(client, [a.encode() for a in args])
    node.remove_client(client)
    return b"".join(client.out)


async def _chaos(seed):
    """Random kills and restarts (of nodes and of sentinels, which carry on from their saved
    state), and partitions; then everything heals. Invariants: at most one
    leader per epoch, and the group settles on one master that every node follows."""
    import random

    rng = random.Random(seed)
    async with trio.open_nursery() as nursery:
        group = Group(nursery, seed=seed)
        await group.start()
        hosts = [a.host for a in group.nodes + group.sentinels]
        for _ in range(4):
            action = rng.choice(["kill", "kill-sentinel", "partition", "partition", "nothing"])
            if action.startswith("kill"):
                victim = rng.choice(group.nodes if action == "kill" else group.sentinels)
                victim.kill()
                await trio.sleep(rng.uniform(2, 12))
                await victim.start()
            elif action == "partition":
                side = rng.sample(hosts, rng.randint(1, 3))
                group.net.partition(side, [h for h in hosts if h not in side])
                await trio.sleep(rng.uniform(0.5, 12))
                group.net.heal()
            await trio.sleep(rng.uniform(1, 8))
        await until(group.settled, 120)
        leaders = leaders_by_epoch(group)
        assert all(len(who) == 1 for who in leaders.values()), leaders
        epochs = {s.sentinel.masters["mymaster"].config_epoch for s in group.sentinels}
        assert len(epochs) == 1, epochs
        nursery.cancel_scope.cancel()


async def test_chaos_seed_11(autojump_clock):
    await _chaos(11)


async def test_chaos_seed_12(autojump_clock):
    await _chaos(12)


async def test_chaos_seed_13(autojump_clock):
    await _chaos(13)


async def test_chaos_seed_14(autojump_clock):
    await _chaos(14)
