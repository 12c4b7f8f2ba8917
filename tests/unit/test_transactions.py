"""MULTI/EXEC/DISCARD/WATCH/UNWATCH against Redis 7.0.15's replies, WATCH with
expiry, queue-time and EXEC-time refusals, blocking commands, and propagation."""

import pytest

from node.commands import table

_EXECABORT = b"-EXECABORT Transaction discarded because of previous errors.\r\n"
_OOM = "OOM command not allowed when used memory > 'maxmemory'."
_READONLY = "READONLY You can't write against a read only replica."


def test_exec_runs_the_queue_and_keeps_going_after_an_error(h):
    assert h.raw("MULTI") == b"+OK\r\n"
    assert h.raw("SET", "k", "v") == b"+QUEUED\r\n"
    assert h.raw("INCR", "k") == b"+QUEUED\r\n"
    assert h.raw("GET", "k") == b"+QUEUED\r\n"
    assert h.raw("EXEC") == b"*3\r\n+OK\r\n-ERR value is not an integer or out of range\r\n$1\r\nv\r\n"
    assert h.client.multi is None
    assert h.run("GET", "k") == b"v"


def test_empty_transaction(h):
    h.raw("MULTI")
    assert h.raw("EXEC") == b"*0\r\n"


def test_misuse_errors(h):
    assert h.raw("EXEC") == b"-ERR EXEC without MULTI\r\n"
    assert h.raw("DISCARD") == b"-ERR DISCARD without MULTI\r\n"
    h.raw("MULTI")
    # Neither error dooms the transaction.
    assert h.raw("MULTI") == b"-ERR MULTI calls can not be nested\r\n"
    assert h.raw("WATCH", "k") == b"-ERR WATCH inside MULTI is not allowed\r\n"
    h.raw("SET", "k", "1")
    assert h.raw("EXEC") == b"*1\r\n+OK\r\n"


def test_queue_time_errors_abort_exec_and_leave_multi(h):
    h.raw("MULTI")
    assert h.raw("FOO") == b"-ERR unknown command 'FOO', with args beginning with: \r\n"
    assert h.raw("SET", "k") == b"-ERR wrong number of arguments for 'set' command\r\n"
    h.raw("SET", "k", "v")
    assert h.raw("EXEC") == _EXECABORT
    assert h.raw("EXEC") == b"-ERR EXEC without MULTI\r\n"
    assert h.run("GET", "k") is None


def test_no_multi_commands_are_refused_at_queue_time(h):
    table.command("test-nomulti", 1, "admin noscript no_multi")(lambda c, argv: b"ran")
    h.node.table.add(table.COMMANDS["test-nomulti"])
    try:
        h.raw("MULTI")
        assert h.raw("TEST-NOMULTI") == b"-ERR Command not allowed inside a transaction\r\n"
        assert h.raw("EXEC") == _EXECABORT
    finally:
        del table.COMMANDS["test-nomulti"]
        del table.BY_BYTES[b"test-nomulti"], table.BY_BYTES[b"TEST-NOMULTI"]


def test_discard_drops_the_queue_and_the_watches(h):
    other = h.new_client()
    h.raw("WATCH", "k")
    h.raw("MULTI")
    h.raw("SET", "k", "mine")
    assert h.raw("DISCARD") == b"+OK\r\n"
    h.raw("SET", "k", "theirs", client=other)
    h.raw("MULTI")
    h.raw("GET", "k")
    assert h.raw("EXEC") == b"*1\r\n$6\r\ntheirs\r\n"


def test_watched_key_touched_by_another_client_fails_exec(h):
    other = h.new_client()
    h.run("SET", "k", "1")
    assert h.raw("WATCH", "k") == b"+OK\r\n"
    h.run("SET", "k", "2", client=other)
    h.raw("MULTI")
    h.raw("SET", "k", "3")
    assert h.raw("EXEC") == b"*-1\r\n"
    assert h.run("GET", "k") == b"2"
    # EXEC forgot the watches: the next transaction runs.
    h.run("SET", "k", "4", client=other)
    h.raw("MULTI")
    h.raw("GET", "k")
    assert h.raw("EXEC") == b"*1\r\n$1\r\n4\r\n"


def test_failed_exec_is_a_resp3_null(h):
    h.client.resp3 = True
    h.raw("WATCH", "k")
    h.run("SET", "k", "x", client=h.new_client())
    h.raw("MULTI")
    assert h.raw("EXEC") == b"_\r\n"


def test_own_write_after_watch_also_fails_exec(h):
    h.raw("WATCH", "k")
    h.run("SET", "k", "mine")
    h.raw("MULTI")
    assert h.raw("EXEC") == b"*-1\r\n"


def test_unwatch_and_untouched_keys(h):
    other = h.new_client()
    h.raw("WATCH", "k", "j")
    assert h.raw("UNWATCH") == b"+OK\r\n"
    h.run("SET", "k", "x", client=other)
    h.raw("MULTI")
    assert h.raw("EXEC") == b"*0\r\n"
    h.raw("WATCH", "missing")
    h.run("DEL", "missing", client=other)  # deleting nothing touches nothing
    h.raw("MULTI")
    assert h.raw("EXEC") == b"*0\r\n"


