"""PING, ECHO, QUIT, SELECT, AUTH, HELLO, RESET and CLIENT. Expected bytes and texts
were checked against a real Redis 7.0.15 (RESP2 and RESP3)."""

import time

import pytest

from conftest import Harness, err

_HELLO3 = (
    b"%%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n"
    b"$2\r\nid\r\n:%d\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$%d\r\n%s\r\n$7\r\nmodules\r\n*0\r\n"
)
_HELLO2 = (
    b"*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:2\r\n"
    b"$2\r\nid\r\n:%d\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n"
)
_WRONGPASS = b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
_NOPASS = (
    b"-ERR AUTH <password> called without any password configured for the default user. "
    b"Are you sure your configuration is correct?\r\n"
)
_FIELDS = (
    "id addr laddr fd name age idle flags db sub psub ssub multi qbuf qbuf-free argv-mem "
    "multi-mem rbs rbp obl oll omem tot-mem events cmd user redir resp"
).split()


def hello3(cid, role=b"master"):
    return _HELLO3 % (cid, len(role), role)




def info(h, client=None) -> dict:
    """CLIENT INFO as a dict, checking Redis 7.0's field order on the way."""
    line = h.run("CLIENT", "INFO", client=client).decode()
    assert line.endswith("\n")
    pairs = [field.split("=", 1) for field in line[:-1].split(" ")]
    assert [k for k, _ in pairs] == _FIELDS
    return dict(pairs)


def list_lines(h, *args):
    return [dict(f.split("=", 1) for f in line.split(" ")) for line in h.run("CLIENT", "LIST", *args).decode().splitlines()]


def monitor(h):
    m = h.new_client()
    assert h.raw("MONITOR", client=m) == b"+OK\r\n"
    return m


def taken(client) -> bytes:
    data = b"".join(client.out)
    client.out.clear()
    return data


# ---- PING, ECHO, QUIT, SELECT ----------------------------------------------------


def test_ping(h):
    assert h.raw("PING") == b"+PONG\r\n"
    assert h.raw("PING", "hi") == b"$2\r\nhi\r\n"
    assert h.raw("PING", "a", "b") == b"-ERR wrong number of arguments for 'ping' command\r\n"


def test_ping_in_resp2_subscribe_context_is_an_array(h):
    h.raw("SUBSCRIBE", "c")
    assert h.raw("PING") == b"*2\r\n$4\r\npong\r\n$0\r\n\r\n"
    assert h.raw("PING", "hi") == b"*2\r\n$4\r\npong\r\n$2\r\nhi\r\n"
    h.client.resp3 = True
    assert h.raw("PING") == b"+PONG\r\n"


def test_echo(h):
    assert h.raw("ECHO", "x\r\ny") == b"$4\r\nx\r\ny\r\n"
    assert h.raw("ECHO") == b"-ERR wrong number of arguments for 'echo' command\r\n"


def test_quit_replies_then_closes(h):
    assert h.raw("QUIT", "ignored") == b"+OK\r\n"
    assert h.client.closing


def test_select(h):
    assert h.raw("SELECT", "15") == b"+OK\r\n"
    assert h.client.dbnum == 15
    h.run("SET", "k", "v")
    assert h.node.keyspace.dbs[15].data == {b"k": b"v"}
    assert err(h.run("SELECT", "16")) == "ERR DB index is out of range"
    assert err(h.run("SELECT", "-1")) == "ERR DB index is out of range"
    for bad in ("x", "1.0", "015", "99999999999999999999"):
        assert err(h.run("SELECT", bad)) == "ERR value is not an integer or out of range"
    assert err(h.run("SELECT", "2147483648")) == "ERR value is out of range, value must between -2147483648 and 2147483647"
    assert h.client.dbnum == 15


# ---- AUTH ------------------------------------------------------------------------


def test_auth_without_requirepass(h):
    assert h.raw("AUTH", "x") == _NOPASS
    # The default user is nopass: any password logs it in.
    assert h.raw("AUTH", "default", "x") == b"+OK\r\n"
    assert h.raw("AUTH", "bob", "x") == _WRONGPASS
    assert h.raw("AUTH", "a", "b", "c") == b"-ERR syntax error\r\n"
    assert h.raw("AUTH") == b"-ERR wrong number of arguments for 'auth' command\r\n"


