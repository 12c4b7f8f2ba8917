"""The wire protocol over raw sockets: inline commands, pipelining, RESP3 types.

Expected bytes were recorded from Redis 7.0.15 (re-check with
TRIOKV_TEST_TARGET=redis).
"""

import pytest

from tests.integration.helpers import raw_connect, read_exactly
from tests.resp_wire import Conn, encode_command
from tests.support import wait_until


@pytest.fixture
def conn(server):
    with Conn(server.host, server.port) as c:
        yield c


def read_replies(conn: Conn, n: int, timeout: float = None) -> list:
    """The exact bytes of the next `n` replies; a close on the way fails with what came before."""
    got = []
    try:
        for _ in range(n):
            got.append(conn.read(timeout).raw)
    except ConnectionError as e:
        raise AssertionError("server closed the connection after %d of %d replies; last ones %r; %s" % (len(got), n, got[-3:], e)) from None
    return got


def exchange(conn: Conn, data: bytes, n_replies: int = 1) -> bytes:
    """Send raw bytes and return the exact bytes of the next `n_replies` replies."""
    conn.send_raw(data)
    return b"".join(read_replies(conn, n_replies))


# ---- inline commands ------------------------------------------------------------


def test_inline_ping_set_get(conn):
    assert exchange(conn, b"PING\r\n") == b"+PONG\r\n"
    assert exchange(conn, b'SET k "a b"\r\n') == b"+OK\r\n"
    assert exchange(conn, b"GET k\r\n") == b"$3\r\na b\r\n"


def test_inline_quoting_and_escapes(conn):
    assert exchange(conn, b"SET k 'x \"y\" z'\r\n") == b"+OK\r\n"
    assert exchange(conn, b"GET k\r\n") == b'$7\r\nx "y" z\r\n'
    assert exchange(conn, b'SET k2 "\\x41\\n\\t\\"q"\r\n') == b"+OK\r\n"
    assert exchange(conn, b"GET k2\r\n") == b'$5\r\nA\n\t"q\r\n'
    assert exchange(conn, b"ECHO ''\r\n") == b"$0\r\n\r\n"


def test_inline_newline_only_and_blank_lines(conn):
    assert exchange(conn, b"PING\n") == b"+PONG\r\n"
    # empty lines are skipped: only one reply comes back, for the PING
    assert exchange(conn, b"\r\n\r\n   \r\nPING\r\n") == b"+PONG\r\n"
    assert exchange(conn, b"ECHO hello\r\n") == b"$5\r\nhello\r\n"


def test_inline_and_multibulk_mixed_in_one_send(conn):
    data = b"SET a 1\r\n" + encode_command(["INCR", "a"]) + b"INCR a\r\n" + encode_command(["GET", "a"])
    assert exchange(conn, data, 4) == b"+OK\r\n:2\r\n:3\r\n$1\r\n3\r\n"


def test_inline_unknown_command_error(conn):
    assert exchange(conn, b"NOSUCH a b\r\n") == b"-ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b' \r\n"


# ---- pipelining ----------------------------------------------------------------------


