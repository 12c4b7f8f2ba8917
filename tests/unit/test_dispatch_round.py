"""One dispatcher round (node.dispatch.Dispatcher._serve) with connections that fail: a step
that raises closes that client only, and the round carries on for the others."""

import pytest

from node.dispatch import Dispatcher


class _Client:
    addr = "127.0.0.1:1"
    closing = False


class _Node:
    persistence = None


class _Connection:
    def __init__(self, fails_at=None):
        self.client = _Client()
        self.node = _Node()
        self.fails_at = fails_at
        self.steps = []
        self.handed_back = []

    def _step(self, name):
        self.steps.append(name)
        if self.fails_at == name:
            raise RuntimeError("a bug in " + name)

    def receive_ready(self):
        self._step("receive")
        return b"data"

    def serve_ready(self, data, now):
        self._step("serve")
        return True

    def send_ready(self):
        self._step("send")

    def hand_back(self, resume):
        self.handed_back.append(resume)


class _Log:
    def __init__(self):
        self.lines = []

    def warning(self, text):
        self.lines.append(text)


@pytest.mark.parametrize("fails_at", ["receive", "serve", "send"])
def test_a_failing_step_closes_that_client_only(fails_at):
    log = _Log()
    dispatcher = Dispatcher(log)
    before, failing, after = _Connection(), _Connection(fails_at), _Connection()
    for fd, connection in enumerate((before, failing, after), start=10):
        dispatcher.connections[fd] = connection
    try:
        dispatcher._serve([(10, 1), (11, 1), (12, 1)])
    finally:
        dispatcher.epoll.close()
    assert before.steps == after.steps == ["receive", "serve", "send"]
    assert failing.steps == ["receive", "serve", "send"][: ["receive", "serve", "send"].index(fails_at) + 1]
    assert failing.client.closing and failing.handed_back == [None]
    assert not before.client.closing and not before.handed_back and not after.handed_back
    assert len(log.lines) == 1 and "a bug in " + fails_at in log.lines[0]
