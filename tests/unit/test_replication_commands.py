"""Replication commands and state through the command layer (no sockets): the replies,
INFO replication and ROLE as Redis 7.0.15 gives them, NOREPLICAS, READONLY, and the
replica-side stream applier."""

import re

import pytest

from node.keyspace import as_string
from replication.applier import StreamApplier, StreamError, command_length
from replication.master import encode_command
from replication.state import ONLINE, Replica


def info(h) -> dict:
    text = h.run("INFO", "replication").decode()
    return dict(line.split(":", 1) for line in text.splitlines()[1:] if line)


def test_fresh_master_info_replication(h):
    text = h.run("INFO", "replication").decode()
    assert re.fullmatch(
        r"# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_failover_state:no-failover\r\n"
        r"master_replid:[0-9a-f]{40}\r\nmaster_replid2:0{40}\r\nmaster_repl_offset:0\r\nsecond_repl_offset:-1\r\n"
        r"repl_backlog_active:0\r\nrepl_backlog_size:1048576\r\nrepl_backlog_first_byte_offset:0\r\nrepl_backlog_histlen:0\r\n",
        text,
    )


def test_role_of_a_fresh_master(h):
    assert h.run("ROLE") == [b"master", 0, []]


def test_role_lists_online_replicas_only(h):
    state = h.node.replication
    for port, replica_state in ((7001, ONLINE), (7002, "wait_bgsave_start")):
        r = Replica(h.new_client())
        r.listening_port, r.state, r.ack_off, r.ack_time = port, replica_state, 12, state.now()
        state.replicas.append(r)
    assert h.run("ROLE") == [b"master", 0, [[b"127.0.0.1", b"7001", b"12"]]]
    fields = info(h)
    assert fields["connected_slaves"] == "2"
    assert fields["slave0"] == "ip=127.0.0.1,port=7001,state=online,offset=12,lag=0"
    assert fields["slave1"] == "ip=127.0.0.1,port=7002,state=wait_bgsave,offset=12,lag=0"


def test_replconf_replies(h):
    assert h.run("REPLCONF") == b"OK"
    assert h.run("REPLCONF", "listening-port", "7000", "capa", "eof", "capa", "psync2") == b"OK"
    assert h.run("REPLCONF", "capa", "whatever") == b"OK"
    assert str(h.run("REPLCONF", "a")) == "ERR syntax error"
    assert str(h.run("REPLCONF", "foo", "bar")) == "ERR Unrecognized REPLCONF option: foo"
    assert str(h.run("REPLCONF", "listening-port", "x")) == "ERR value is not an integer or out of range"
    assert str(h.run("REPLCONF", "ip-address", "x" * 300)) == "ERR REPLCONF ip-address provided by replica instance is too long: 300 bytes"
    # ACK from a client that is not a replica, and GETACK on a master: no reply at all, as in Redis.
    assert h.raw("REPLCONF", "ack", "5") == b""
    assert h.raw("REPLCONF", "getack", "*") == b""
    record = h.client.repl
    assert (record.listening_port, record.capa_eof, record.capa_psync2) == (7000, True, True)


def test_wait_argument_errors(h):
    assert str(h.run("WAIT", "a", "0")) == "ERR value is not an integer or out of range"
    assert str(h.run("WAIT", "1", "a")) == "ERR timeout is not an integer or out of range"
    assert str(h.run("WAIT", "1", "-1")) == "ERR timeout is negative"
    assert h.run("WAIT", "0", "0") == 0


def test_wait_inside_multi_does_not_block(h):
    h.run("MULTI")
    h.run("WAIT", "1", "0")
    assert h.run("EXEC") == [0]


def test_psync_offset_must_be_an_integer(h):
    assert str(h.run("PSYNC", "?", "x")) == "ERR value is not an integer or out of range"


