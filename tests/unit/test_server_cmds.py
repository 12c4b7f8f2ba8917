"""DBSIZE, FLUSHDB, FLUSHALL, SWAPDB, TIME, SHUTDOWN, MONITOR, SLOWLOG, DEBUG and LOLWUT.
Expected bytes, texts and digests were checked against a real Redis 7.0.15."""

import re
import time

import pytest

from conftest import Harness, err




def propagated(h):
    out = []
    h.node.propagate_listeners.append(lambda dbnum, argv: out.append((dbnum, [bytes(a) for a in argv])))
    return out


def taken(client) -> bytes:
    data = b"".join(client.out)
    client.out.clear()
    return data


# ---- DBSIZE, FLUSHDB, FLUSHALL --------------------------------------------------


def test_dbsize_counts_the_selected_db(h):
    assert h.run("DBSIZE") == 0
    h.run("MSET", "a", "1", "b", "2")
    h.run("SELECT", "1")
    h.run("SET", "c", "3")
    assert h.run("DBSIZE") == 1
    h.run("SELECT", "0")
    assert h.run("DBSIZE") == 2
    assert h.raw("DBSIZE", "x") == b"-ERR wrong number of arguments for 'dbsize' command\r\n"


def test_flushdb_empties_only_the_selected_db(h):
    h.run("SET", "a", "1")
    h.run("SELECT", "1")
    h.run("SET", "b", "1")
    assert h.raw("FLUSHDB") == b"+OK\r\n"
    assert h.run("DBSIZE") == 0
    h.run("SELECT", "0")
    assert h.run("DBSIZE") == 1


@pytest.mark.parametrize("name", ["FLUSHDB", "FLUSHALL"])
def test_flush_modes_and_errors(h, name):
    for mode in ("ASYNC", "sync"):
        h.run("SET", "a", "1")
        assert h.raw(name, mode) == b"+OK\r\n"
        assert h.run("DBSIZE") == 0
    for args in (["x"], ["sync", "x"], ["sync", "async"]):
        assert err(h.run(name, *args)) == "ERR syntax error"


def test_flushall_empties_every_db_and_is_propagated_even_when_empty(h):
    out = propagated(h)
    h.run("SET", "a", "1")
    h.run("SELECT", "5")
    h.run("SET", "b", "1")
    assert h.raw("FLUSHALL") == b"+OK\r\n"
    assert all(len(db) == 0 for db in h.node.keyspace.dbs)
    h.run("FLUSHALL")
    h.run("FLUSHDB")
    assert [argv for _, argv in out][-3:] == [[b"FLUSHALL"], [b"FLUSHALL"], [b"FLUSHDB"]]


def test_flushdb_breaks_watch_on_existing_keys_only(h):
    other = h.new_client()
    h.run("SET", "w", "1")
    h.run("WATCH", "w", "absent")
    h.run("FLUSHDB", client=other)
    h.run("MULTI")
    h.run("PING")
    assert h.raw("EXEC") == b"*-1\r\n"


# ---- SWAPDB, TIME ----------------------------------------------------------------


def test_swapdb_exchanges_contents_and_clients_keep_their_index(h):
    out = propagated(h)
    h.run("SET", "a", "in0")
    other = h.new_client()
    h.run("SELECT", "1", client=other)
    h.run("SET", "b", "in1", client=other)
    assert h.raw("SWAPDB", "0", "1") == b"+OK\r\n"
    assert h.run("GET", "b") == b"in1" and h.run("GET", "a") is None
    assert h.run("GET", "a", client=other) == b"in0"
    assert h.raw("SWAPDB", "0", "0") == b"+OK\r\n"
    assert [argv for _, argv in out] == [[b"SET", b"a", b"in0"], [b"SET", b"b", b"in1"], [b"SWAPDB", b"0", b"1"], [b"SWAPDB", b"0", b"0"]]


def test_swapdb_wakes_clients_blocked_on_keys_it_brings(h):
    waiter = h.new_client()
    assert h.raw("BLPOP", "list", "0", client=waiter) == b""
    h.run("SELECT", "1")
    h.run("RPUSH", "list", "x")
    h.run("SWAPDB", "0", "1")
    assert waiter.blocked is None and waiter.blocked_reply == b"*2\r\n$4\r\nlist\r\n$1\r\nx\r\n"


