"""Unit tests drive the command layer directly: no sockets, no trio."""

import hiredis
import pytest

from node.config import Config
from node.core import Node


class Harness:
    """One node and one client; `run` executes a command and decodes its reply."""

    def __init__(self, **directives):
        config = Config()
        for name, value in directives.items():
            config.set(name.replace("_", "-"), value, startup=True)
        self.clock = [1_700_000_000_000]
        self.node = Node(config, clock=lambda: self.clock[0])
        self.client = self.node.new_client("127.0.0.1:5000")

    def raw(self, *args, client=None):
        """Execute and return the raw reply bytes."""
        c = client or self.client
        argv = [a if isinstance(a, bytes) else str(a).encode() for a in args]
        self.node.execute(c, argv)
        data = b"".join(c.out)
        c.out.clear()
        return data

    def run(self, *args, client=None):
        """Execute and return the decoded reply (errors come back as hiredis.ReplyError)."""
        data = self.raw(*args, client=client)
        reader = hiredis.Reader()
        reader.feed(data)
        reply = reader.gets()
        return reply

    def new_client(self):
        return self.node.new_client("127.0.0.1:5001")

    def advance(self, ms):
        self.clock[0] += ms


@pytest.fixture
def h():
    return Harness()


def err(reply) -> str:
    """The text of an error reply (hiredis hands errors back as ReplyError values)."""
    assert isinstance(reply, hiredis.ReplyError), reply
    return str(reply)


@pytest.fixture
def feed(h):
    """The commands the node propagates (replication/AOF form), as they are emitted."""
    log = []
    h.node.propagate_listeners.append(lambda dbnum, argv: log.append(argv))
    return log
