"""The failover state machine and what drives it (votes, INFO, hellos, TILT), without sockets:
commands are recorded by fake connections and answered by the test."""

from sentinel import election, failover, hello
from sentinel.instances import (FAILOVER_IN_PROGRESS, FORCE_FAILOVER, MASTER_DOWN, O_DOWN, PROMOTED, RECONF_DONE, RECONF_INPROG,
                                RECONF_SENT, STATE_NONE, STATE_RECONF_SLAVES, STATE_SELECT_SLAVE, STATE_SEND_SLAVEOF_NOONE,
                                STATE_UPDATE_CONFIG, STATE_WAIT_PROMOTION, STATE_WAIT_START, S_DOWN)
from sentinel.refresh import refresh_from_info

from sentinel_fakes import Clock, make_sentinel, types

SLAVEOF_NO_ONE = ["MULTI", "SLAVEOF NO ONE", "CONFIG REWRITE", "CLIENT KILL TYPE normal", "CLIENT KILL TYPE pubsub", "EXEC"]


def _info_replica(master_host, master_port, link="up", offset=100, priority=100):
    return ("# Replication\r\nrole:slave\r\nmaster_host:%s\r\nmaster_port:%d\r\nmaster_link_status:%s\r\nslave_repl_offset:%d\r\n"
            "slave_priority:%d\r\nreplica_announced:1\r\n" % (master_host, master_port, link, offset, priority)).encode()


def _info_master(runid, offset=100, replicas=()):
    lines = ["# Server", "run_id:%s" % runid, "# Replication", "role:master", "connected_slaves:%d" % len(replicas)]
    lines += ["slave%d:ip=%s,port=%d,state=online,offset=%d,lag=0" % (i, ip, port, offset) for i, (ip, port) in enumerate(replicas)]
    lines.append("master_repl_offset:%d" % offset)
    return ("\r\n".join(lines) + "\r\n").encode()


def _odown(s, master):
    master.flags |= S_DOWN | O_DOWN
    master.s_down_since_time = s.now()
    for si in master.sentinels.values():
        si.flags |= MASTER_DOWN


def _vote(master, epoch, runid):
    for si in master.sentinels.values():
        si.leader, si.leader_epoch = runid, epoch


def _start_with_our_votes(s, master):
    """ODOWN, a failover started in epoch 1, and the other sentinels voted for us."""
    _odown(s, master)
    failover.start(s, master)
    _vote(master, 1, s.settings.myid)


def test_start_failover_new_epoch_and_try():
    s, master = make_sentinel()
    _odown(s, master)
    assert failover.start_if_needed(s, master)
    assert master.flags & FAILOVER_IN_PROGRESS and master.failover_state == STATE_WAIT_START
    assert s.settings.current_epoch == master.failover_epoch == 1
    assert types(s) == ["+new-epoch", "+try-failover"]
    assert not failover.start_if_needed(s, master)  # one at a time


def test_not_elected_waits_then_aborts():
    clock = Clock()
    s, master = make_sentinel(clock)
    _odown(s, master)
    failover.start(s, master)
    _vote(master, 1, "f" * 40)  # the others voted for another sentinel
    failover.run_state_machine(s, master)
    assert master.failover_state == STATE_WAIT_START
    assert ("+vote-for-leader", "%s 1" % ("f" * 40)) in s.recorded  # we follow the most voted one
    clock.advance(master.failover_timeout + 1001)
    failover.run_state_machine(s, master)
    assert master.failover_state == STATE_NONE and not master.flags & FAILOVER_IN_PROGRESS
    assert "-failover-abort-not-elected" in types(s)