def test_watch_is_per_database(h):
    other = h.new_client()
    h.client.select(1)
    h.raw("WATCH", "k")
    h.client.select(0)
    h.run("SET", "k", "db0", client=other)
    h.raw("MULTI")
    assert h.raw("EXEC") == b"*0\r\n"
    h.client.select(1)
    h.raw("WATCH", "k")
    other.select(1)
    h.run("SET", "k", "db1", client=other)
    h.raw("MULTI")
    assert h.raw("EXEC") == b"*-1\r\n"


def test_watch_same_key_twice_registers_once(h):
    h.raw("WATCH", "k", "k")
    h.raw("WATCH", "k")
    assert len(h.client.watched) == 1
    h.raw("UNWATCH")
    assert h.client.db.watched == {}


def test_disconnect_forgets_watches(h):
    other = h.new_client()
    h.raw("WATCH", "k", client=other)
    h.node.remove_client(other)
    assert h.client.db.watched == {}


class TestWatchAndExpiry:
    """Redis 7.0.15, checked against the real server: a key live at WATCH that
    expires before EXEC fails it; a key already expired at WATCH counts as absent."""

    def _expiring(self, h, ms=100):
        h.run("SET", "k", "v", "PX", ms)

    def test_key_expiring_after_watch_fails_exec(self, h):
        self._expiring(h)
        h.raw("WATCH", "k")
        h.advance(200)
        h.raw("MULTI")
        assert h.raw("EXEC") == b"*-1\r\n"

    def test_key_already_expired_at_watch_does_not(self, h):
        self._expiring(h)
        h.advance(200)
        h.raw("WATCH", "k")
        h.raw("MULTI")
        assert h.raw("EXEC") == b"*0\r\n"

    def test_deleting_a_key_expired_at_watch_is_no_change(self, h):
        self._expiring(h)
        h.advance(200)
        h.raw("WATCH", "k")
        assert h.run("GET", "k", client=h.new_client()) is None  # lazy expiry deletes it
        h.raw("MULTI")
        assert h.raw("EXEC") == b"*0\r\n"

    def test_lazy_expiry_of_a_live_watched_key_fails_exec(self, h):
        self._expiring(h)
        h.raw("WATCH", "k")
        h.advance(200)
        h.run("GET", "k", client=h.new_client())
        h.raw("MULTI")
        assert h.raw("EXEC") == b"*-1\r\n"

    def test_active_expiry_of_a_live_watched_key_fails_exec(self, h):
        self._expiring(h)
        h.raw("WATCH", "k")
        h.advance(200)
        assert h.node.keyspace.active_expire_cycle() == 1
        h.raw("MULTI")
        assert h.raw("EXEC") == b"*-1\r\n"

    def test_writing_a_key_expired_at_watch_fails_exec(self, h):
        self._expiring(h)
        h.advance(200)
        h.raw("WATCH", "k")
        h.run("SET", "k", "new", client=h.new_client())
        h.raw("MULTI")
        assert h.raw("EXEC") == b"*-1\r\n"

    def test_flush_breaks_watch_only_on_live_keys(self, h):
        self._expiring(h)
        h.advance(200)
        h.raw("WATCH", "k")
        h.client.db.flush()
        h.raw("MULTI")
        assert h.raw("EXEC") == b"*0\r\n"
        h.run("SET", "k", "v")
        h.raw("WATCH", "k")
        h.client.db.flush()
        h.raw("MULTI")
        assert h.raw("EXEC") == b"*-1\r\n"

    def test_swapdb_bringing_an_expired_key_is_no_change(self, h):
        h.client.select(1)
        self._expiring(h, 50)
        h.client.select(0)
        h.advance(100)
        h.raw("WATCH", "k")
        h.node.keyspace.swap(0, 1)
        h.raw("MULTI")
        assert h.raw("EXEC") == b"*0\r\n"

    def test_swapdb_bringing_a_live_key_fails_exec(self, h):
        h.client.select(1)
        h.run("SET", "k", "v")
        h.client.select(0)
        h.raw("WATCH", "k")
        h.node.keyspace.swap(0, 1)
        h.raw("MULTI")
        assert h.raw("EXEC") == b"*-1\r\n"


def test_blocking_command_in_exec_answers_at_once(h):
    h.raw("MULTI")
    h.raw("BLPOP", "nolist", "0")
    h.raw("LPUSH", "l", "a")
    h.raw("BLPOP", "l", "0")
    assert h.raw("EXEC") == b"*3\r\n*-1\r\n:1\r\n*2\r\n$1\r\nl\r\n$1\r\na\r\n"
    assert h.client.blocked is None


