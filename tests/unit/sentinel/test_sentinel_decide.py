"""The sentinel's pure rules (sentinel.decide): SDOWN, ODOWN, votes, the leader count and the
choice of the replica to promote."""

from sentinel import decide
from sentinel.instances import MASTER_DOWN, O_DOWN, S_DOWN, SLAVE, Settings

from sentinel_fakes import Clock, make_sentinel


def test_sdown_after_down_after_without_a_valid_reply():
    clock = Clock()
    s, master = make_sentinel(clock)
    settings = s.settings
    master.link.act_ping_time = clock.now  # a PING sent, no reply yet
    clock.advance(1000)
    assert not decide.is_sdown(master, clock.now, settings)  # exactly down-after: not yet
    clock.advance(1)
    assert decide.is_sdown(master, clock.now, settings)
    master.link.act_ping_time = 0  # PONG
    assert not decide.is_sdown(master, clock.now, settings)


def test_sdown_of_a_disconnected_link_counts_from_the_last_valid_reply():
    clock = Clock()
    s, master = make_sentinel(clock)
    link = master.link
    link.act_ping_time = 0
    link.disconnected = True
    link.last_avail_time = clock.now - 1500
    assert decide.is_sdown(master, clock.now, s.settings)


def test_a_master_reporting_replica_too_long_is_sdown():
    clock = Clock()
    s, master = make_sentinel(clock)
    master.role_reported = SLAVE
    master.role_reported_time = clock.now
    clock.advance(1000 + 2 * s.settings.info_period)
    assert not decide.is_sdown(master, clock.now, s.settings)
    clock.advance(1)
    master.link.act_ping_time = 0
    assert decide.is_sdown(master, clock.now, s.settings)


def test_stale_connections_are_reopened_only_once_old_enough():
    clock = Clock()
    s, master = make_sentinel(clock)
    link = master.link
    link.act_ping_time = clock.now
    clock.advance(600)  # more than half of down-after, with no reply at all
    assert decide.stale_connections(master, clock.now, s.settings) == (False, False)  # connected just now
    link.cc_conn_time = link.pc_conn_time = clock.now - 20000
    link.last_pong_time = clock.now - 600
    link.pc_last_activity = clock.now - 7000
    assert decide.stale_connections(master, clock.now, s.settings) == (True, True)


def test_odown_needs_quorum_including_me():
    s, master = make_sentinel(quorum=2)
    assert not decide.is_odown(master)  # not even SDOWN here
    master.flags |= S_DOWN
    assert decide.odown_votes(master) == 1 and not decide.is_odown(master)
    next(iter(master.sentinels.values())).flags |= MASTER_DOWN
    assert decide.odown_votes(master) == 2 and decide.is_odown(master)
    master.quorum = 3
    assert not decide.is_odown(master)


def test_one_vote_per_epoch():
    assert decide.may_vote(master_leader_epoch=0, current_epoch=1, req_epoch=1)
    assert not decide.may_vote(master_leader_epoch=1, current_epoch=1, req_epoch=1)  # already voted in 1
    assert not decide.may_vote(master_leader_epoch=0, current_epoch=3, req_epoch=2)  # an old epoch
    assert decide.may_vote(master_leader_epoch=1, current_epoch=1, req_epoch=2)


def test_leader_needs_majority_of_all_sentinels_and_quorum():
    assert decide.elected({"a": 2}, voters=3, quorum=2) == "a"
    assert decide.elected({"a": 1, "b": 1}, voters=3, quorum=2) is None
    assert decide.elected({"a": 2}, voters=4, quorum=2) is None  # 2 of 4 is no majority
    assert decide.elected({"a": 3}, voters=5, quorum=4) is None  # majority, below quorum
    assert decide.elected({"a": 4}, voters=5, quorum=4) == "a"
    assert decide.elected({}, voters=1, quorum=1) is None


def test_count_votes_ignores_other_epochs():
    s, master = make_sentinel(sentinels=3)
    a, b, c = master.sentinels.values()
    a.leader, a.leader_epoch = "x", 2
    b.leader, b.leader_epoch = "x", 1
    c.leader, c.leader_epoch = "y", 2
    assert decide.count_votes(master, 2) == {"x": 1, "y": 1}


def test_replica_choice_priority_then_offset_then_runid():
    clock = Clock()
    s, master = make_sentinel(clock, replicas=4)
    r1, r2, r3, r4 = master.slaves.values()
    r1.slave_priority, r2.slave_priority, r3.slave_priority, r4.slave_priority = 100, 50, 50, 50
    r2.slave_repl_offset, r3.slave_repl_offset, r4.slave_repl_offset = 10, 20, 20
    r3.runid, r4.runid = "B" * 40, "a" * 40
    assert decide.select_slave(master, clock.now, s.settings) is r4  # a < B, compared case-blind
    r4.runid = "c" * 40
    assert decide.select_slave(master, clock.now, s.settings) is r3
    r3.slave_repl_offset = 5
    assert decide.select_slave(master, clock.now, s.settings) is r4


def test_replicas_that_cannot_be_promoted():
    clock = Clock()
    s, master = make_sentinel(clock, replicas=6)
    settings: Settings = s.settings
    r = list(master.slaves.values())
    r[0].flags |= S_DOWN
    r[1].link.disconnected = True
    r[2].link.last_avail_time = clock.now - settings.ping_period * 5 - 1
    r[3].slave_priority = 0
    r[4].info_refresh = clock.now - settings.info_period * 3 - 1
    r[5].master_link_down_time = master.down_after_period * 10 + 1
    assert decide.select_slave(master, clock.now, settings) is None
    r[5].master_link_down_time = 0
    assert decide.select_slave(master, clock.now, settings) is r[5]
    # While the master is SDOWN, INFO must be fresher (every second), and a longer link-down is fine.
    master.flags |= S_DOWN
    master.s_down_since_time = clock.now - 60000
    r[5].master_link_down_time = 60000
    r[5].info_refresh = clock.now - settings.ping_period * 5 + 1
    assert decide.select_slave(master, clock.now, settings) is r[5]
    r[5].info_refresh = clock.now - settings.ping_period * 5 - 1
    assert decide.select_slave(master, clock.now, settings) is None


def test_master_looks_sane_and_no_down_for():
    clock = Clock()
    s, master = make_sentinel(clock)
    assert decide.master_looks_sane(master, clock.now, s.settings)
    master.flags |= O_DOWN
    assert not decide.master_looks_sane(master, clock.now, s.settings)
    replica = next(iter(master.slaves.values()))
    assert decide.no_down_for(replica, 8000, clock.now)
    replica.s_down_since_time = clock.now - 5000
    assert not decide.no_down_for(replica, 8000, clock.now)
    clock.advance(3001)
    assert decide.no_down_for(replica, 8000, clock.now)


def test_failover_retry_waits_twice_the_timeout():
    clock = Clock()
    s, master = make_sentinel(clock)
    master.failover_start_time = clock.now
    clock.advance(2 * master.failover_timeout - 1)
    assert not decide.failover_allowed(master, clock.now)
    clock.advance(1)
    assert decide.failover_allowed(master, clock.now)