def test_ten_thousand_commands_in_one_send(conn):
    n = 10_000
    parts, expected = [], []
    for i in range(n):
        parts.append(encode_command(["SET", "key:%d" % i, "val:%d" % i]))
        expected.append(b"+OK\r\n")
        parts.append(encode_command(["INCR", "counter"]))
        expected.append(b":%d\r\n" % (i + 1))
        parts.append(encode_command(["GET", "key:%d" % (i // 2)]))
        value = b"val:%d" % (i // 2)
        expected.append(b"$%d\r\n%s\r\n" % (len(value), value))
    conn.send_raw(b"".join(parts))
    got = read_replies(conn, len(expected), timeout=30)
    mismatches = [(i, e, g) for i, (e, g) in enumerate(zip(expected, got)) if e != g]
    assert not mismatches, "first mismatches (index, expected, got): %r" % mismatches[:5]


_BODY_REQUESTS = [
    (["SET", "bin", b"*3\r\n$3\r\nSET\r\n"], b"+OK\r\n"),
    (["ECHO", b"$5\r\nhello"], b"$9\r\n$5\r\nhello\r\n"),
    (["DEL", "l"], None),  # 1 or 0 depending on the previous round; checked by type only
    (["RPUSH", "l", "a", "*", "$"], b":3\r\n"),
    (["GET", "bin"], b"$13\r\n*3\r\n$3\r\nSET\r\n\r\n"),
    (["LRANGE", "l", "1", "-1"], b"*2\r\n$1\r\n*\r\n$1\r\n$\r\n"),
]


def test_requests_split_at_every_byte_boundary(server):
    """A request cut anywhere (after a `*` or `$`, inside a length, between CR and LF) must
    parse the same once the rest arrives. The PING in front is answered before the rest is
    sent, so the server has really read the first part on its own."""
    body = b"".join(encode_command(args) for args, _ in _BODY_REQUESTS)
    ping = encode_command(["PING"])
    failures = []
    c = Conn(server.host, server.port)
    try:
        for cut in range(1, len(body)):
            if c.closed:
                c = Conn(server.host, server.port)
            try:
                c.send_raw(ping + body[:cut])
                assert c.read().raw == b"+PONG\r\n"
                c.send_raw(body[cut:])
                got = [c.read().raw for _ in _BODY_REQUESTS]
            except (AssertionError, ConnectionError, OSError) as e:
                failures.append((cut, body[:cut][-8:], body[cut:][:8], "error: %s" % e))
                c.close()
                c.closed = True
                continue
            for (args, want), reply in zip(_BODY_REQUESTS, got):
                ok = reply[:1] == b":" if want is None else reply == want
                if not ok:
                    failures.append((cut, body[:cut][-8:], body[cut:][:8], "%r -> %r" % (args[0], reply)))
                    break
    finally:
        c.close()
    assert not failures, "%d of %d cut points broke parsing; first (cut, bytes before, bytes after, what): %r" % (
        len(failures),
        len(body) - 1,
        failures[:4],
    )


def test_pipeline_sent_one_byte_at_a_time(server):
    payload = encode_command(["SET", "k", "v"]) + b"PING\r\n" + encode_command(["GET", "k"])
    sock = raw_connect(server)
    try:
        for i in range(len(payload)):
            sock.sendall(payload[i : i + 1])
        expected = b"+OK\r\n+PONG\r\n$1\r\nv\r\n"
        assert read_exactly(sock, len(expected)) == expected
    finally:
        sock.close()


# ---- RESP3 ----------------------------------------------------------------------------


def test_hello_3_answers_a_map(conn):
    reply = conn.call("HELLO", "3")
    assert reply.kind == "%"
    keys = [k.value for k in reply.value[0::2]]
    assert keys == [b"server", b"version", b"proto", b"id", b"mode", b"role", b"modules"]
    assert reply.raw.startswith(b"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:")
    assert reply.raw.endswith(b"$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n")


@pytest.mark.parametrize(
    "command, resp3, resp2",
    [
        (["HGETALL", "h"], b"%1\r\n$1\r\nf\r\n$1\r\nv\r\n", b"*2\r\n$1\r\nf\r\n$1\r\nv\r\n"),
        (["ZSCORE", "z", "m"], b",1.5\r\n", b"$3\r\n1.5\r\n"),
        (["ZRANGE", "z", "0", "-1", "WITHSCORES"], b"*1\r\n*2\r\n$1\r\nm\r\n,1.5\r\n", b"*2\r\n$1\r\nm\r\n$3\r\n1.5\r\n"),
        (["GET", "missing"], b"_\r\n", b"$-1\r\n"),
        (["LPOP", "missing"], b"_\r\n", b"$-1\r\n"),
        (["BLPOP", "missing", "0.01"], b"_\r\n", b"*-1\r\n"),
        (["SMEMBERS", "s"], b"~1\r\n$1\r\na\r\n", b"*1\r\n$1\r\na\r\n"),
        (["CONFIG", "GET", "maxclients"], b"%1\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n", b"*2\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n"),
        (["INCRBYFLOAT", "missing-f", "1.5"], b"$3\r\n1.5\r\n", b"$3\r\n1.5\r\n"),
    ],
    ids=["map", "double", "pairs-with-doubles", "null", "null-lpop", "null-blpop", "set", "config-map", "float-as-bulk"],
)
def test_resp3_types_and_resp2_shapes(conn, command, resp3, resp2):
    for setup in (["HSET", "h", "f", "v"], ["ZADD", "z", "1.5", "m"], ["SADD", "s", "a"]):
        conn.call(*setup)
    conn.call("HELLO", "3")
    assert conn.call(*command).raw == resp3
    if command[0] == "INCRBYFLOAT":
        conn.call("DEL", "missing-f")
    conn.call("HELLO", "2")
    assert conn.call(*command).raw == resp2


def test_zadd_incr_is_a_double_in_resp3(conn):
    conn.call("HELLO", "3")
    assert conn.call("ZADD", "z", "INCR", "2.5", "m").raw == b",2.5\r\n"
    assert conn.call("ZINCRBY", "z", "1", "m").raw == b",3.5\r\n"


def test_resp3_pubsub_pushes(server):
    with Conn(server.host, server.port) as sub, Conn(server.host, server.port) as pub:
        sub.call("HELLO", "3")
        assert sub.call("SUBSCRIBE", "ch").raw == b">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"
        assert sub.call("PSUBSCRIBE", "c*").raw == b">3\r\n$10\r\npsubscribe\r\n$2\r\nc*\r\n:2\r\n"
        # RESP3 lets a subscribed connection run ordinary commands, with ordinary replies
        assert sub.call("PING").raw == b"+PONG\r\n"
        assert sub.call("GET", "missing").raw == b"_\r\n"
        assert pub.call("PUBLISH", "ch", "hello").raw == b":2\r\n"
        assert sub.read().raw == b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhello\r\n"
        assert sub.read().raw == b">4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$5\r\nhello\r\n"
        assert sub.call("UNSUBSCRIBE", "ch").raw == b">3\r\n$11\r\nunsubscribe\r\n$2\r\nch\r\n:1\r\n"
        assert sub.call("PUNSUBSCRIBE").raw == b">3\r\n$12\r\npunsubscribe\r\n$2\r\nc*\r\n:0\r\n"


def test_resp2_subscribed_ping_and_messages(server):
    with Conn(server.host, server.port) as sub, Conn(server.host, server.port) as pub:
        assert sub.call("SUBSCRIBE", "ch").raw == b"*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"
        assert sub.call("PING").raw == b"*2\r\n$4\r\npong\r\n$0\r\n\r\n"
        assert sub.call("GET", "k").raw == (
            b"-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"
        )
        assert pub.call("PUBLISH", "ch", "hi").raw == b":1\r\n"
        assert sub.read().raw == b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"


# ---- blocked clients and disconnects ------------------------------------------------


def _blocked(conn: Conn) -> int:
    info = conn.call("INFO", "clients").value.decode()
    return int(info.split("blocked_clients:")[1].split("\r\n")[0])


def test_disconnected_blocked_client_is_dropped_and_takes_no_data(server):
    """Redis frees a blocked client whose connection closes: a later push must stay in the list."""
    with Conn(server.host, server.port) as other:
        waiter = Conn(server.host, server.port)
        waiter.send("BLPOP", "q", "0")
        wait_until(lambda: _blocked(other) == 1, 5, "the BLPOP client to block")
        waiter.close()
        wait_until(lambda: _blocked(other) == 0, 5, "the server to drop the closed blocked client")
        assert other.call("RPUSH", "q", "v").raw == b":1\r\n"
        assert other.call("LRANGE", "q", "0", "-1").raw == b"*1\r\n$1\r\nv\r\n"
