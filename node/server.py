"""trio networking: listeners, the per-connection loop, and the periodic server tasks.

The connection loop is the hot path: read whatever bytes arrived, parse every
complete request, run them all (each atomically, no awaits in between), then
send every reply with one write. While a socket connection waits for its
client, the shared dispatcher (node.dispatch) does that round trip for it
without waking its task; the task takes over whatever must wait.
`serve_stream` takes any trio stream, so a whole node can run on in-memory
streams under MockClock in tests.
"""

import math
import signal
import socket
import time
import traceback

import trio

from . import dispatch
from .core import Node
from .info import sample_metrics
from .persistence.manager import StartupError
from .protocol import RequestReader

_READ_SIZE = 64 * 1024
_MAX_STREAK = 4  # reads without a wait before a connection yields to the others


class Server:
    def __init__(self, node: Node, log):
        self.node = node
        self.log = log
        self.nursery = None
        self.listeners = []
        self.ports = []
        self.background = []  # async callables started with the server (replication, ...)
        if node.replication is not None and node.replication.run is not None:
            self.background.append(node.replication.run)
        self.stopping = False
        self.exit_code = 0
        self.dispatcher = None  # serves idle socket connections (node.dispatch), once listening

    # ---- listening ---------------------------------------------------

    async def listen(self, task_status=trio.TASK_STATUS_IGNORED):
        """Open the listeners, start the periodic tasks and serve until SHUTDOWN or a signal."""
        config = self.node.config
        # Opened before the nursery so that a taken port raises a plain OSError.
        for host in config["bind"]:
            self.listeners.append(_open_listener(host.lstrip("-"), config["port"], config["tcp-backlog"]))
        async with trio.open_nursery() as nursery:
            self.nursery = nursery
            self.ports = sorted({l.getsockname()[1] for l in self.listeners})
            for listener in self.listeners:
                nursery.start_soon(self._accept_loop, listener)
            if dispatch.available():
                self.dispatcher = dispatch.Dispatcher(self.log)
                nursery.start_soon(self.dispatcher.run)
            nursery.start_soon(self._cron)
            nursery.start_soon(self._signals)
            for task in self.background:
                nursery.start_soon(task)
            if self.node.persistence is not None:
                if not await self._load_data():
                    self.exit_code = 1
                    nursery.cancel_scope.cancel()
                    return
                nursery.start_soon(self._fsync_everysec)
            if self.node.replication is not None:
                self.node.replication.on_started()
            self.log.notice("Ready to accept connections")
            task_status.started(self.ports)

    async def _load_data(self) -> bool:
        """Load the dataset while already listening: clients get -LOADING meanwhile, as in Redis."""
        node = self.node
        node.loading = True
        try:
            # Abandoned on cancel: a SIGTERM while loading exits without waiting for the load.
            await trio.to_thread.run_sync(node.persistence.load_at_startup, abandon_on_cancel=True)
        except StartupError as e:
            self.log.warning("Fatal error loading the DB: %s. Exiting." % e)
            return False
        finally:
            node.loading = False
        return True

    async def _fsync_everysec(self):
        """appendfsync everysec: fsync the AOF once a second off the event loop."""
        persistence = self.node.persistence
        while True:
            await trio.sleep(1)
            fd = persistence.fsync_fd()  # a duplicate: a rewrite may close the file meanwhile
            if fd is not None:
                await trio.to_thread.run_sync(persistence.fsync_everysec, fd)

    async def _accept_loop(self, listener):
        while True:
            try:
                await trio.lowlevel.wait_readable(listener)
            except trio.ClosedResourceError:
                return  # the listener was closed for shutdown
            try:
                sock, _ = listener.accept()
            except BlockingIOError:
                continue
            except OSError as e:
                self.log.warning("Accepting client connection: %s" % e)
                await trio.sleep(0.01)
                continue
            self.nursery.start_soon(self._serve_socket, sock)

    async def _serve_socket(self, sock):
        try:
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            peer, local = sock.getpeername(), sock.getsockname()
        except OSError:
            sock.close()
            return
        if self.node.config["tcp-keepalive"]:
            _set_keepalive(sock, self.node.config["tcp-keepalive"])
        addr = "%s:%d" % (peer[0], peer[1])
        laddr = "%s:%d" % (local[0], local[1])
        await self._serve(_SocketIO(sock), addr, laddr, sock.fileno())

    async def serve_stream(self, stream, addr="", laddr="", fd=-1):
        """Serve one client over any trio stream (in-memory streams in simulations)."""
        await self._serve(_StreamIO(stream), addr, laddr, fd)

    async def _serve(self, io, addr, laddr, fd):
        node = self.node
        try:
            if len(node.clients) >= node.config["maxclients"]:
                node.stats["rejected_connections"] += 1
                await io.send(b"-ERR max number of clients reached\r\n")
                return
            client = node.new_client(addr, laddr, fd)
            dispatcher = self.dispatcher if io.__class__ is _SocketIO else None
            try:
                await _Connection(self, client, io, dispatcher).run()
            finally:
                node.remove_client(client)
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            pass
        except Exception:  # noqa: BLE001  one client's failure must never take the server down
            self.log.warning("Closing client %s after an internal error:\n%s" % (addr, traceback.format_exc()))
        finally:
            await io.close()

    # ---- periodic work -----------------------------------------------

    async def _cron(self):
        """Redis's serverCron: active expiry, clocks, client timeouts, at `hz` times a second."""
        node = self.node
        while True:
            await trio.sleep(1.0 / max(node.config["hz"], 1))
            node.keyspace.tick()
            node.keyspace.active_expire_cycle()
            node.stats["expired_keys"] = node.keyspace.expired_keys
            if node.persistence is not None:
                node.persistence.cron()
            sample_metrics(node)
            if node.shutdown_requested is not None:
                await self.shutdown()
            self._close_idle_clients()

    def _close_idle_clients(self):
        limit = self.node.config["timeout"]
        if not limit:
            return
        now = time.time()
        for client in list(self.node.clients.values()):
            if client.kind == "normal" and client.blocked is None and now - client.last_interaction > limit:
                self.log.verbose("Closing idle client")
                if client.kill is not None:
                    client.kill()

    async def _signals(self):
        with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
            async for signum in signals:
                name = "SIGTERM" if signum == signal.SIGTERM else "SIGINT"
                self.log.warning("Received %s scheduling shutdown..." % name)
                self.node.shutdown_requested = "signal"
                await self.shutdown()

    async def shutdown(self):
        """Stop serving and exit. A signal saves first (SHUTDOWN already did, in the command)."""
        node = self.node
        if self.stopping:
            return
        if node.shutdown_requested == "signal" and node.persistence is not None:
            if not node.persistence.shutdown(""):
                self.log.warning("SIGTERM received but errors trying to shut down the server, check the logs for more information")
                node.shutdown_requested = None
                return
        self.stopping = True
        self.log.warning("User requested shutdown...")
        for hook in getattr(node, "shutdown_hooks", []):
            result = hook()
            if hasattr(result, "__await__"):
                await result
        for listener in self.listeners:
            trio.lowlevel.notify_closing(listener)
            listener.close()
        self.log.warning("Redis is now ready to exit, bye bye...")
        self.nursery.cancel_scope.cancel()