def test_swapdb_errors(h):
    assert err(h.run("SWAPDB", "a", "b")) == "ERR invalid first DB index"
    assert err(h.run("SWAPDB", "0", "b")) == "ERR invalid second DB index"
    assert err(h.run("SWAPDB", "2147483648", "1")) == "ERR invalid first DB index"
    assert err(h.run("SWAPDB", "1", "-2147483649")) == "ERR invalid second DB index"
    for a, b in (("0", "16"), ("-1", "0"), ("16", "0")):
        assert err(h.run("SWAPDB", a, b)) == "ERR DB index is out of range"


def test_time(h):
    before = time.time()
    seconds, micros = h.run("TIME")
    assert re.fullmatch(rb"\d+", seconds) and re.fullmatch(rb"\d{1,6}", micros)
    assert before - 1 <= int(seconds) + int(micros) / 1e6 <= time.time() + 1
    assert h.raw("TIME", "x") == b"-ERR wrong number of arguments for 'time' command\r\n"


# ---- SHUTDOWN ----------------------------------------------------------------------


def test_shutdown_syntax(h):
    for args in (["foo"], ["save", "nosave"], ["abort", "now"], ["NOW", "FOO"]):
        assert err(h.run("SHUTDOWN", *args)) == "ERR syntax error"
    assert err(h.run("SHUTDOWN", "ABORT")) == "ERR No shutdown in progress."
    h.run("MULTI")
    assert err(h.run("SHUTDOWN")) == "ERR Command not allowed inside a transaction"


def test_shutdown_requests_exit_without_a_reply(h):
    assert h.raw("SHUTDOWN", "NOSAVE", "NOW") == b""
    assert h.node.shutdown_requested == "nosave" and h.node.shutdown_options == {"now"}
    assert h.client.closing


def test_shutdown_default_mode(h):
    assert h.raw("SHUTDOWN") == b""
    assert h.node.shutdown_requested == ""


def test_shutdown_save_without_persistence_fails_unless_forced(h):
    assert h.raw("SHUTDOWN", "SAVE") == b"-ERR Errors trying to SHUTDOWN. Check logs.\r\n"
    assert h.node.shutdown_requested is None and not h.client.closing
    assert h.raw("SHUTDOWN", "SAVE", "FORCE") == b""
    assert h.node.shutdown_requested == "save" and h.node.shutdown_options == {"force"}


class _Persistence:
    def __init__(self, ok):
        self.ok = ok
        self.modes = []

    def shutdown(self, mode):
        self.modes.append(mode)
        return self.ok


def test_shutdown_prepares_persistence_and_refuses_when_its_save_fails(h):
    h.node.persistence = _Persistence(ok=False)
    assert h.raw("SHUTDOWN") == b"-ERR Errors trying to SHUTDOWN. Check logs.\r\n"
    assert h.node.shutdown_requested is None
    h.node.persistence = _Persistence(ok=True)
    assert h.raw("SHUTDOWN", "SAVE") == b""
    assert h.node.persistence.modes == ["save"] and h.node.shutdown_requested == "save"


def test_shutdown_abort_cancels_a_pending_request(h):
    h.node.shutdown_requested = ""
    assert h.raw("SHUTDOWN", "ABORT") == b"+OK\r\n"
    assert h.node.shutdown_requested is None


# ---- MONITOR -----------------------------------------------------------------------

_LINE = re.compile(rb"\+(\d+\.\d{6}) \[(\d+) ([^\]]*)\] (.*)\r\n")


def _lines(client):
    return [(int(db), addr, args) for _, db, addr, args in _LINE.findall(taken(client))]


def test_monitor_shows_commands_after_they_run(h):
    m = h.new_client()
    assert h.raw("MONITOR", client=m) == b"+OK\r\n"
    h.run("SET", "k", 'v\n"\xe9\\\t\r\x07\x08\x01')
    h.run("SELECT", "5")
    h.run("NOSUCH")
    h.run("GET")
    h.run("CONFIG", "GET", "port")
    h.run("DEBUG", "SLEEP", "0")
    h.run("CLIENT", "ID")
    h.run("CLIENT", "NOSUCH")
    assert _lines(m) == [
        (0, b"127.0.0.1:5000", rb'"SET" "k" "v\n\"\xc3\xa9\\\t\r\a\b\x01"'),
        (5, b"127.0.0.1:5000", b'"SELECT" "5"'),  # the db after the command
        (5, b"127.0.0.1:5000", b'"CLIENT" "ID"'),  # refused and admin commands are not shown
    ]


