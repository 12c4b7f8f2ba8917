"""Node.run_ready's batch path for plain commands: what it accounts for, per call and per run.

A pipeline of plain commands is timed by the run (consecutive calls of one command); these
tests pin down what a user sees of that in INFO commandstats and SLOWLOG."""

import re

import hiredis
import pytest

import node.core
from conftest import Harness


def _argvs(*commands):
    return [[a.encode() for a in command.split()] for command in commands]


def _pipeline(h, *commands):
    """Run the commands as one batch; their decoded replies."""
    c = h.client
    assert h.node.run_ready(c, _argvs(*commands), 0) is None
    reader = hiredis.Reader()
    reader.feed(b"".join(c.out))
    c.out.clear()
    return [reader.gets() for _ in commands]


def _calls(h):
    info = h.run("INFO", "commandstats").decode()
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"cmdstat_([\w|]+):calls=(\d+)", info)}


def _slowlog(h, skip=0):
    """(duration, argv) of the slowlog's entries, oldest first, from the skip-th on."""
    return [(entry[2], entry[3]) for entry in reversed(h.run("SLOWLOG", "GET", "-1"))][skip:]


@pytest.fixture
def fake_clock(monkeypatch):
    """The batch path's nanosecond clock, advancing 2 ms a read."""
    now = [0]

    def read():
        now[0] += 2_000_000
        return now[0]

    monkeypatch.setattr(node.core, "_perf_counter_ns", read)
    return now


def test_every_call_in_a_pipeline_is_counted():
    h = Harness()
    replies = _pipeline(h, "GET a", "GET a", "SET a 1", "GET a", "INCR n", "INCR n", "INCR n", "GET n", "PING")
    assert replies == [None, None, b"OK", b"1", 1, 2, 3, b"3", b"PONG"]
    assert h.node.total_commands_processed == 9
    assert _calls(h) == {"get": 4, "set": 1, "incr": 3, "ping": 1}


def test_a_pipeline_stopped_by_another_command_counts_what_ran():
    h = Harness()
    replies = _pipeline(h, "INCR n", "INCR n", "CLIENT SETNAME x", "INCR n", "GET n")
    assert replies == [1, 2, b"OK", 3, b"3"]
    assert _calls(h) == {"incr": 3, "client|setname": 1, "get": 1}


def test_a_run_of_fast_commands_reaching_the_threshold_is_logged_as_its_last(fake_clock):
    h = Harness(slowlog_log_slower_than=1000)  # 1 ms: the floor from which runs are timed whole
    _pipeline(h, "GET a", "GET b", "GET c", "PING")
    # one clock read closes the GET run (2 ms since the batch began), one the PING run
    assert _slowlog(h) == [(2000, [b"GET", b"c"]), (2000, [b"PING"])]


def test_commands_not_flagged_fast_are_timed_alone(fake_clock):
    h = Harness(slowlog_log_slower_than=1000)
    _pipeline(h, "MSET a 1", "MSET b 2", "GET a")
    assert _slowlog(h) == [(2000, [b"MSET", b"a", b"1"]), (2000, [b"MSET", b"b", b"2"]), (2000, [b"GET", b"a"])]
    info = h.run("INFO", "commandstats").decode()
    assert "cmdstat_mset:calls=2,usec=4000,usec_per_call=2000.00," in info


def test_a_run_of_sets_ends_at_one_that_freed_a_large_value(fake_clock):
    """SET is not flagged fast only because replacing a large value frees it: runs of SET are
    timed whole, and a SET that freed a collection or a long string ends its run, so a slow
    free is logged as the SET that did it."""
    h = Harness(slowlog_log_slower_than=1000)
    h.run("HSET", "h", "f", "v")
    h.run("SET", "big", "x" * (1 << 20))
    h.run("SET", "small", "x" * ((1 << 20) - 1))
    _pipeline(h, "SET a 1", "SET h x", "SET b 2", "SET small y", "SET big y", "SET c 3")
    assert _slowlog(h, skip=3) == [(2000, [b"SET", b"h", b"x"]), (2000, [b"SET", b"big", b"y"]), (2000, [b"SET", b"c", b"3"])]
    info = h.run("INFO", "commandstats").decode()
    # 2 ms for each SET run alone above, 6 ms for the pipeline's three runs
    assert "cmdstat_set:calls=8,usec=10000,usec_per_call=1250.00," in info


def test_under_the_floor_every_call_is_timed_alone(fake_clock):
    h = Harness(slowlog_log_slower_than=999)
    _pipeline(h, "GET a", "GET b", "GET c")
    assert _slowlog(h) == [(2000, [b"GET", b"a"]), (2000, [b"GET", b"b"]), (2000, [b"GET", b"c"])]


def test_commandstats_time_is_the_runs_time(fake_clock):
    h = Harness()  # threshold 10 ms: runs are timed whole
    _pipeline(h, "GET a", "GET b", "GET c", "SET a 1")
    info = h.run("INFO", "commandstats").decode()
    assert "cmdstat_get:calls=3,usec=2000,usec_per_call=666.67," in info
    assert "cmdstat_set:calls=1,usec=2000,usec_per_call=2000.00," in info


@pytest.mark.parametrize("resp3", [False, True])
def test_integer_replies_held_back_keep_their_place(resp3):
    """Integers past the precomputed replies are formatted together: every other reply (bulk,
    status, small integer, nil, array, error) and the batch's end, including a stop for
    execute, still see them in order, in a batch of more than the precomputed formats."""
    commands = (
        ["INCRBY n 20000", "INCR n", "GET n", "INCR n", "SET s x", "INCR s", "INCR n", "SADD st a"]
        + ["INCR n"] * 70
        + ["LPUSH l a", "INCRBY n -50000", "GET missing", "INCR n", "LRANGE l 0 -1", "DECRBY n 1"]
        + ["INCR n", "CLIENT GETNAME", "INCR n", "INCR n"]
    )  # fmt: skip
    h = Harness()
    if resp3:
        h.run("HELLO", "3")
    c = h.client
    assert h.node.run_ready(c, _argvs(*commands), 0) is None
    got = b"".join(c.out)
    c.out.clear()
    expected = Harness()
    if resp3:
        expected.run("HELLO", "3")
    assert got == b"".join(expected.raw(*argv) for argv in _argvs(*commands))
    assert got.startswith(b":20000\r\n:20001\r\n$5\r\n20001\r\n:20002\r\n+OK\r\n-ERR value is not an integer")