def test_min_replicas_refuse_writes_with_noreplicas(h):
    assert h.run("CONFIG", "SET", "min-replicas-to-write", "1") == b"OK"
    assert str(h.run("SET", "k", "v")) == "NOREPLICAS Not enough good replicas to write."
    assert h.run("GET", "k") is None
    assert info(h)["min_slaves_good_slaves"] == "0"
    h.run("MULTI")
    assert str(h.run("SET", "k", "v")) == "NOREPLICAS Not enough good replicas to write."
    assert str(h.run("EXEC")) == "EXECABORT Transaction discarded because of previous errors."
    h.run("CONFIG", "SET", "min-replicas-max-lag", "0")  # either setting at 0 turns the check off
    assert h.run("SET", "k", "v") == b"OK"
    assert "min_slaves_good_slaves" not in info(h)


def test_replicaof_makes_a_read_only_replica(h):
    assert str(h.run("REPLICAOF", "localhost", "abc")) == "ERR Invalid master port"
    assert str(h.run("REPLICAOF", "localhost", "70000")) == "ERR Invalid master port"
    assert h.run("REPLICAOF", "127.0.0.1", "6399") == b"OK"
    assert h.run("REPLICAOF", "127.0.0.1", "6399") == b"OK Already connected to specified master"
    assert str(h.run("SET", "k", "v")) == "READONLY You can't write against a read only replica."
    assert str(h.run("WAIT", "0", "0")).startswith("ERR WAIT cannot be used with replica instances.")
    assert h.run("ROLE") == [b"slave", b"127.0.0.1", 6399, b"connect", -1]
    assert h.run("CONFIG", "GET", "replicaof") == [b"replicaof", b"127.0.0.1 6399"]
    fields = info(h)
    assert list(fields)[:13] == [
        "role", "master_host", "master_port", "master_link_status", "master_last_io_seconds_ago", "master_sync_in_progress",
        "slave_read_repl_offset", "slave_repl_offset", "master_link_down_since_seconds", "slave_priority", "slave_read_only",
        "replica_announced", "connected_slaves",
    ]
    assert (fields["role"], fields["master_link_status"], fields["master_last_io_seconds_ago"]) == ("slave", "down", "-1")
    assert str(h.run("PSYNC", "?", "-1")) == "NOMASTERLINK Can't SYNC while not connected with my master"


def test_replicaof_no_one_promotes_keeping_the_history_as_replid2(h):
    before = info(h)["master_replid"]
    h.run("REPLICAOF", "127.0.0.1", "6399")
    assert h.run("REPLICAOF", "NO", "ONE") == b"OK"
    fields = info(h)
    assert fields["role"] == "master"
    assert fields["master_replid2"] == before
    assert fields["second_repl_offset"] == "1"
    assert fields["master_replid"] != before
    assert h.run("SET", "k", "v") == b"OK"
    assert h.run("CONFIG", "GET", "replicaof") == [b"replicaof", b""]
    assert h.run("SLAVEOF", "no", "one") == b"OK"  # already a master: nothing changes
    assert info(h)["master_replid"] == fields["master_replid"]


def test_command_length_is_the_canonical_encoding():
    for argv in ([b"PING"], [b"SET", b"k" * 10, b"v" * 1000], [b"DEL", b""], [b"MSET"] + [b"k%d" % i for i in range(11)], [b"DEL"] * 123):
        assert command_length(argv) == len(encode_command(argv))
    with pytest.raises(StreamError):
        command_length([b"SET", b"k", 1])


def _applier(h):
    proxied = []
    client = h.new_client()
    client.kind = "master"
    return StreamApplier(h.node, client, 100, proxied.append), proxied


def test_applier_runs_commands_and_counts_bytes(h):
    h.run("REPLICAOF", "127.0.0.1", "6399")
    applier, proxied = _applier(h)
    stream = encode_command([b"SELECT", b"2"]) + encode_command([b"SET", b"k", b"v"])
    applier.feed(stream[:7])
    assert applier.applied == 100 and applier.read_offset == 107
    applier.feed(stream[7:])
    assert applier.applied == 100 + len(stream)
    assert b"".join(proxied) == stream
    h.run("SELECT", "2")
    assert h.run("GET", "k") == b"v"