def test_full_failover_sequence():
    clock = Clock()
    s, master = make_sentinel(clock, replicas=3)
    master.parallel_syncs = 1
    r1, r2, r3 = master.slaves.values()
    r2.slave_repl_offset = 500  # the most advanced replica
    _start_with_our_votes(s, master)
    failover.run_state_machine(s, master)  # elected
    assert master.failover_state == STATE_SELECT_SLAVE
    failover.run_state_machine(s, master)
    assert master.promoted_slave is r2 and r2.flags & PROMOTED and master.failover_state == STATE_SEND_SLAVEOF_NOONE
    failover.run_state_machine(s, master)
    assert r2.link.cc.names() == SLAVEOF_NO_ONE  # the master is down: no pause, promoted at once
    assert master.failover_state == STATE_WAIT_PROMOTION
    # The promoted replica's INFO says master: the config epoch becomes the failover's.
    refresh_from_info(s, r2, _info_master("2" * 40, 500))
    assert master.failover_state == STATE_RECONF_SLAVES and master.config_epoch == 1
    # Reconfigure the others one at a time (parallel-syncs 1).
    failover.run_state_machine(s, master)
    sent = [r for r in (r1, r3) if r.flags & RECONF_SENT]
    assert len(sent) == 1
    first = sent[0]
    assert "SLAVEOF 10.0.0.3 6379" in first.link.cc.names()
    refresh_from_info(s, first, _info_replica("10.0.0.3", 6379, link="down"))
    assert first.flags & RECONF_INPROG
    refresh_from_info(s, first, _info_replica("10.0.0.3", 6379))
    assert first.flags & RECONF_DONE
    failover.run_state_machine(s, master)
    second = r3 if first is r1 else r1
    assert second.flags & RECONF_SENT
    refresh_from_info(s, second, _info_replica("10.0.0.3", 6379))
    refresh_from_info(s, second, _info_replica("10.0.0.3", 6379))
    failover.run_state_machine(s, master)
    assert master.failover_state == STATE_UPDATE_CONFIG
    s.handle_instances([master])  # the timer switches the address
    assert (master.addr.host, master.addr.port) == ("10.0.0.3", 6379)
    assert sorted(master.slaves) == ["10.0.0.1:6379", "10.0.0.2:6379", "10.0.0.4:6379"]
    expected = ["+elected-leader", "+failover-state-select-slave", "+selected-slave", "+failover-state-send-slaveof-noone",
                "+failover-state-wait-promotion", "+promoted-slave", "+failover-state-reconf-slaves", "+slave-reconf-sent",
                "+slave-reconf-inprog", "+slave-reconf-done", "+slave-reconf-sent", "+slave-reconf-inprog", "+slave-reconf-done",
                "+failover-end", "+switch-master"]
    seen = [t for t in types(s) if t in expected]
    assert seen == expected, seen
    assert ("+switch-master", "mymaster 10.0.0.1 6379 10.0.0.3 6379") in s.recorded


def test_no_good_replica_aborts():
    s, master = make_sentinel()
    for r in master.slaves.values():
        r.slave_priority = 0
    _start_with_our_votes(s, master)
    failover.run_state_machine(s, master)
    failover.run_state_machine(s, master)
    assert master.failover_state == STATE_NONE and "-failover-abort-no-good-slave" in types(s)


def test_promotion_timeout_aborts_and_unmarks():
    clock = Clock()
    s, master = make_sentinel(clock)
    _start_with_our_votes(s, master)
    for _ in range(3):
        failover.run_state_machine(s, master)
    promoted = master.promoted_slave
    assert master.failover_state == STATE_WAIT_PROMOTION
    clock.advance(master.failover_timeout + 1)
    failover.run_state_machine(s, master)
    assert master.failover_state == STATE_NONE and master.promoted_slave is None and not promoted.flags & PROMOTED
    assert "-failover-abort-slave-timeout" in types(s)