def test_monitor_client_sees_its_own_commands_after_their_replies(h):
    m = h.new_client()
    h.raw("MONITOR", client=m)
    data = h.raw("PING", client=m)
    assert data.startswith(b"+PONG\r\n+") and data.endswith(b'] "PING"\r\n')


def test_monitor_repeated_gives_no_reply_and_is_refused_in_exec(h):
    h.raw("MONITOR")
    assert h.raw("MONITOR") == b""
    assert h.node.monitors == [h.client]
    other = h.new_client()
    h.raw("MULTI", client=other)
    assert h.raw("MONITOR", client=other) == b"+QUEUED\r\n"
    assert h.raw("EXEC", client=other) == b"*1\r\n-ERR MONITOR isn't allowed for DENY BLOCKING client\r\n"


def test_monitor_stops_when_the_client_goes(h):
    m = h.new_client()
    h.raw("MONITOR", client=m)
    h.node.remove_client(m)
    h.run("PING")
    assert h.node.monitors == [] and taken(m) == b""


# ---- SLOWLOG -----------------------------------------------------------------------


def _slow_harness():
    h = Harness(slowlog_log_slower_than=0)
    h.run("CLIENT", "SETNAME", "me")
    return h


def test_slowlog_entries(h):
    h = _slow_harness()
    h.run("SET", "k", "v")
    entries = h.run("SLOWLOG", "GET")
    assert [e[3] for e in entries] == [[b"SET", b"k", b"v"], [b"CLIENT", b"SETNAME", b"me"]]
    newest = entries[0]
    assert newest[0] == 1 and abs(newest[1] - time.time()) < 2 and newest[2] >= 0
    assert newest[4:] == [b"127.0.0.1:5000", b"me"]


def test_slowlog_get_count(h):
    h = _slow_harness()
    for i in range(12):
        h.run("PING", str(i))
    assert len(h.run("SLOWLOG", "GET")) == 10
    assert [e[3] for e in h.run("SLOWLOG", "GET", "2")] == [[b"SLOWLOG", b"GET"], [b"PING", b"11"]]
    assert h.raw("SLOWLOG", "GET", "0") == b"*0\r\n"
    assert len(h.run("SLOWLOG", "GET", "-1")) == 16
    assert h.run("SLOWLOG", "LEN") == 17  # every command so far, SLOWLOG GETs included


def test_slowlog_reset_and_errors(h):
    h = _slow_harness()
    assert h.raw("SLOWLOG", "RESET") == b"+OK\r\n"
    assert h.run("SLOWLOG", "LEN") == 1  # the RESET itself
    for value in ("x", "-2"):
        assert err(h.run("SLOWLOG", "GET", value)) == "ERR count should be greater than or equal to -1"
    assert err(h.run("SLOWLOG", "GET", "1", "2")) == "ERR unknown subcommand or wrong number of arguments for 'GET'. Try SLOWLOG HELP."
    assert err(h.run("SLOWLOG", "LEN", "x")) == "ERR wrong number of arguments for 'slowlog|len' command"
    assert err(h.run("SLOWLOG", "foo")) == "ERR unknown subcommand 'foo'. Try SLOWLOG HELP."


def test_slowlog_help(h):
    assert h.raw("SLOWLOG", "HELP") == (
        b"*12\r\n+SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+GET [<count>]\r\n"
        b"+    Return top <count> entries from the slowlog (default: 10, -1 mean all).\r\n+    Entries are made of:\r\n"
        b"+    id, timestamp, time in microseconds, arguments array, client IP and port,\r\n+    client name\r\n"
        b"+LEN\r\n+    Return the length of the slowlog.\r\n+RESET\r\n+    Reset the slowlog.\r\n+HELP\r\n+    Prints this help.\r\n"
    )


# ---- DEBUG -------------------------------------------------------------------------


def _dataset(h):
    for args in (
        ["RPUSH", "l", "a", "b", "c"], ["SADD", "s", "x", "y", "1", "2"], ["HSET", "h", "f1", "v1", "f2", "v2"],
        ["ZADD", "z", "1.5", "a", "0.1", "b", "-3", "c"], ["SET", "e", "val"], ["PEXPIREAT", "e", "99999999999999"],
        ["SET", "n", "12345"], ["SELECT", "3"], ["SET", "other", "1"], ["SELECT", "0"],
    ):
        h.run(*args)