def test_auth_with_requirepass():
    h = Harness(requirepass="secret")
    assert h.raw("PING") == b"-NOAUTH Authentication required.\r\n"
    assert h.raw("AUTH", "x") == _WRONGPASS
    assert h.raw("AUTH", "default", "x") == _WRONGPASS
    assert h.raw("AUTH", "secret") == b"+OK\r\n"
    assert h.raw("PING") == b"+PONG\r\n"
    # A failed AUTH does not log the client out.
    assert h.raw("AUTH", "wrong") == _WRONGPASS
    assert h.raw("PING") == b"+PONG\r\n"
    other = h.new_client()
    assert h.raw("AUTH", "default", "secret", client=other) == b"+OK\r\n"
    assert h.raw("PING", client=other) == b"+PONG\r\n"


def test_auth_and_hello_passwords_are_redacted_for_monitor_and_slowlog():
    h = Harness(requirepass="secret", slowlog_log_slower_than=0)
    m = monitor_after_auth(h)
    h.raw("AUTH", "secret")
    h.raw("AUTH", "default", "secret")
    h.raw("HELLO", "2", "AUTH", "default", "secret", "SETNAME", "n")
    lines = taken(m)
    assert b'"AUTH" "(redacted)"\r\n' in lines
    assert b'"AUTH" "(redacted)" "(redacted)"\r\n' in lines
    assert b'"HELLO" "2" "AUTH" "(redacted)" "(redacted)" "SETNAME" "n"\r\n' in lines
    assert b"secret" not in lines
    logged = [entry.argv for entry in h.node.slowlog]
    assert [b"AUTH", b"(redacted)"] in logged
    assert not any(b"secret" in arg for argv in logged for arg in argv)


def monitor_after_auth(h):
    m = h.new_client()
    h.raw("AUTH", "secret", client=m)
    h.raw("MONITOR", client=m)
    taken(m)
    return m


# ---- HELLO -------------------------------------------------------------------------


def test_hello_reply_and_protocol_switch(h):
    cid = h.client.id
    assert h.raw("HELLO") == _HELLO2 % cid
    assert h.raw("HELLO", "3") == hello3(cid, b"master")
    assert h.client.resp3
    assert h.raw("HELLO") == hello3(cid, b"master")  # no version: protocol unchanged
    assert h.raw("HELLO", "2") == _HELLO2 % cid
    assert not h.client.resp3


def test_hello_on_a_replica_says_replica(h):
    h.node.role = "slave"
    assert h.raw("HELLO", "3") == hello3(h.client.id, b"replica")


def test_hello_errors(h):
    assert h.raw("HELLO", "1") == b"-NOPROTO unsupported protocol version\r\n"
    assert h.raw("HELLO", "4", "foo") == b"-NOPROTO unsupported protocol version\r\n"
    for bad in ("x", "03"):
        assert err(h.run("HELLO", bad)) == "ERR Protocol version is not an integer or out of range"
    assert err(h.run("HELLO", "3", "AUTH")) == "ERR Syntax error in HELLO option 'AUTH'"
    assert err(h.run("HELLO", "2", "AUTH", "default")) == "ERR Syntax error in HELLO option 'AUTH'"
    assert err(h.run("HELLO", "3", "SETNAME")) == "ERR Syntax error in HELLO option 'SETNAME'"
    assert err(h.run("HELLO", "3", "foo")) == "ERR Syntax error in HELLO option 'foo'"
    assert h.raw("HELLO", "3", "AUTH", "bob", "x") == _WRONGPASS
    assert not h.client.resp3


def test_hello_setname_is_checked_before_switching(h):
    assert err(h.run("HELLO", "3", "SETNAME", "a b")) == "ERR Client names cannot contain spaces, newlines or special characters."
    assert not h.client.resp3
    h.run("HELLO", "2", "SETNAME", "a", "SETNAME", "b")
    assert h.run("CLIENT", "GETNAME") == b"b"


