"""A redis-py client living inside a namespace, driven from the test process.

Names like `node2` resolve only inside the namespaces (their /etc/hosts), and a
user's client must resolve what sentinels announce, so the test's client runs
there: `python probe.py` started with Network.spawn reads one JSON request per
line on stdin and answers one JSON line on stdout. Probe (below) is the test's end.

    probe = Probe.start(net, "client")
    probe.call("node1", 7000, "info", "replication")          # any redis.Redis method
    probe.sentinel("app", [("sentinel1", 26379)], "mymaster")  # a redis.sentinel.Sentinel
    probe.master("app", "set", "k", "v")                     # on its master_for() client

A request that fails answers {"error": "ExceptionClass: message"}; Probe raises
ProbeError with it. Every request has a socket timeout (default 2 s) and redis-py's
retries off; the test side gives up reading after a few such timeouts plus a margin.
"""

import itertools
import json
import os
import select
import sys
import time

DEFAULT_TIMEOUT = 2.0
_MARGIN = 5.0
_ATTEMPTS = 5


class ProbeError(Exception):
    """The request reached the probe and failed there (connection refused, timeout, -ERR ...)."""


# ---- the agent, run inside the namespace ----


def _plain(value):
    """redis-py replies made JSON-friendly: bytes decoded, tuples and sets as lists."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    return value


class Agent:
    """Keeps redis-py clients across requests, as a long-running application would."""

    def __init__(self):
        import redis  # imported here so the test side of this module does not need it
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self.redis = redis
        # No silent retries: one request, one attempt, so a timeout means what it says.
        self.no_retry = lambda: Retry(NoBackoff(), 0)
        self.clients = {}
        self.masters = {}

    def handle(self, request: dict):
        op, timeout = request["op"], request.get("timeout", DEFAULT_TIMEOUT)
        if op == "call":
            client = self._client(request["host"], request["port"], timeout)
            return getattr(client, request["method"])(*request["args"])
        if op == "sentinel":
            sentinels = [tuple(pair) for pair in request["sentinels"]]
            kwargs = {"socket_timeout": timeout, "socket_connect_timeout": timeout, "retry": self.no_retry()}
            sentinel = self.redis.sentinel.Sentinel(sentinels, sentinel_kwargs=dict(kwargs), **kwargs)
            self.masters[request["name"]] = sentinel.master_for(request["service"])
            return "OK"
        if op == "master":
            return getattr(self.masters[request["name"]], request["method"])(*request["args"])
        raise ValueError("unknown op %r" % op)

    def _client(self, host, port, timeout):
        key = (host, port, timeout)
        if key not in self.clients:
            self.clients[key] = self.redis.Redis(host=host, port=port, socket_timeout=timeout, socket_connect_timeout=timeout, retry=self.no_retry())
        return self.clients[key]

    def serve(self, stdin, stdout):
        for line in stdin:
            request = json.loads(line)
            try:
                answer = {"id": request["id"], "ok": _plain(self.handle(request))}
            except Exception as exc:  # every failure is an answer: the test decides what it means
                answer = {"id": request["id"], "error": "%s: %s" % (type(exc).__name__, exc)}
            stdout.write(json.dumps(answer) + "\n")
            stdout.flush()


# ---- the test's end ----


class Probe:
    """Talks to an Agent started in a host's namespace; see the module docstring."""

    def __init__(self, popen, host):
        self.popen, self.host = popen, host
        self._buffer = b""
        self._ids = itertools.count(1)

    @classmethod
    def start(cls, net, host: str) -> "Probe":
        """Start the agent in the host's namespace; Network teardown kills it with the rest."""
        process = net.spawn(host, [sys.executable, "-u", os.path.abspath(__file__)], log_name="probe", pipes=True)
        return cls(process.popen, host)

    def request(self, timeout: float = DEFAULT_TIMEOUT, **request):
        request.update(timeout=timeout, id=next(self._ids))
        self.popen.stdin.write((json.dumps(request) + "\n").encode())
        self.popen.stdin.flush()
        # A Sentinel client may ask each sentinel, then connect and read: each up to `timeout`.
        end = time.monotonic() + timeout * _ATTEMPTS + _MARGIN
        answer = {}
        while answer.get("id") != request["id"]:  # late answers to abandoned requests are dropped
            answer = json.loads(self._read_line(end - time.monotonic()))
        if "error" in answer:
            raise ProbeError(answer["error"])
        return answer["ok"]

    def _read_line(self, deadline: float) -> bytes:
        end = time.monotonic() + deadline
        fd = self.popen.stdout.fileno()
        while b"\n" not in self._buffer:
            left = end - time.monotonic()
            if left <= 0 or self.popen.poll() is not None:
                raise ProbeError("probe in %s gave no answer (exit status %s)" % (self.host, self.popen.poll()))
            if select.select([fd], [], [], left)[0]:
                self._buffer += os.read(fd, 65536)
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line

    def call(self, host: str, port: int, method: str, *args, timeout: float = DEFAULT_TIMEOUT):
        """getattr(redis.Redis(host, port), method)(*args), from inside the namespace."""
        return self.request(timeout, op="call", host=host, port=port, method=method, args=list(args))

    def sentinel(self, name: str, sentinels, service: str, timeout: float = DEFAULT_TIMEOUT):
        """Create a redis.sentinel.Sentinel and keep its master_for(service) client as `name`."""
        return self.request(timeout, op="sentinel", name=name, sentinels=[list(s) for s in sentinels], service=service)

    def master(self, name: str, method: str, *args, timeout: float = DEFAULT_TIMEOUT):
        """getattr(master_for client `name`, method)(*args): the client follows failovers itself."""
        return self.request(timeout, op="master", name=name, method=method, args=list(args))

    def ok(self, *args, **kwargs):
        """call(), but a ProbeError is None: for polling until a condition holds."""
        try:
            return self.call(*args, **kwargs)
        except ProbeError:
            return None


if __name__ == "__main__":
    Agent().serve(sys.stdin, sys.stdout)