def test_applier_moves_the_offset_at_exec(h):
    h.run("REPLICAOF", "127.0.0.1", "6399")
    applier, proxied = _applier(h)
    multi = encode_command([b"MULTI"]) + encode_command([b"INCR", b"n"])
    applier.feed(multi)
    assert applier.applied == 100 and not proxied
    applier.feed(encode_command([b"EXEC"]))
    assert proxied == [multi + encode_command([b"EXEC"])]
    assert h.run("GET", "n") == b"1"


def test_applier_sees_keys_the_replica_considers_expired(h):
    h.run("SET", "n", "5")
    h.run("PEXPIRE", "n", "10")
    h.run("REPLICAOF", "127.0.0.1", "6399")
    h.advance(50)
    assert h.run("GET", "n") is None  # hidden from clients, not deleted: the master's DEL will come
    applier, _ = _applier(h)
    applier.feed(encode_command([b"INCR", b"n"]))
    assert as_string(h.node.keyspace.dbs[0].data[b"n"]) == b"6"  # (a counter: stored as an int)


def test_applier_refuses_what_is_not_a_command(h):
    from replication.applier import StreamError

    applier, _ = _applier(h)
    with pytest.raises(StreamError):
        applier.feed(b"+OK\r\n")


def test_replica_serve_stale_data_no_refuses_while_the_link_is_down(h):
    h.run("SET", "k", "v")
    h.run("REPLICAOF", "127.0.0.1", "6399")
    assert h.run("GET", "k") == b"v"  # stale data is served by default
    h.run("CONFIG", "SET", "replica-serve-stale-data", "no")
    masterdown = "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
    assert str(h.run("GET", "k")) == masterdown
    assert str(h.run("PING")) == masterdown
    assert str(h.run("SET", "k", "v")) == "READONLY You can't write against a read only replica."
    assert str(h.run("GET")) == "ERR wrong number of arguments for 'get' command"
    assert h.run("ROLE")[0] == b"slave"  # "stale" commands still run
    h.run("REPLICAOF", "NO", "ONE")
    assert h.run("GET", "k") == b"v"


def test_backlog_follows_writes_and_config_set_resizes_it(h):
    state = h.node.replication
    state.create_backlog()
    state.master.sync_listening()
    h.run("SET", "k", "v")
    h.run("SELECT", "1")
    h.run("SET", "k", "v")
    fields = info(h)  # INFO flushes the batch of writes into the backlog first
    select0, select1 = encode_command([b"SELECT", b"0"]), encode_command([b"SELECT", b"1"])
    expected = len(select0) + len(select1) + 2 * len(encode_command([b"SET", b"k", b"v"]))
    assert (fields["repl_backlog_active"], fields["master_repl_offset"], fields["repl_backlog_histlen"]) == ("1", str(expected), str(expected))
    assert h.run("CONFIG", "SET", "repl-backlog-size", "16") == b"OK"
    assert h.run("CONFIG", "GET", "repl-backlog-size") == [b"repl-backlog-size", b"16384"]  # Redis's floor
    h.run("SET", "big", "x" * 20000)
    fields = info(h)
    assert (fields["repl_backlog_size"], fields["repl_backlog_histlen"]) == ("16384", "16384")
    assert fields["repl_backlog_first_byte_offset"] == str(int(fields["master_repl_offset"]) - 16383)


def test_good_replicas_count_online_replicas_that_acked_recently(h):
    state = h.node.replication
    h.run("CONFIG", "SET", "min-replicas-to-write", "1")
    r = Replica(h.new_client())
    r.state, r.ack_time = ONLINE, state.now()
    state.replicas.append(r)
    state.refresh_good_replicas()
    assert h.run("SET", "k", "v") == b"OK"
    h.advance(11_000)  # past min-replicas-max-lag (10 s) without an ACK
    state.refresh_good_replicas()
    assert str(h.run("SET", "k", "v")) == "NOREPLICAS Not enough good replicas to write."