def test_debug_digests_match_redis(h):
    assert h.raw("DEBUG", "DIGEST") == b"+" + b"0" * 40 + b"\r\n"
    _dataset(h)
    assert h.run("DEBUG", "DIGEST-VALUE", "l", "s", "h", "z", "e", "n", "nokey") == [
        b"8bf72d812571eea9b927f3c11beb0c4165a6ff89", b"d9a5e496512416d64a1c5e6d33afd9f2f9c366c5",
        b"047cc60ea73a34cde6d08a2721a4a26d19ee6570", b"e0aa352429c341575e716a367b89bc45bfeacae2",
        b"ac04a84d3fcd16162a871280160dabf4ef51f46f", b"e1cf90774e995ae03de66e8109dc5cb9d9c2dc83", b"0" * 40,
    ]
    assert h.raw("DEBUG", "DIGEST") == b"+d25348fd909ce9a067363af3d015d7cbf7e70899\r\n"
    assert h.raw("DEBUG", "DIGEST-VALUE") == b"*0\r\n"


def test_debug_digest_ignores_insertion_order_of_unordered_types(h):
    h.run("SADD", "s", "a", "b", "c")
    h.run("HSET", "h", "x", "1", "y", "2")
    first = h.run("DEBUG", "DIGEST")
    h.run("FLUSHALL")
    h.run("HSET", "h", "y", "2", "x", "1")
    h.run("SADD", "s", "c", "b", "a")
    assert h.run("DEBUG", "DIGEST") == first


def test_debug_populate(h):
    out = propagated(h)
    dirty = h.node.keyspace.dirty
    h.run("SET", "key:1", "mine")
    assert h.raw("DEBUG", "POPULATE", "3") == b"+OK\r\n"
    assert h.run("MGET", "key:0", "key:1", "key:2") == [b"value:0", b"mine", b"value:2"]
    assert h.raw("DEBUG", "POPULATE", "2", "q", "10") == b"+OK\r\n"
    assert h.run("GET", "q:1") == b"value:1\0\0\0"
    h.run("DEBUG", "POPULATE", "1", "p", "3")
    assert h.run("GET", "p:0") == b"val"
    h.run("DEBUG", "POPULATE", "1", "x" * 200)
    assert h.run("KEYS", "x*") == [b"x" * 127]  # Redis's 128-byte buffer cuts the name
    assert out == [(0, [b"SET", b"key:1", b"mine"])] and h.node.keyspace.dirty == dirty + 1
    assert h.raw("DEBUG", "POPULATE", "0") == b"+OK\r\n"
    # This matches the digest Redis gives after FLUSHALL; DEBUG POPULATE 3.
    h.run("FLUSHALL")
    h.run("DEBUG", "POPULATE", "3")
    assert h.raw("DEBUG", "DIGEST") == b"+f25db52166a7d712fb7362fd197165342e2b7442\r\n"


def test_debug_populate_errors(h):
    for args in (["x"], ["-1"], ["2", "p", "x"], ["2", "p", "-1"]):
        assert err(h.run("DEBUG", "POPULATE", *args)) == "ERR value is out of range, must be positive"
    for args in ([], ["2", "p", "3", "4"]):
        assert err(h.run("DEBUG", "POPULATE", *args)) == "ERR unknown subcommand or wrong number of arguments for 'POPULATE'. Try DEBUG HELP."


def test_debug_object(h):
    h.run("SET", "n", "123")
    h.run("SET", "s", "hello")
    h.run("SADD", "set", "x", "y", "1", "2")
    line = h.run("DEBUG", "OBJECT", "n").decode()
    m = re.fullmatch(r"Value at:0x[0-9a-f]+ refcount:(\d+) encoding:(\w+) serializedlength:(\d+) lru:(\d+) lru_seconds_idle:(\d+)", line)
    assert m and m.groups()[:3] == ("2147483647", "int", "2")
    assert b"refcount:1 encoding:embstr serializedlength:6 " in h.run("DEBUG", "OBJECT", "s")
    assert b"encoding:hashtable serializedlength:9 " in h.run("DEBUG", "OBJECT", "set")
    h.advance(5000)
    h.node.keyspace.tick()
    assert h.run("DEBUG", "OBJECT", "s").endswith(b"lru_seconds_idle:5")
    assert err(h.run("DEBUG", "OBJECT", "nokey")) == "ERR no such key"


def test_debug_object_sees_expired_keys_not_yet_reclaimed(h):
    h.run("SET", "k", "v", "PX", "10")
    h.advance(20)
    assert b"encoding:embstr" in h.run("DEBUG", "OBJECT", "k")


