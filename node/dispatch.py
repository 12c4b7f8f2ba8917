"""One epoll set, watched by one trio task, for every connection waiting for its client.

A request/reply client (redis-benchmark, redis-py) leaves its connection idle
between round trips. With one trio task per connection, each round trip costs
a trio readiness wait: two epoll_ctl calls (trio arms each wait once) and a task
switch, more than the command itself. Here the idle connections sit in our own
level-triggered epoll set; trio watches only that set's descriptor, and one
wake-up serves every connection that became readable, synchronously, in three
passes as Redis's event loop does: read them all, run their commands (plain data
commands on Node.run_ready's fast path), then write all the replies (Redis's
beforeSleep).

A connection whose work needs to wait (a blocking command, a full socket
buffer, CLIENT PAUSE, synchronous replication, closing) is handed back to its
own task with what is left to do; the task returns it here once idle again.
"""

import select
import time
import traceback

import trio

_MAX_EVENTS = 256  # connections served per wake-up before other tasks run


def available() -> bool:
    return hasattr(select, "epoll")


class Dispatcher:
    def __init__(self, log):
        self.log = log
        self.epoll = select.epoll()
        self.connections = {}  # fd -> the connection object (see node.server._Connection)

    def add(self, fd, connection):
        self.epoll.register(fd, select.EPOLLIN)
        self.connections[fd] = connection

    def remove(self, fd):
        if self.connections.pop(fd, None) is not None:
            try:
                self.epoll.unregister(fd)
            except (OSError, ValueError):
                pass  # already closed: the kernel dropped it from the set

    async def run(self):
        try:
            while True:
                await trio.lowlevel.wait_readable(self.epoll)
                events = self.epoll.poll(0, _MAX_EVENTS)
                if events:
                    self._serve(events)
        finally:
            self.epoll.close()

    def _serve(self, events):
        """Serve a round in three passes, as Redis's event loop does: every read, then every
        command, then every write (Redis's beforeSleep). The kernel's socket work then
        does not evict the interpreter's caches between one client's commands and the next.
        (The steps' guards are written out: a call per step and client costs more than
        the try, which is free until something raises.)"""
        connections = self.connections
        received = []
        for fd, _ in events:
            connection = connections.get(fd)
            if connection is not None:
                try:
                    data = connection.receive_ready()
                except Exception:  # noqa: BLE001  one client's failure must never take the server down
                    self._failed(connection)
                    continue
                if data:
                    received.append((fd, connection, data))
        now = time.time()
        replying = []
        for fd, connection, data in received:
            if connections.get(fd) is connection:
                try:
                    if connection.serve_ready(data, now):
                        replying.append((fd, connection))
                except Exception:  # noqa: BLE001
                    self._failed(connection)
        if replying:
            persistence = replying[0][1].node.persistence
            if persistence is not None:
                persistence.before_reply()  # the AOF reaches the file before any reply leaves
            for fd, connection in replying:
                if connections.get(fd) is connection:
                    try:
                        connection.send_ready()
                    except Exception:  # noqa: BLE001
                        self._failed(connection)

    def _failed(self, connection):
        self.log.warning("Closing client %s after an internal error:\n%s" % (connection.client.addr, traceback.format_exc()))
        connection.client.closing = True
        connection.hand_back(None)