def test_hello_requires_authentication_or_its_auth_option():
    h = Harness(requirepass="secret")
    text = (
        "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH "
        "<user> <pass> option can be used to authenticate the client and select the RESP protocol "
        "version at the same time"
    )
    assert err(h.run("HELLO", "3")) == text
    assert h.raw("HELLO", "3", "AUTH", "default", "x") == _WRONGPASS
    # Authenticated first, then the bad name fails: the client stays logged in, in RESP2.
    assert err(h.run("HELLO", "3", "AUTH", "default", "secret", "SETNAME", "a b")).startswith("ERR Client names")
    assert h.client.authenticated and not h.client.resp3
    assert h.raw("HELLO", "3", "AUTH", "default", "secret") == hello3(h.client.id, b"master")


# ---- RESET -------------------------------------------------------------------------


def test_reset_restores_a_fresh_connection(h):
    h.run("SELECT", "3")
    h.run("CLIENT", "SETNAME", "abc")
    h.run("HELLO", "3")
    h.run("CLIENT", "NO-EVICT", "on")
    h.run("WATCH", "w")
    h.run("MULTI")
    assert h.raw("RESET") == b"+RESET\r\n"
    c = h.client
    assert (c.dbnum, c.resp3, c.name, c.multi, c.watched) == (0, False, b"", None, [])
    assert h.raw("EXEC") == b"-ERR EXEC without MULTI\r\n"
    # Redis 7.0 keeps NO-EVICT across RESET.
    assert info(h)["flags"] == "e"


def test_reset_leaves_pubsub_and_monitor(h):
    h.raw("SUBSCRIBE", "a")
    h.raw("PSUBSCRIBE", "x*")
    assert h.raw("RESET") == b"+RESET\r\n"
    assert h.client.kind == "normal" and not h.client.channels and not h.node.channels
    assert h.run("PUBLISH", "a", "m") == 0
    m = monitor(h)
    assert h.raw("RESET", client=m) == b"+RESET\r\n"
    assert h.node.monitors == [] and not m.monitor


def test_reset_logs_out_when_a_password_is_required():
    h = Harness(requirepass="secret")
    h.raw("AUTH", "secret")
    assert h.raw("RESET") == b"+RESET\r\n"
    assert h.raw("PING") == b"-NOAUTH Authentication required.\r\n"


# ---- CLIENT basics -------------------------------------------------------------


def test_client_id_and_names(h):
    assert h.run("CLIENT", "ID") == h.client.id
    assert h.raw("CLIENT", "GETNAME") == b"$-1\r\n"
    assert h.raw("CLIENT", "SETNAME", "foo") == b"+OK\r\n"
    assert h.run("CLIENT", "GETNAME") == b"foo"
    for bad in ("a b", "é", "x\n"):
        assert err(h.run("CLIENT", "SETNAME", bad)) == "ERR Client names cannot contain spaces, newlines or special characters."
    assert h.raw("CLIENT", "SETNAME", "") == b"+OK\r\n"
    h.client.resp3 = True
    assert h.raw("CLIENT", "GETNAME") == b"_\r\n"


def test_client_setinfo(h):
    assert h.raw("CLIENT", "SETINFO", "LIB-NAME", "redis-py") == b"+OK\r\n"
    assert h.raw("CLIENT", "SETINFO", "lib-ver", "5.0") == b"+OK\r\n"
    assert (h.client.lib_name, h.client.lib_ver) == (b"redis-py", b"5.0")
    assert err(h.run("CLIENT", "SETINFO", "foo", "x")) == "ERR Unrecognized option 'foo'"
    assert err(h.run("CLIENT", "SETINFO", "lib-name", "a b")) == "ERR lib-name cannot contain spaces, newlines or special characters."


def test_client_subcommand_errors(h):
    assert h.raw("CLIENT") == b"-ERR wrong number of arguments for 'client' command\r\n"
    assert h.raw("CLIENT", "foo", "bar") == b"-ERR unknown subcommand 'foo'. Try CLIENT HELP.\r\n"
    assert h.raw("CLIENT", "ID", "x") == b"-ERR wrong number of arguments for 'client|id' command\r\n"
    assert h.raw("CLIENT", "help", "x") == b"-ERR wrong number of arguments for 'client|help' command\r\n"
    assert h.raw("CLIENT", "NO-EVICT", "on", "x") == b"-ERR wrong number of arguments for 'client|no-evict' command\r\n"