def test_manual_failover_pauses_and_waits_for_the_offset():
    """SENTINEL FAILOVER with the master up: CLIENT PAUSE WRITE, then promotion only once the
    replica reached the paused master's offset; the old master is demoted, then unpaused."""
    clock = Clock()
    s, master = make_sentinel(clock)
    failover.start(s, master)
    master.flags |= FORCE_FAILOVER
    failover.run_state_machine(s, master)  # no vote needed
    failover.run_state_machine(s, master)  # replica chosen
    promoted = master.promoted_slave
    failover.run_state_machine(s, master)
    assert master.link.cc.names() == ["CLIENT PAUSE 6000 WRITE"]
    assert promoted.link.cc.names() == []
    master.link.cc.reply_all(b"OK")
    clock.advance(100)
    failover.run_state_machine(s, master)
    assert master.link.cc.names() == ["INFO replication"]
    master.link.cc.reply_all(_info_master("m" * 40, offset=1000))
    promoted.slave_repl_offset = 990
    clock.advance(100)
    failover.run_state_machine(s, master)
    assert master.failover_state == STATE_SEND_SLAVEOF_NOONE  # 10 bytes short: not yet
    assert "SLAVEOF NO ONE" not in promoted.link.cc.names()
    promoted.slave_repl_offset = 1000
    clock.advance(100)
    failover.run_state_machine(s, master)
    assert master.failover_state == STATE_WAIT_PROMOTION
    assert promoted.link.cc.names()[-6:] == SLAVEOF_NO_ONE
    master.link.cc.sent.clear()
    refresh_from_info(s, promoted, _info_master(promoted.runid, 1000))
    assert master.link.cc.names() == ["MULTI", "SLAVEOF 10.0.0.2 6379", "CONFIG REWRITE", "CLIENT KILL TYPE normal", "CLIENT KILL TYPE pubsub", "EXEC", "CLIENT UNPAUSE"]
    assert master.catchup is None


def test_manual_failover_gives_up_and_unpauses_if_the_replica_never_catches_up():
    clock = Clock()
    s, master = make_sentinel(clock)
    failover.start(s, master)
    master.flags |= FORCE_FAILOVER
    for _ in range(3):
        failover.run_state_machine(s, master)
    master.link.cc.reply_all(b"OK")
    clock.advance(failover.CATCHUP_TIMEOUT + 1)
    failover.run_state_machine(s, master)
    assert master.failover_state == STATE_NONE
    assert master.link.cc.names()[-1] == "CLIENT UNPAUSE"


def test_votes_once_per_epoch_through_is_master_down():
    s, master = make_sentinel()
    leader, epoch = election.vote_leader(s, master, 5, "b" * 40)
    assert (leader, epoch) == ("b" * 40, 5) and s.settings.current_epoch == 5
    leader, epoch = election.vote_leader(s, master, 5, "c" * 40)
    assert (leader, epoch) == ("b" * 40, 5)  # the vote of epoch 5 stands
    assert types(s).count("+vote-for-leader") == 1 and types(s).count("+new-epoch") == 1


def test_is_master_down_reply_sets_flags_and_votes():
    s, master = make_sentinel()
    si = next(iter(master.sentinels.values()))
    election.on_is_master_down_reply(s, si, [1, b"*", 0])
    assert si.flags & MASTER_DOWN and si.leader is None
    election.on_is_master_down_reply(s, si, [0, b"x" * 40, 3])
    assert not si.flags & MASTER_DOWN and (si.leader, si.leader_epoch) == ("x" * 40, 3)
    election.on_is_master_down_reply(s, si, [b"junk"])  # ignored
    assert si.leader_epoch == 3


def test_hello_teaches_sentinels_epochs_and_new_config():
    s, master = make_sentinel(sentinels=0)
    hello.process_hello(s, "10.0.1.9,26379,%s,3,mymaster,10.0.0.1,6379,0" % ("9" * 40))
    assert [si.runid for si in master.sentinels.values()] == ["9" * 40]
    assert s.settings.current_epoch == 3 and "+sentinel" in types(s) and "+new-epoch" in types(s)
    hello.process_hello(s, "10.0.1.9,26379,%s,4,mymaster,10.0.0.5,7000,4" % ("9" * 40))
    assert (master.addr.host, master.addr.port, master.config_epoch) == ("10.0.0.5", 7000, 4)
    assert ("+switch-master", "mymaster 10.0.0.1 6379 10.0.0.5 7000") in s.recorded
    assert "10.0.0.1:6379" in master.slaves  # the old master is remembered as a replica
    hello.process_hello(s, "10.0.1.9,26379,%s,4,mymaster,10.0.0.1,6379,2" % ("9" * 40))  # older config: ignored
    assert master.addr.port == 7000
    hello.process_hello(s, "garbage")
    hello.process_hello(s, "10.0.1.10,26380,%s,4,othermaster,10.0.0.1,6379,9" % ("8" * 40))  # not ours
    assert len(master.sentinels) == 1