def test_debug_sleep_blocks_for_the_time_given(h):
    start = time.perf_counter()
    assert h.raw("DEBUG", "SLEEP", "0.05") == b"+OK\r\n"
    assert time.perf_counter() - start >= 0.05
    start = time.perf_counter()
    for value in ("x", "0", "-1", "inf", "nan"):
        assert h.raw("DEBUG", "SLEEP", value) == b"+OK\r\n"
    assert time.perf_counter() - start < 0.05


def test_debug_set_active_expire(h):
    keyspace = h.node.keyspace
    h.run("SET", "k", "v", "PX", "10")
    h.advance(20)
    assert h.raw("DEBUG", "SET-ACTIVE-EXPIRE", "0") == b"+OK\r\n"
    assert keyspace.active_expire_cycle() == 0 and b"k" in keyspace.dbs[0].data
    h.run("DEBUG", "SET-ACTIVE-EXPIRE", "2abc")  # atoi: any non-zero prefix turns it on
    assert keyspace.active_expire_cycle() == 1 and b"k" not in keyspace.dbs[0].data
    h.run("DEBUG", "SET-ACTIVE-EXPIRE", "x")
    assert not keyspace.active_expire_enabled


@pytest.mark.parametrize(
    "name, resp2, resp3",
    [
        ("string", b"$11\r\nHello World\r\n", b"$11\r\nHello World\r\n"),
        ("integer", b":12345\r\n", b":12345\r\n"),
        ("double", b"$5\r\n3.141\r\n", b",3.141\r\n"),
        ("bignum", b"$37\r\n1234567999999999999999999999999999999\r\n", b"(1234567999999999999999999999999999999\r\n"),
        ("null", b"$-1\r\n", b"_\r\n"),
        ("array", b"*3\r\n:0\r\n:1\r\n:2\r\n", b"*3\r\n:0\r\n:1\r\n:2\r\n"),
        ("set", b"*3\r\n:0\r\n:1\r\n:2\r\n", b"~3\r\n:0\r\n:1\r\n:2\r\n"),
        ("map", b"*6\r\n:0\r\n:0\r\n:1\r\n:1\r\n:2\r\n:0\r\n", b"%3\r\n:0\r\n#f\r\n:1\r\n#t\r\n:2\r\n#f\r\n"),
        ("attrib", b"$39\r\nSome real reply following the attribute\r\n",
         b"|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n$39\r\nSome real reply following the attribute\r\n"),
        ("push", b"-ERR RESP2 is not supported by this command\r\n",
         b">2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n$40\r\nSome real reply following the push reply\r\n"),
        ("verbatim", b"$25\r\nThis is a verbatim\nstring\r\n", b"=29\r\ntxt:This is a verbatim\nstring\r\n"),
        ("TRUE", b":1\r\n", b"#t\r\n"),
        ("false", b":0\r\n", b"#f\r\n"),
    ],
)
def test_debug_protocol(h, name, resp2, resp3):
    assert h.raw("DEBUG", "PROTOCOL", name) == resp2
    h.client.resp3 = True
    assert h.raw("DEBUG", "PROTOCOL", name) == resp3


def test_debug_error_log_and_unknown(h):
    assert h.raw("DEBUG", "ERROR", "foo bar") == b"-foo bar\r\n"
    assert h.raw("DEBUG", "ERROR", "-FOO\r\nx") == b"--FOO  x\r\n"
    assert h.raw("DEBUG", "LOG", "hello") == b"+OK\r\n"
    assert err(h.run("DEBUG", "PROTOCOL", "foo")).startswith("ERR Wrong protocol type name. Please use one of the following: string|")
    for args in (["foo"], ["JMAP"], ["SLEEP"], ["SLEEP", "1", "2"], ["help", "x"], ["DIGEST", "x"]):
        assert err(h.run("DEBUG", *args)) == "ERR unknown subcommand or wrong number of arguments for '%s'. Try DEBUG HELP." % args[0]


def test_debug_help_lists_what_is_supported(h):
    lines = h.run("DEBUG", "HELP")
    assert lines[0] == b"DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    names = {line.split()[0] for line in lines[1:] if not line.startswith(b" ")}
    assert names == {b"DIGEST", b"DIGEST-VALUE", b"ERROR", b"LOG", b"OBJECT", b"POPULATE", b"PROTOCOL", b"RELOAD", b"SET-ACTIVE-EXPIRE", b"SLEEP", b"HELP"}