def test_client_subcommand_errors_are_queue_time_refusals_in_multi(h):
    h.raw("MULTI")
    assert h.raw("CLIENT", "FOO") == b"-ERR unknown subcommand 'FOO'. Try CLIENT HELP.\r\n"
    assert h.raw("CLIENT", "SETNAME", "x", "y") == b"-ERR wrong number of arguments for 'client|setname' command\r\n"
    assert h.raw("CLIENT", "ID") == b"+QUEUED\r\n"
    assert h.raw("EXEC") == b"-EXECABORT Transaction discarded because of previous errors.\r\n"


def test_client_help_is_redis_text(h):
    lines = h.run("CLIENT", "HELP")
    assert len(lines) == 48
    assert lines[0] == b"CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert lines[1] == b"CACHING (YES|NO)"
    assert lines[-2:] == [b"HELP", b"    Prints this help."]
    assert h.raw("CLIENT", "HELP").startswith(b"*48\r\n+CLIENT <subcommand>")


# ---- CLIENT INFO / LIST --------------------------------------------------------


def test_client_info_fields(h):
    h.run("SELECT", "2")
    h.run("CLIENT", "SETNAME", "me")
    fields = info(h)
    assert fields["id"] == str(h.client.id)
    assert fields["addr"] == "127.0.0.1:5000"
    assert (fields["name"], fields["db"], fields["flags"], fields["multi"]) == ("me", "2", "N", "-1")
    assert (fields["cmd"], fields["user"], fields["redir"], fields["resp"]) == ("client|info", "default", "-1", "2")
    assert fields["argv-mem"] == str(len("CLIENT") + len("INFO"))
    assert fields["age"] == "0" and fields["idle"] == "0"


def test_client_info_is_verbatim_in_resp3(h):
    h.client.resp3 = True
    data = h.raw("CLIENT", "INFO")
    body = data[data.index(b"\r\n") + 2 : -2]
    assert data.startswith(b"=%d\r\ntxt:id=" % len(body))
    assert body.endswith(b" resp=3\n")


def test_client_list_shows_each_client_with_its_state(h):
    sub, multi, blocked, mon, dirty = (h.new_client() for _ in range(5))
    h.run("SUBSCRIBE", "a", "b", client=sub)
    h.run("PSUBSCRIBE", "x*", client=sub)
    h.run("MULTI", client=multi)
    h.run("SET", "k", "v", client=multi)
    h.run("BLPOP", "list", "0", client=blocked)
    h.run("MONITOR", client=mon)
    h.run("WATCH", "w", client=dirty)
    h.run("CLIENT", "NO-EVICT", "on", client=dirty)
    h.run("SET", "w", "1")
    lines = {int(line["id"]): line for line in list_lines(h)}
    assert list(lines) == sorted(lines)  # oldest first
    me = lines[h.client.id]
    assert (me["flags"], me["cmd"]) == ("N", "client|list")
    assert (lines[sub.id]["flags"], lines[sub.id]["sub"], lines[sub.id]["psub"], lines[sub.id]["cmd"]) == ("P", "2", "1", "psubscribe")
    assert (lines[multi.id]["flags"], lines[multi.id]["multi"], lines[multi.id]["multi-mem"]) == ("x", "1", "5")
    assert (lines[blocked.id]["flags"], lines[blocked.id]["cmd"]) == ("b", "blpop")
    assert lines[mon.id]["flags"] == "O"
    assert lines[dirty.id]["flags"] == "de"


def test_client_list_filters(h):
    sub = h.new_client()
    h.run("SUBSCRIBE", "a", client=sub)
    assert [line["id"] for line in list_lines(h, "TYPE", "pubsub")] == [str(sub.id)]
    assert [line["id"] for line in list_lines(h, "type", "NORMAL")] == [str(h.client.id)]
    assert list_lines(h, "TYPE", "master") == [] and list_lines(h, "TYPE", "slave") == [] and list_lines(h, "TYPE", "replica") == []
    # Unknown and repeated IDs: each listed as often as asked, in the order asked.
    ids = [line["id"] for line in list_lines(h, "ID", str(sub.id), "999", str(h.client.id), str(sub.id))]
    assert ids == [str(sub.id), str(h.client.id), str(sub.id)]
    assert h.raw("CLIENT", "LIST", "ID", "0", "-1") == b"$0\r\n\r\n"