class _Connection:
    """The read-run-write loop for one client."""

    def __init__(self, server, client, io, dispatcher=None):
        self.server = server
        self.node = server.node
        self.client = client
        self.io = io
        self.dispatcher = dispatcher  # serves this connection while it waits for its client
        self.handed_back = None  # trio.Event the task waits on while the dispatcher serves it
        self.resume = None  # what the dispatcher left to do when it handed the connection back
        self.sending = False
        self.push_event = trio.Event()
        self.flushed = None  # trio.Event for wait_flushed callers, set when the output drains
        self.early_input = []  # bytes received while blocked, run after the wait
        config = self.node.config
        self.reader = RequestReader(config["proto-max-bulk-len"], config["client-query-buffer-limit"])

    async def run(self):
        client = self.client
        async with trio.open_nursery() as nursery:
            client.kill = nursery.cancel_scope.cancel
            client.wake = self._wake
            client.wait_flushed = self._wait_flushed
            nursery.start_soon(self._push_loop)
            try:
                await self._read_loop()
            finally:
                nursery.cancel_scope.cancel()
                client.closing = True
                self._signal_flushed()

    def _wake(self):
        self.push_event.set()

    async def _wait_flushed(self):
        """Until everything queued for this client is written (replication paces a snapshot
        transfer by it), or the connection is gone."""
        client = self.client
        while (client.out or self.sending) and not client.closing:
            if self.flushed is None:
                self.flushed = trio.Event()
            await self.flushed.wait()

    def _signal_flushed(self):
        if self.flushed is not None:
            self.flushed.set()
            self.flushed = None

    async def _push_loop(self):
        """Send what other clients queued for this one (pub/sub messages, MONITOR lines)."""
        while True:
            await self.push_event.wait()
            if self.client.kind == "replica":
                # Let the clients already runnable write first: the replication stream then
                # leaves in one send per round of the event loop, as Redis's beforeSleep does.
                await trio.lowlevel.cancel_shielded_checkpoint()
            self.push_event = trio.Event()
            await self._flush()

    async def _flush(self):
        client = self.client
        if self.sending or client.sync_marks:
            # Sending now, or holding replies for the replicas' ACKs: the connection task
            # sends once that is settled (replication.synchronous).
            return
        self.sending = True
        try:
            while client.out:
                data = self._take_output()
                self.node.stats["total_net_output_bytes"] += len(data)
                await self.io.send(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            client.closing = True
            client.out.clear()
        finally:
            self.sending = False
            self._signal_flushed()

    def _take_output(self) -> bytes:
        """Everything queued for the client, as one buffer; the queue is left empty."""
        client = self.client
        out = client.out
        data = b"".join(out) if len(out) > 1 else out[0]
        out.clear()
        client.out_bytes = 0
        return data

    async def _read_loop(self):
        client = self.client
        while not client.closing:
            if self.early_input:
                data = self.early_input.pop(0)
            elif self._can_delegate():
                if not await self._delegate():
                    return
                continue
            else:
                data = await self._receive()
            if not data:
                return
            requests, failure = self._parse(data, time.time())
            await self._process(requests, failure)

    def _parse(self, data, now):
        """Account for bytes received and parse them: (requests, protocol failure or None)."""
        client = self.client
        self.node.stats["total_net_input_bytes"] += len(data)
        client.last_interaction = now
        client.query_buf = len(data)
        self.reader.authenticated = client.authenticated
        return self.reader.feed(data)

    async def _process(self, requests, failure):
        """Run a batch of requests, then send the replies (the task's half of a round trip)."""
        node, client, reader = self.node, self.client, self.reader
        await self._run_batch(requests)
        while reader.backlog and not client.closing and failure is None:
            # Requests held back while the client was unauthenticated: limits may have changed.
            reader.authenticated = client.authenticated
            requests, failure = reader.feed(b"")
            if not requests:
                break
            await self._run_batch(requests)
        if failure is not None and not client.closing:
            self._protocol_failure(failure)
        if client.sync_marks:
            await node.replication.synchronous.settle(client)
        if client.out:
            if node.persistence is not None:
                node.persistence.before_reply()
            await self._flush()
        if node.shutdown_requested is not None:
            await self.server.shutdown()

    # ---- served by the dispatcher while idle (node.dispatch) ------------

    def _can_delegate(self) -> bool:
        client = self.client
        return (
            self.dispatcher is not None
            and client.blocked is None
            and not client.sync_marks
            and not self.reader.backlog
            and (client.kind == "normal" or client.kind == "pubsub")
        )

    async def _delegate(self) -> bool:
        """Let the dispatcher serve this connection until it hands it back; False at EOF."""
        self.handed_back = trio.Event()
        self.resume = None
        self.dispatcher.add(self.io.fd, self)
        try:
            await self.handed_back.wait()
        finally:
            self.dispatcher.remove(self.io.fd)  # also when cancelled (CLIENT KILL, shutdown)
        if self.resume is None:
            return False
        rest, failure = self.resume
        self.resume = None
        client = self.client
        if client.blocked is not None or client.blocked_reply is not None:
            await self._wait_unblocked()  # perhaps served already, by a command run since
        if client.closing:
            rest = []
        await self._process(rest, failure)
        return True

    def hand_back(self, resume):
        """Dispatcher: the task takes over with resume = (requests left, protocol failure),
        or None when the client has gone."""
        self.dispatcher.remove(self.io.fd)
        self.resume = resume
        self.handed_back.set()

    def receive_ready(self):
        """Dispatcher, first pass: what the client sent, or None (nothing, or handed back)."""
        if self.client.closing:
            self.hand_back(None)
            return None
        data = self.io.recv_now()
        if data is not None and not data:
            self.hand_back(None)
            return None
        return data

    def serve_ready(self, data, now) -> bool:
        """Dispatcher, second pass: run the requests in data; True when replies are
        waiting for the third pass (send_ready)."""
        client, node = self.client, self.node
        if client.closing:  # killed by a client served earlier in this round
            self.hand_back(None)
            return False
        requests, failure = self._parse(data, now)
        left = node.run_ready(client, requests, now)
        if left is not None:
            self.hand_back((requests[left:], failure))
            return False
        if failure is not None or self.reader.backlog or node.shutdown_requested is not None:
            self.hand_back(([], failure))
            return False
        return bool(client.out) and not self.sending

    def send_ready(self):
        """Dispatcher, third pass: send the replies, or leave what does not fit to the task."""
        if self.client.closing:
            # Killed by a command that ran after its own (CLIENT KILL, output limits): its
            # replies are dropped with it, as Redis frees such a client before beforeSleep.
            self.hand_back(None)
        elif not self._send_now():
            self.hand_back(([], None))

    def _send_now(self) -> bool:
        """Send client.out without waiting; False if part of it is left for the task."""
        client = self.client
        data = self._take_output()
        sent = self.io.send_now(data)
        if sent is None:
            client.closing = True
            return False
        self.node.stats["total_net_output_bytes"] += sent
        if sent < len(data):
            client.out.append(data[sent:])
            client.out_bytes = len(data) - sent
            return False
        return True

    async def _run_batch(self, requests):
        node, client = self.node, self.client
        execute = node.execute
        for argv in requests:
            if node.pause_until:
                await self._paused(argv)
            if client.kind == "replica":
                _run_for_replica(node, client, argv)
            else:
                execute(client, argv)
            if client.blocked is not None:
                await self._wait_unblocked()
            if client.closing:
                break

    def _protocol_failure(self, failure):
        client = self.client
        if failure.text is None:
            self.server.log.warning("Closing client that reached max query buffer length: id=%d addr=%s" % (client.id, client.addr))
        else:
            self.server.log.verbose("Protocol error (%s) from client: id=%d addr=%s" % (failure.text, client.id, client.addr))
            client.out.append(b"-ERR " + failure.text.encode("latin-1", "replace") + b"\r\n")
        client.closing = True

    async def _receive(self):
        limit = self.node.config["timeout"]
        try:
            if not limit or self.client.kind != "normal":
                return await self.io.recv()
            with trio.move_on_after(limit):
                return await self.io.recv()
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            return b""
        return b""

    async def _wait_unblocked(self):
        """A blocking command found nothing: send what is pending, wait for data or timeout.

        Meanwhile the socket is still watched, as Redis does: a client that
        disconnects stops waiting (and can no longer be served a popped element);
        anything it sends is kept for after the wait."""
        client = self.client
        done = trio.Event()
        # Set before any await: another client may serve this one while the output drains
        # (or, for a connection the dispatcher handed back, before this task even ran).
        client.unblock = done.set
        timeout = client.blocked.timeout if client.blocked is not None else 0
        if client.sync_marks:
            await self.node.replication.synchronous.settle(client)
        if client.out:
            if self.node.persistence is not None:
                self.node.persistence.before_reply()
            await self._flush()
        if client.blocked is not None and not done.is_set():
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._watch_while_blocked, done)
                with trio.move_on_after(timeout if timeout > 0 else math.inf):
                    await done.wait()
                nursery.cancel_scope.cancel()
        client.unblock = None
        if client.blocked_reply is not None:
            client.out.append(client.blocked_reply)
            client.blocked_reply = None
        elif client.closing:
            self.node.cancel_block(client)
        elif client.blocked is not None:
            client.out.append(self.node.timeout_block(client))

    async def _watch_while_blocked(self, done):
        while True:
            data = await self._receive()
            if not data:
                self.client.closing = True
                self.node.cancel_block(self.client)
                done.set()
                return
            self.early_input.append(data)

    async def _paused(self, argv):
        """CLIENT PAUSE: hold this client's commands (or only its writes) until the pause ends."""
        node = self.node
        cmd = node.table.lookup(argv[0])
        # EXEC of a transaction holding writes is a write (a manual failover relies on it).
        writes = cmd is not None and (cmd.is_write or cmd.name in ("eval", "evalsha", "publish", "pfcount") or (cmd.name == "exec" and any(q.is_write for q, _ in self.client.multi or ())))
        while node.pause_until > time.time():
            if node.pause_writes_only and not writes:
                return
            await trio.sleep(min(0.01, max(node.pause_until - time.time(), 0)))