def test_blocked_clients_are_served_after_the_whole_transaction(h):
    waiter = h.new_client()
    h.raw("BLPOP", "l", "0", client=waiter)
    assert waiter.blocked is not None
    h.raw("MULTI")
    h.raw("LPUSH", "l", "a")
    h.raw("RPOP", "l")
    assert h.raw("EXEC") == b"*2\r\n:1\r\n$1\r\na\r\n"
    assert waiter.blocked is not None  # the list was empty again when EXEC ended
    h.raw("MULTI")
    h.raw("LPUSH", "l", "b")
    h.raw("EXEC")
    assert waiter.blocked is None
    assert waiter.blocked_reply == b"*2\r\n$1\r\nl\r\n$1\r\nb\r\n"


def test_commands_in_exec_are_counted(h):
    incr = h.node.table.get("incr")
    before = incr.calls
    h.raw("MULTI")
    h.raw("INCR", "n")
    h.raw("INCR", "n")
    h.raw("EXEC")
    assert incr.calls == before + 2


class TestPropagation:
    @pytest.fixture
    def fed(self, h):
        fed = []
        h.node.propagate_listeners.append(lambda db, argv: fed.append((db, argv)))
        return fed

    def test_several_writes_go_out_wrapped_in_multi_exec(self, h, fed):
        h.raw("MULTI")
        h.raw("SET", "a", "1")
        h.raw("GET", "a")
        h.raw("SET", "b", "2", "PX", "1000")
        h.raw("EXEC")
        deadline = b"%d" % (h.clock[0] + 1000)
        assert fed == [
            (0, [b"MULTI"]),
            (0, [b"SET", b"a", b"1"]),
            (0, [b"SET", b"b", b"2", b"PXAT", deadline]),
            (0, [b"EXEC"]),
        ]

    def test_a_single_write_goes_out_alone(self, h, fed):
        h.raw("MULTI")
        h.raw("GET", "a")
        h.raw("SET", "a", "1")
        h.raw("INCR", "a")
        h.raw("INCR", "nope", "x")
        h.raw("EXEC")
        assert fed == []  # INCR with 2 args is an arity error: the transaction aborted
        h.raw("MULTI")
        h.raw("GET", "a")
        h.raw("SET", "a", "1")
        h.raw("EXEC")
        assert fed == [(0, [b"SET", b"a", b"1"])]

    def test_read_only_and_failed_transactions_propagate_nothing(self, h, fed):
        h.raw("MULTI")
        h.raw("GET", "a")
        h.raw("EXEC")
        h.raw("WATCH", "a")
        h.run("SET", "a", "x", client=h.new_client())
        fed.clear()
        h.raw("MULTI")
        h.raw("SET", "a", "mine")
        h.raw("SET", "b", "mine")
        h.raw("EXEC")
        assert fed == []


class TestRefusals:
    def test_over_maxmemory_every_command_is_refused_in_multi(self, h):
        h.run("SET", "k", "v")
        h.node.config.set("maxmemory", "1")
        h.raw("MULTI")
        assert str(h.run("GET", "k")) == _OOM
        assert str(h.run("SET", "k", "v")) == _OOM
        assert h.raw("EXEC") == _EXECABORT
        assert h.run("GET", "k") == b"v"  # outside MULTI a read still runs

    def test_exec_with_a_denyoom_command_is_refused_over_maxmemory(self, h):
        h.run("SET", "k", "v")
        h.raw("MULTI")
        h.raw("SET", "k", "w")
        h.raw("FOO")
        h.node.config.set("maxmemory", "1")
        assert str(h.run("EXEC")) == "EXECABORT Transaction discarded because of: " + _OOM
        assert h.client.multi is None
        assert h.run("GET", "k") == b"v"

    def test_exec_of_reads_runs_over_maxmemory(self, h):
        h.run("SET", "k", "v")
        h.raw("MULTI")
        h.raw("GET", "k")
        h.node.config.set("maxmemory", "1")
        assert h.raw("EXEC") == b"*1\r\n$1\r\nv\r\n"

    def test_readonly_replica_refuses_writes_at_queue_time(self, h):
        h.node.role = "slave"
        h.raw("MULTI")
        assert str(h.run("SET", "k", "v")) == _READONLY
        assert h.raw("GET", "k") == b"+QUEUED\r\n"
        assert h.raw("EXEC") == _EXECABORT

    def test_becoming_a_replica_before_exec_refuses_queued_writes(self, h):
        h.raw("MULTI")
        h.raw("SET", "k", "v")
        h.node.role = "slave"
        assert str(h.run("EXEC")) == "EXECABORT Transaction discarded because of: " + _READONLY
        h.node.role = "master"
        assert h.run("GET", "k") is None


def test_exec_refused_by_the_dispatcher_discards_and_says_why(h):
    reason = b"-EXECABORT Transaction discarded because of: "
    h.raw("MULTI")
    h.raw("SET", "k", "v")
    assert h.raw("EXEC", "x") == reason + b"wrong number of arguments for 'exec' command\r\n"
    assert h.raw("EXEC") == b"-ERR EXEC without MULTI\r\n"
    assert h.run("GET", "k") is None
    h.raw("SUBSCRIBE", "ch")
    assert h.raw("EXEC") == reason + b"Can't execute 'exec': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"