def test_client_list_errors(h):
    assert err(h.run("CLIENT", "LIST", "TYPE")) == "ERR syntax error"
    assert err(h.run("CLIENT", "LIST", "TYPE", "foo")) == "ERR Unknown client type 'foo'"
    assert err(h.run("CLIENT", "LIST", "ID")) == "ERR syntax error"
    assert err(h.run("CLIENT", "LIST", "ID", "1", "x")) == "ERR Invalid client ID"
    assert err(h.run("CLIENT", "LIST", "TYPE", "normal", "ID", "1")) == "ERR syntax error"
    assert err(h.run("CLIENT", "LIST", "foo", "bar")) == "ERR syntax error"


def test_client_list_reports_pending_output(h):
    other = h.new_client()
    other.out.append(b"+PONG\r\n")
    line = list_lines(h, "ID", str(other.id))[0]
    assert (line["obl"], line["oll"], line["omem"], line["events"]) == ("0", "1", "7", "rw")


def test_client_list_last_command_names_the_subcommand(h):
    other = h.new_client()
    h.run("CLIENT", "ID", client=other)
    assert list_lines(h, "ID", str(other.id))[0]["cmd"] == "client|id"


def test_client_age_and_idle(h):
    other = h.new_client()
    other.created -= 30
    other.last_interaction -= 12
    line = list_lines(h, "ID", str(other.id))[0]
    assert line["age"] in ("30", "31") and line["idle"] in ("12", "13")


# ---- CLIENT KILL ---------------------------------------------------------------


def _killable(h, addr="127.0.0.1:6000"):
    client = h.node.new_client(addr)
    client.killed = 0

    def kill():
        client.killed += 1

    client.kill = kill
    return client


def test_client_kill_old_form(h):
    victim = _killable(h)
    assert h.raw("CLIENT", "KILL", "127.0.0.1:6000") == b"+OK\r\n"
    assert victim.killed == 1 and victim.closing
    assert victim.id not in h.node.clients
    assert h.raw("CLIENT", "KILL", "127.0.0.1:6000") == b"-ERR No such client\r\n"
    assert h.raw("CLIENT", "KILL", "ID") == b"-ERR No such client\r\n"  # the old form: an address


def test_client_kill_old_form_may_kill_the_caller_after_the_reply(h):
    assert h.raw("CLIENT", "KILL", "127.0.0.1:5000") == b"+OK\r\n"
    assert h.client.closing and h.client.id in h.node.clients


def test_client_kill_filters(h):
    a, b = _killable(h, "10.0.0.1:1"), _killable(h, "10.0.0.2:2")
    h.run("SUBSCRIBE", "ch", client=b)
    assert h.run("CLIENT", "KILL", "ID", "999") == 0
    assert h.run("CLIENT", "KILL", "TYPE", "pubsub") == 1
    assert b.killed == 1 and a.killed == 0
    assert h.run("PUBLISH", "ch", "m") == 0  # its subscriptions left with it
    assert h.run("CLIENT", "KILL", "ADDR", "10.0.0.1:1", "TYPE", "pubsub") == 0
    assert h.run("CLIENT", "KILL", "ADDR", "10.0.0.1:1", "USER", "default", "id", "1", "ID", str(a.id)) == 1
    assert a.killed == 1


