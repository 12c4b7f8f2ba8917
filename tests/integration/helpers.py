"""Small socket and polling helpers shared by the integration tests."""

import os
import socket
import time

# The server kind the suite runs against; TRIOKV_TEST_TARGET=redis checks the tests on real Redis.
TARGET_KIND = os.environ.get("TRIOKV_TEST_TARGET", "triokv")


def raw_connect(server, timeout: float = 10.0, rcvbuf: int = 0) -> socket.socket:
    """A plain TCP connection to the server (optionally with a small receive buffer)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(timeout)
    sock.connect((server.host, server.port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def read_exactly(sock: socket.socket, expected_len: int, deadline: float = 10.0) -> bytes:
    """Read until `expected_len` bytes arrived, the peer closed, or the deadline passed."""
    end = time.monotonic() + deadline
    data = b""
    while len(data) < expected_len:
        left = end - time.monotonic()
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            chunk = sock.recv(1 << 20)
        except socket.timeout:
            break
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data


def blocked_clients(client) -> int:
    """How many clients the server counts as blocked (INFO clients)."""
    return int(client.info("clients")["blocked_clients"])