def test_sentinel_address_switch_keeps_one_entry():
    s, master = make_sentinel(sentinels=0)
    hello.process_hello(s, "10.0.1.9,26379,%s,0,mymaster,10.0.0.1,6379,0" % ("9" * 40))
    hello.process_hello(s, "10.0.1.19,26379,%s,0,mymaster,10.0.0.1,6379,0" % ("9" * 40))
    assert [(si.addr.host, si.runid) for si in master.sentinels.values()] == [("10.0.1.19", "9" * 40)]
    assert "+sentinel-address-switch" in types(s)


def test_info_discovers_replicas_and_reboots():
    s, master = make_sentinel(replicas=0)
    refresh_from_info(s, master, _info_master("m" * 40, replicas=[("10.0.0.7", 6380)]))
    assert list(master.slaves) == ["10.0.0.7:6380"] and "+slave" in types(s)
    refresh_from_info(s, master, _info_master("n" * 40))
    assert master.runid == "n" * 40 and "+reboot" in types(s)


def test_returning_old_master_is_converted_after_a_stable_while():
    clock = Clock()
    s, master = make_sentinel(clock)
    old = next(iter(master.slaves.values()))
    old.role_reported_time = clock.now
    refresh_from_info(s, old, _info_master(old.runid))  # a replica that says master
    assert "SLAVEOF 10.0.0.1 6379" not in old.link.cc.names()  # too early
    clock.advance(s.settings.publish_period * 4 + 1)
    master.info_refresh = clock.now
    refresh_from_info(s, old, _info_master(old.runid))
    assert "SLAVEOF 10.0.0.1 6379" in old.link.cc.names() and "+convert-to-slave" in types(s)


def test_tilt_on_a_clock_jump_stops_acting_for_tilt_period():
    clock = Clock()
    s, master = make_sentinel(clock)
    s.settings.previous_time = clock.now
    clock.advance(s.settings.tilt_trigger + 1)
    s.check_tilt()
    assert s.settings.tilt and "+tilt" in types(s)
    master.link.act_ping_time = clock.now - 5000  # would be SDOWN
    s.handle_instance(master)
    assert not master.flags & S_DOWN
    clock.advance(s.settings.tilt_period)
    s.handle_instance(master)
    assert not s.settings.tilt and "-tilt" in types(s) and master.flags & S_DOWN
    s.settings.previous_time = clock.now
    clock.advance(-1)  # the clock went back
    s.check_tilt()
    assert s.settings.tilt
    # In TILT, IS-MASTER-DOWN-BY-ADDR answers "not down" whatever this sentinel sees.


def test_reconf_timeout_marks_done():
    """A replica that does not move on within slave-reconf-timeout counts as reconfigured (it is
    looked at when fewer than parallel-syncs replicas are in progress, as in Redis)."""
    clock = Clock()
    s, master = make_sentinel(clock, replicas=3)
    promoted, stuck, quick = master.slaves.values()
    master.parallel_syncs = 2
    master.flags |= FAILOVER_IN_PROGRESS
    master.failover_state = STATE_RECONF_SLAVES
    master.failover_state_change_time = clock.now
    master.failover_timeout = 60000
    master.promoted_slave = promoted
    promoted.flags |= PROMOTED
    failover.run_state_machine(s, master)
    assert stuck.flags & RECONF_SENT and quick.flags & RECONF_SENT
    refresh_from_info(s, quick, _info_replica("10.0.0.2", 6379))
    refresh_from_info(s, quick, _info_replica("10.0.0.2", 6379))
    assert quick.flags & RECONF_DONE
    clock.advance(s.settings.slave_reconf_timeout + 1)
    failover.run_state_machine(s, master)
    assert stuck.flags & RECONF_DONE and "-slave-reconf-sent-timeout" in types(s)
    assert master.failover_state == STATE_UPDATE_CONFIG


