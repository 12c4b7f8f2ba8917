"""Round trips that leave the shared dispatcher (node.dispatch) for the connection's own task.

Idle connections are served by one dispatcher; a command that must wait hands
its connection back to its task. These cases make that hand-back happen at
awkward moments. Every expectation here also holds for real Redis
(TRIOKV_TEST_TARGET=redis).
"""

import socket
import threading
import time

from tests.integration.helpers import raw_connect, read_exactly
from tests.resp_wire import encode_command


def _send(sock, *commands):
    sock.sendall(b"".join(encode_command(c) for c in commands))


def _during_sleep(server, seconds, action):
    """Run action while the server sleeps in DEBUG SLEEP: what it sends is served in one round."""
    sleeper = raw_connect(server)
    try:
        _send(sleeper, ["DEBUG", "SLEEP", str(seconds)])
        time.sleep(seconds / 4)
        action()
        assert read_exactly(sleeper, 5) == b"+OK\r\n"
    finally:
        sleeper.close()


def test_blocked_client_served_in_the_round_it_blocked(make_server):
    server = make_server("--enable-debug-command", "yes")
    waiter, pusher = raw_connect(server), raw_connect(server)
    try:

        def both():
            _send(waiter, ["BLPOP", "q", "0"])
            time.sleep(0.02)
            _send(pusher, ["RPUSH", "q", "x"])

        _during_sleep(server, 0.4, both)
        assert read_exactly(pusher, 4) == b":1\r\n"
        assert read_exactly(waiter, 20) == b"*2\r\n$1\r\nq\r\n$1\r\nx\r\n"
        # The connection carries on normally afterwards, blocking again included.
        _send(waiter, ["BRPOP", "q", "0.2"])
        assert read_exactly(waiter, 5, deadline=5) == b"*-1\r\n"
        _send(waiter, ["PING"])
        assert read_exactly(waiter, 7) == b"+PONG\r\n"
    finally:
        waiter.close()
        pusher.close()


def test_replies_larger_than_the_socket_buffer_arrive_whole(server):
    """A reply that does not fit the kernel's buffers is finished by the connection's task
    while other clients keep being served."""
    value = b"v" * (4 << 20)
    reader = raw_connect(server, rcvbuf=4096)
    other = raw_connect(server)
    try:
        _send(reader, ["SET", "big", value], ["GET", "big"], ["GET", "big"], ["PING"])
        time.sleep(0.2)  # the server is stuck on a full socket now; others are not
        _send(other, ["PING"])
        assert read_exactly(other, 7) == b"+PONG\r\n"
        expected = b"+OK\r\n" + (b"$%d\r\n%s\r\n" % (len(value), value)) * 2 + b"+PONG\r\n"
        assert read_exactly(reader, len(expected), deadline=20) == expected
    finally:
        reader.close()
        other.close()


def test_pipeline_with_quit_stops_at_quit(server):
    sock = raw_connect(server)
    try:
        _send(sock, ["SET", "k", "1"], ["QUIT"], ["SET", "k", "2"])
        assert read_exactly(sock, 10) == b"+OK\r\n+OK\r\n"
        assert sock.recv(100) == b""  # closed after QUIT's reply
    finally:
        sock.close()
    check = raw_connect(server)
    try:
        _send(check, ["GET", "k"])
        assert read_exactly(check, 7) == b"$1\r\n1\r\n"
    finally:
        check.close()


def test_client_killed_while_idle_is_closed(server):
    victim, killer = raw_connect(server), raw_connect(server)
    try:
        _send(victim, ["CLIENT", "ID"])
        reply = read_exactly(victim, 4)
        victim_id = reply[1:].split(b"\r")[0]
        _send(killer, ["CLIENT", "KILL", "ID", victim_id.decode()])
        assert read_exactly(killer, 4) == b":1\r\n"
        victim.settimeout(5)
        assert victim.recv(100) == b""
    finally:
        victim.close()
        killer.close()


def test_client_killed_in_the_round_it_sent_gets_no_reply(make_server):
    """Replies leave after every command of the round has run (Redis's beforeSleep): a
    client killed by another in the same round gets none, whichever was read first."""
    server = make_server("--enable-debug-command", "yes")
    victim, killer = raw_connect(server), raw_connect(server)
    try:
        _send(victim, ["CLIENT", "ID"])
        victim_id = read_exactly(victim, 4)[1:].split(b"\r")[0].decode()

        def both():
            _send(victim, ["PING"])
            _send(killer, ["CLIENT", "KILL", "ID", victim_id])

        _during_sleep(server, 0.4, both)
        assert read_exactly(killer, 4) == b":1\r\n"
        assert read_exactly(victim, 7, deadline=5) == b""
    finally:
        victim.close()
        killer.close()


def test_many_clients_pipelining_at_once_all_get_their_replies(server):
    """Many connections become readable in the same round; each gets exactly its replies."""
    socks = [raw_connect(server) for _ in range(40)]
    errors = []

    def run(i, sock):
        try:
            commands = [["INCR", "c%d" % i] for _ in range(50)]
            _send(sock, *commands)
            expected = b"".join(b":%d\r\n" % n for n in range(1, 51))
            got = read_exactly(sock, len(expected))
            if got != expected:
                errors.append((i, got[:60]))
        except (OSError, socket.timeout) as e:
            errors.append((i, e))

    threads = [threading.Thread(target=run, args=(i, s)) for i, s in enumerate(socks)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert errors == []
    finally:
        for s in socks:
            s.close()