def test_debug_can_be_disabled():
    h = Harness(enable_debug_command="no")
    assert err(h.run("DEBUG", "SLEEP", "0")) == (
        'ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", you can run it '
        "from a local connection, otherwise you need to set this option in the configuration file, and then restart the server."
    )
    local = Harness(enable_debug_command="local")
    assert local.raw("DEBUG", "SLEEP", "0") == b"+OK\r\n"
    remote = local.node.new_client("10.1.2.3:4000")
    assert err(local.run("DEBUG", "SLEEP", "0", client=remote)).startswith("ERR DEBUG command not allowed.")


# ---- LOLWUT ------------------------------------------------------------------------


def test_lolwut_plain(h):
    for args in ([], ["VERSION", "1"], ["foo"], ["VERSION"], ["VERSION", "4", "1", "2"], ["VERSION", "-1"]):
        assert h.raw("LOLWUT", *args) == b"$18\r\nRedis ver. 7.0.15\n\r\n"
    h.client.resp3 = True
    assert h.raw("LOLWUT") == b"=22\r\ntxt:Redis ver. 7.0.15\n\r\n"
    assert err(h.run("LOLWUT", "VERSION", "x")) == "ERR value is not an integer or out of range"


def test_lolwut_5_draws_schotter_in_braille(h):
    text = h.run("LOLWUT", "VERSION", "5", "20", "3", "3").decode()
    art, credit = text.split("\n\n")
    assert credit == "Georg Nees - schotter, plotter on paper, 1968. Redis ver. 7.0.15\n"
    rows = art.split("\n")
    assert all(len(row) == 20 and all(0x2800 <= ord(ch) <= 0x28FF for ch in row) for row in rows)
    assert len(rows) == 10  # 40 px wide minus padding, 3 squares of 12 px, plus padding: 40 px high
    assert err(h.run("LOLWUT", "VERSION", "5", "x")) == "ERR value is not an integer or out of range"


def test_lolwut_6_draws_a_skyline(h):
    text = h.run("LOLWUT", "VERSION", "6", "30", "8", "ignored").decode()
    assert text.endswith(
        "\nDedicated to the 8 bit game developers of past and present.\n"
        "Original 8 bit image from Plaguemon by hikikomori. Redis ver. 7.0.15\n"
    )
    rows = text.split("\nDedicated")[0].split("\n")
    assert len(rows) == 8 and all(row.count("\033[0m") == 30 for row in rows)


# ---- DEBUG RELOAD ------------------------------------------------------------------


def _with_persistence(tmp_path):
    from node.log import Log
    from node.persistence.manager import Persistence

    h = Harness(dir=str(tmp_path))
    Persistence(h.node, Log("nothing"))
    return h


def test_debug_reload_saves_and_loads_back(tmp_path):
    h = _with_persistence(tmp_path)
    h.run("SET", "a", "1")
    h.run("RPUSH", "l", "x", "y")
    h.run("SELECT", "2")
    h.run("SADD", "s", "m")
    digest = h.run("DEBUG", "DIGEST")
    assert h.raw("DEBUG", "RELOAD") == b"+OK\r\n"
    assert (tmp_path / "dump.rdb").exists()
    assert h.run("DEBUG", "DIGEST") == digest
    h.run("SET", "extra", "1")
    assert h.raw("DEBUG", "RELOAD", "NOSAVE") == b"+OK\r\n"
    assert h.run("EXISTS", "extra") == 0 and h.run("DEBUG", "DIGEST") == digest


def test_debug_reload_noflush_merges(tmp_path):
    h = _with_persistence(tmp_path)
    h.run("SET", "a", "from-file")
    h.run("DEBUG", "RELOAD")
    h.run("SET", "a", "changed")
    h.run("SET", "b", "kept")
    assert h.raw("DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE") == b"+OK\r\n"
    assert h.run("MGET", "a", "b") == [b"from-file", b"kept"]


def test_debug_reload_errors(tmp_path, h):
    assert err(h.run("DEBUG", "RELOAD", "foo")) == "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options."
    assert h.raw("DEBUG", "RELOAD") == b"-ERR\r\n"  # no persistence here: the save fails
    h = _with_persistence(tmp_path)
    h.run("SET", "a", "1")
    assert err(h.run("DEBUG", "RELOAD", "NOSAVE")) == "ERR Error trying to load the RDB dump, check server logs."