def test_failover_timeout_ends_reconfiguration():
    clock = Clock()
    s, master = make_sentinel(clock, replicas=2)
    promoted, other = master.slaves.values()
    master.flags |= FAILOVER_IN_PROGRESS
    master.failover_state = STATE_RECONF_SLAVES
    master.failover_state_change_time = clock.now
    master.promoted_slave = promoted
    promoted.flags |= PROMOTED
    failover.run_state_machine(s, master)
    clock.advance(master.failover_timeout + 1)
    failover.run_state_machine(s, master)
    assert "+failover-end-for-timeout" in types(s) and master.failover_state == STATE_UPDATE_CONFIG


def test_synchronous_master_fences_and_promotes_the_greatest_final_offset():
    """synchronous-replicas 2 of 3 replicas: two fenced answers are enough; the greatest
    fenced offset wins over a better priority."""
    clock = Clock()
    s, master = make_sentinel(clock, replicas=3)
    master.sync_replicas = 2
    r1, r2, r3 = master.slaves.values()
    r1.slave_priority = 1  # would win without fencing
    _start_with_our_votes(s, master)
    failover.run_state_machine(s, master)
    failover.run_state_machine(s, master)
    assert [r.link.cc.names() for r in (r1, r2, r3)] == [["FENCE 1 5000"]] * 3
    r1.link.cc.reply_all(100)
    failover.run_state_machine(s, master)
    assert master.failover_state == STATE_SELECT_SLAVE  # one answer of the two needed
    r2.link.cc.reply_all(120)
    failover.run_state_machine(s, master)
    assert master.promoted_slave is r2 and master.failover_state == STATE_SEND_SLAVEOF_NOONE


def test_synchronous_master_promotes_the_greatest_offset_even_if_flagged_down():
    """A replica that answered FENCE is reachable now, whatever a stale down flag says (just
    after a partition healed): skipping it for one behind would lose the writes in between.
    A priority-0 holder of the greatest offset makes the failover wait, then give up."""
    clock = Clock()
    s, master = make_sentinel(clock, replicas=2)
    master.sync_replicas = 1
    r1, r2 = master.slaves.values()
    r2.flags |= S_DOWN
    _start_with_our_votes(s, master)
    failover.run_state_machine(s, master)
    failover.run_state_machine(s, master)
    r1.link.cc.reply_all(100)
    r2.link.cc.reply_all(500)
    failover.run_state_machine(s, master)
    assert master.promoted_slave is r2

    s, master = make_sentinel(Clock(), replicas=2)
    master.sync_replicas = 1
    r1, r2 = master.slaves.values()
    r2.slave_priority = 0
    _start_with_our_votes(s, master)
    failover.run_state_machine(s, master)
    failover.run_state_machine(s, master)
    r1.link.cc.reply_all(100)
    r2.link.cc.reply_all(500)
    failover.run_state_machine(s, master)
    assert master.promoted_slave is None and master.failover_state == STATE_SELECT_SLAVE


def test_synchronous_master_not_enough_fenced_aborts():
    clock = Clock()
    s, master = make_sentinel(clock, replicas=2)
    master.sync_replicas = 1
    _start_with_our_votes(s, master)
    failover.run_state_machine(s, master)
    failover.run_state_machine(s, master)
    next(iter(master.slaves.values())).link.cc.reply_all(100)  # one of the two needed
    clock.advance(master.failover_timeout + 1)
    failover.run_state_machine(s, master)
    assert master.failover_state == STATE_NONE and "-failover-abort-no-good-slave" in types(s)


def test_switching_address_forgets_answers_about_the_old_one():
    """After +switch-master the new address is connected at once, and the other sentinels'
    'master down' answers (about the old address) no longer count toward ODOWN: a blip of
    the new master must not be taken for agreement (a spurious second failover)."""
    clock = Clock()
    s, master = make_sentinel(clock)
    _odown(s, master)
    master.link.last_reconn_time = clock.now
    s.reset_master_and_change_address(master, "10.0.0.2", 6379)
    assert master.link.last_reconn_time == 0
    assert not any(si.flags & MASTER_DOWN for si in master.sentinels.values())
    master.flags |= S_DOWN
    election.check_objectively_down(s, master)
    assert not master.flags & O_DOWN