def _run_for_replica(node, client, argv):
    """A replica's connection carries the replication stream: what its own commands
    (REPLCONF ACK) would reply must not be mixed into it, so it is dropped."""
    stream = client.out
    client.out = []
    try:
        node.execute(client, argv)
    finally:
        client.out = stream


def _set_keepalive(sock, seconds):
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        if hasattr(socket, "TCP_KEEPIDLE"):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, seconds)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, max(seconds // 3, 1))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)
    except OSError:
        pass


def _open_listener(host, port, backlog):
    """A non-blocking listening socket; "*" means every IPv4 address, "::*" every IPv6 one."""
    if host in ("*", "0.0.0.0"):
        family, host = socket.AF_INET, "0.0.0.0"
    elif host in ("::*", "::"):
        family, host = socket.AF_INET6, "::"
    else:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((host, port))
        sock.listen(backlog)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


class _SocketIO:
    """Bytes in and out of a plain non-blocking socket, with trio's readiness waits.

    The hot path: try the syscall first and wait only when it would block.
    trio's SocketStream yields to the scheduler after every successful call;
    here a connection yields when it must wait for its client, and after a
    few reads in a row that did not have to wait, so that a flooding client
    cannot starve the others.
    """

    __slots__ = ("sock", "fd", "_recv", "_send", "_streak", "_drained")

    def __init__(self, sock):
        self.sock = sock
        self.fd = sock.fileno()
        self._recv = sock.recv
        self._send = sock.send
        self._streak = 0
        self._drained = False  # the last read emptied the socket

    async def recv(self) -> bytes:
        if self._drained:
            # A request/reply client (redis-benchmark, redis-py) sends nothing more until it
            # has our replies: a read now would only say EAGAIN, one syscall per round trip.
            self._streak = 0
            await trio.lowlevel.wait_readable(self.sock)
        elif self._streak >= _MAX_STREAK:
            self._streak = 0
            await trio.lowlevel.checkpoint()
        while True:
            data = self.recv_now()
            if data is not None:
                self._streak += 1
                return data
            self._streak = 0
            await trio.lowlevel.wait_readable(self.sock)

    def recv_now(self):
        """What a read gets without waiting: bytes, b"" at EOF or error, None if nothing yet."""
        try:
            data = self._recv(_READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return None
        except OSError:
            return b""
        self._drained = len(data) < _READ_SIZE
        return data

    def send_now(self, data):
        """Bytes written without waiting (maybe 0), None if the connection broke."""
        try:
            return self._send(data)
        except (BlockingIOError, InterruptedError):
            return 0
        except OSError:
            return None

    async def send(self, data: bytes):
        sent = self.send_now(data)
        if sent is None:
            raise trio.BrokenResourceError("the connection broke while sending")
        if sent < len(data):
            await self._send_rest(memoryview(data)[sent:])

    async def _send_rest(self, view):
        while view:
            await trio.lowlevel.wait_writable(self.sock)
            sent = self.send_now(view)
            if sent is None:
                raise trio.BrokenResourceError("the connection broke while sending")
            view = view[sent:]

    async def close(self):
        trio.lowlevel.notify_closing(self.sock)
        self.sock.close()


class _StreamIO:
    """The same interface over any trio stream (memory streams in simulations)."""

    __slots__ = ("stream",)

    def __init__(self, stream):
        self.stream = stream

    async def recv(self) -> bytes:
        return await self.stream.receive_some(_READ_SIZE)

    async def send(self, data: bytes):
        await self.stream.send_all(data)

    async def close(self):
        with trio.CancelScope(shield=True):
            await self.stream.aclose()