def test_client_kill_skips_the_caller_unless_told(h):
    other = _killable(h)
    assert h.run("CLIENT", "KILL", "TYPE", "normal") == 1
    assert not h.client.closing and other.killed == 1
    assert h.run("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "no") == 1
    assert h.client.closing


def test_client_kill_errors(h):
    for value in ("x", "0", "-5"):
        assert err(h.run("CLIENT", "KILL", "ID", value)) == "ERR client-id should be greater than 0"
    assert err(h.run("CLIENT", "KILL", "ID", "999", "TYPE")) == "ERR syntax error"
    assert err(h.run("CLIENT", "KILL", "TYPE", "foo")) == "ERR Unknown client type 'foo'"
    assert err(h.run("CLIENT", "KILL", "USER", "nobody")) == "ERR No such user 'nobody'"
    assert err(h.run("CLIENT", "KILL", "SKIPME", "x")) == "ERR syntax error"
    assert err(h.run("CLIENT", "KILL", "MAXAGE", "5")) == "ERR syntax error"
    assert h.raw("CLIENT", "KILL") == b"-ERR wrong number of arguments for 'client|kill' command\r\n"


# ---- CLIENT PAUSE / UNPAUSE / NO-EVICT -----------------------------------------


def test_client_pause_sets_the_node_pause(h):
    before = time.time()
    assert h.raw("CLIENT", "PAUSE", "5000", "WRITE") == b"+OK\r\n"
    node = h.node
    assert before + 4.9 < node.pause_until < time.time() + 5.1 and node.pause_writes_only
    # A pause on can be widened to ALL and lengthened, never shortened or narrowed.
    until = node.pause_until
    h.raw("CLIENT", "PAUSE", "10", "ALL")
    assert node.pause_until == until and not node.pause_writes_only
    h.raw("CLIENT", "PAUSE", "20000", "WRITE")
    assert node.pause_until > until + 14 and not node.pause_writes_only
    assert h.raw("CLIENT", "UNPAUSE") == b"+OK\r\n"
    assert node.pause_until == 0.0 and not node.pause_writes_only


def test_client_pause_zero_or_overflowing_does_not_pause(h):
    h.raw("CLIENT", "PAUSE", "0")
    assert h.node.pause_until == 0.0
    # Redis's end time wraps past INT64_MAX into the past.
    assert h.raw("CLIENT", "PAUSE", "9223372036854775807") == b"+OK\r\n"
    assert h.node.pause_until == 0.0


def test_client_pause_errors(h):
    assert err(h.run("CLIENT", "PAUSE", "x")) == "ERR timeout is not an integer or out of range"
    assert err(h.run("CLIENT", "PAUSE", "1.5")) == "ERR timeout is not an integer or out of range"
    assert err(h.run("CLIENT", "PAUSE", "-1")) == "ERR timeout is negative"
    assert err(h.run("CLIENT", "PAUSE", "x", "foo")) == "ERR CLIENT PAUSE mode must be WRITE or ALL"
    assert err(h.run("CLIENT", "PAUSE", "10", "write", "x")) == "ERR unknown subcommand or wrong number of arguments for 'PAUSE'. Try CLIENT HELP."
    assert err(h.run("CLIENT", "UNPAUSE", "x")) == "ERR wrong number of arguments for 'client|unpause' command"
    assert h.node.pause_until == 0.0


def test_client_no_evict(h):
    assert h.raw("CLIENT", "NO-EVICT", "ON") == b"+OK\r\n"
    assert h.client.no_evict and info(h)["flags"] == "e"
    assert h.raw("CLIENT", "NO-EVICT", "off") == b"+OK\r\n"
    assert not h.client.no_evict
    assert err(h.run("CLIENT", "NO-EVICT", "x")) == "ERR syntax error"


# ---- CLIENT REPLY --------------------------------------------------------------


def test_client_reply_off_silences_everything_until_on(h):
    assert h.raw("CLIENT", "REPLY", "OFF") == b""
    assert h.raw("SET", "a", "1") == b""
    assert h.raw("NOSUCHCOMMAND") == b""
    assert h.raw("CLIENT", "REPLY", "SKIP") == b""
    assert h.raw("GET", "a") == b""  # SKIP while OFF changes nothing
    assert h.raw("CLIENT", "REPLY", "ON") == b"+OK\r\n"
    assert h.raw("GET", "a") == b"$1\r\n1\r\n"


def test_client_reply_skip_silences_the_next_command_only(h):
    assert h.raw("CLIENT", "REPLY", "SKIP") == b""
    assert h.raw("PING", "a") == b""
    assert h.raw("PING", "b") == b"$1\r\nb\r\n"
    # SKIP while skipping skips the one after too.
    h.raw("CLIENT", "REPLY", "SKIP")
    assert h.raw("CLIENT", "REPLY", "SKIP") == b""
    assert h.raw("PING", "c") == b""
    assert h.raw("PING", "d") == b"$1\r\nd\r\n"
    h.raw("CLIENT", "REPLY", "SKIP")
    assert h.raw("CLIENT", "REPLY", "ON") == b"+OK\r\n"
    assert h.raw("PING", "e") == b"$1\r\ne\r\n"


def test_client_reply_off_drops_pushed_messages_and_reset_turns_it_on(h):
    h.raw("SUBSCRIBE", "ch")
    h.client.resp3 = True
    h.raw("CLIENT", "REPLY", "OFF")
    h.run("PUBLISH", "ch", "m", client=h.new_client())
    assert taken(h.client) == b""
    assert h.raw("RESET") == b"+RESET\r\n"
    assert h.raw("PING") == b"+PONG\r\n"


def test_client_reply_errors(h):
    assert err(h.run("CLIENT", "REPLY", "x")) == "ERR syntax error"
    assert h.raw("CLIENT", "REPLY") == b"-ERR wrong number of arguments for 'client|reply' command\r\n"
    assert h.raw("CLIENT", "REPLY", "ON") == b"+OK\r\n"
    assert h.raw("PING") == b"+PONG\r\n"


# ---- CLIENT UNBLOCK --------------------------------------------------------------


def _blocked(h):
    waiter = h.new_client()
    assert h.raw("BLPOP", "list", "0", client=waiter) == b""
    assert waiter.blocked is not None
    woken = []
    waiter.unblock = lambda: woken.append(True)
    return waiter, woken


def test_client_unblock_with_the_timeout_reply(h):
    waiter, woken = _blocked(h)
    assert h.run("CLIENT", "UNBLOCK", str(waiter.id)) == 1
    assert woken and waiter.blocked is None and waiter.blocked_reply == b"*-1\r\n"
    assert h.run("CLIENT", "UNBLOCK", str(waiter.id)) == 0
    # No longer waiting: a push to the list stays there.
    h.run("RPUSH", "list", "x")
    assert h.run("LLEN", "list") == 1


def test_client_unblock_with_an_error(h):
    waiter, woken = _blocked(h)
    assert h.run("CLIENT", "UNBLOCK", str(waiter.id), "ERROR") == 1
    assert waiter.blocked_reply == b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"


def test_client_unblock_errors(h):
    assert h.run("CLIENT", "UNBLOCK", str(h.client.id)) == 0  # not blocked
    assert h.run("CLIENT", "UNBLOCK", "-5") == 0
    assert err(h.run("CLIENT", "UNBLOCK", "x")) == "ERR value is not an integer or out of range"
    assert err(h.run("CLIENT", "UNBLOCK", "x", "foo")) == "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"
    assert err(h.run("CLIENT", "UNBLOCK", "5", "error", "x")) == "ERR unknown subcommand or wrong number of arguments for 'UNBLOCK'. Try CLIENT HELP."


# ---- tracking (not supported: always off) -----------------------------------------


def test_tracking_reports_off(h):
    assert h.raw("CLIENT", "GETREDIR") == b":-1\r\n"
    assert h.raw("CLIENT", "TRACKINGINFO") == b"*6\r\n$5\r\nflags\r\n*1\r\n$3\r\noff\r\n$8\r\nredirect\r\n:-1\r\n$8\r\nprefixes\r\n*0\r\n"
    h.client.resp3 = True
    assert h.raw("CLIENT", "TRACKINGINFO") == b"%3\r\n$5\r\nflags\r\n~1\r\n$3\r\noff\r\n$8\r\nredirect\r\n:-1\r\n$8\r\nprefixes\r\n*0\r\n"
    assert err(h.run("CLIENT", "CACHING", "yes")) == (
        "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled"
    )


def test_tracking_options_are_checked_and_off_is_accepted(h):
    assert h.raw("CLIENT", "TRACKING", "off", "BCAST", "PREFIX", "a", "OPTIN", "OPTOUT", "NOLOOP") == b"+OK\r\n"
    assert err(h.run("CLIENT", "TRACKING", "maybe")) == "ERR syntax error"
    assert err(h.run("CLIENT", "TRACKING", "off", "foo")) == "ERR syntax error"
    assert err(h.run("CLIENT", "TRACKING", "off", "PREFIX")) == "ERR syntax error"
    assert err(h.run("CLIENT", "TRACKING", "off", "REDIRECT", "x")) == "ERR value is not an integer or out of range"
    assert err(h.run("CLIENT", "TRACKING", "off", "REDIRECT", "99999")) == "ERR The client ID you want redirect to does not exist"
    assert err(h.run("CLIENT", "TRACKING", "on")).startswith("ERR client-side caching")


@pytest.mark.parametrize("resp3", [False, True])
def test_client_list_of_nobody_is_empty(h, resp3):
    h.client.resp3 = resp3
    assert h.raw("CLIENT", "LIST", "ID", "9999") == (b"=4\r\ntxt:\r\n" if resp3 else b"$0\r\n\r\n")
