"""Full resynchronization, master side: one snapshot at a time, shared by every replica
waiting when it starts, while the node keeps serving.

Where the snapshot comes from (a Source):
  * PipeSource, `repl-diskless-sync yes` (and replicas that can read an
    EOF-marked payload): a forked child writes the RDB into a pipe; the
    payload goes out as it is produced, framed `$EOF:<40 bytes>\\r\\n` ...
    `<the same 40 bytes>`.
  * DiskSource, otherwise: a BGSAVE writes dump.rdb (as Redis does), which is
    then sent as `$<size>\\r\\n<bytes>`.
  * MemorySource, a node without persistence (simulations, unit harness): the
    snapshot is written in-process, at once, and sent sized.

The fork is the point in time: each replica is told `+FULLRESYNC <replid>
<offset>` with the offset at that moment, and from then on the stream is held
for it (Replica.pending) and released after the payload, so writes made
meanwhile reach it afterwards, in order. A diskless replica gets the stream
only after its first REPLCONF ACK: it finds the end of the payload by its last
40 bytes, so nothing may follow them until it says it is done.
"""

import os
import time
import traceback

import trio

from node.persistence import rdb
from node.persistence.files import write_all

from .state import SEND_BULK, WAIT_BGSAVE_END, WAIT_BGSAVE_START

CHUNK = 1 << 20


class _Child:
    """A forked snapshot child's outcome: its exit status, or failure when it disappears
    without one (killed by FLUSHALL, SHUTDOWN, a sync of our own: nothing reports then)."""

    def __init__(self, snapshots):
        self.snapshots = snapshots
        self.pid = None
        self.ok = None
        self.done = trio.Event()

    def started(self):
        self.pid = self.snapshots.child_pid

    def exited(self, ok):
        self.ok = ok
        self.done.set()

    async def outcome(self) -> bool:
        while not self.done.is_set():
            with trio.move_on_after(0.1):
                await self.done.wait()
            if not self.done.is_set() and self.snapshots.child_pid != self.pid:
                return False
        return bool(self.ok)


class PipeSource:
    eof_marked = True

    def __init__(self, node):
        self.node = node
        self.fd = None
        self.child = _Child(node.persistence.snapshots)

    def start(self) -> str:
        node = self.node
        snapshots = node.persistence.snapshots
        read_end, write_end = os.pipe()

        def work():
            os.close(read_end)
            rdb.write_snapshot(node.keyspace, lambda data: write_all(write_end, data), snapshots.aux_fields(), limits=snapshots.limits())
            os.close(write_end)

        error = snapshots.fork_child("repl", work, self.child.exited)
        os.close(write_end)
        if error:
            os.close(read_end)
            return error
        self.child.started()
        os.set_blocking(read_end, False)
        self.fd = read_end
        return ""

    async def chunks(self):
        fd = self.fd
        while True:
            try:
                data = os.read(fd, CHUNK)
            except BlockingIOError:
                await trio.lowlevel.wait_readable(fd)
                continue
            if not data:
                return
            yield data

    async def finished(self) -> bool:
        return await self.child.outcome()

    def abort(self):
        snapshots = self.node.persistence.snapshots
        if self.child.ok is None and snapshots.child_pid == self.child.pid:
            snapshots.kill_child()
        self.close()

    def close(self):
        if self.fd is not None:
            trio.lowlevel.notify_closing(self.fd)
            os.close(self.fd)
            self.fd = None


class DiskSource:
    eof_marked = False

    def __init__(self, node):
        self.node = node
        self.child = _Child(node.persistence.snapshots)
        self.file = None
        self.size = 0

    def start(self) -> str:
        snapshots = self.node.persistence.snapshots
        self.path = snapshots.path
        error = snapshots.bgsave(self.child.exited)
        if not error:
            self.child.started()
        return error

    async def finished(self) -> bool:
        ok = await self.child.outcome()
        if ok:
            # Opened now: a later save may replace the file, this one stays readable.
            try:
                self.file = open(self.path, "rb")
                self.size = os.fstat(self.file.fileno()).st_size
            except OSError as e:
                self.node.replication._log("SYNC failed. Can't open/stat DB after BGSAVE: %s" % e.strerror, warning=True)
                return False
        return ok

    async def chunks(self):
        while True:
            data = self.file.read(CHUNK)
            if not data:
                return
            yield data

    def abort(self):
        self.close()

    def close(self):
        if self.file is not None:
            self.file.close()
            self.file = None


class MemorySource:
    """The snapshot written in-process: without persistence (simulations), or a snapshot
    without data for replicas that filtered it out (REPLCONF rdb-filter-only)."""

    eof_marked = False

    def __init__(self, node, with_data=True):
        self.node = node
        self.with_data = with_data
        self.data = b""

    def start(self) -> str:
        node = self.node
        aux = {"redis-ver": "7.0.15", "redis-bits": "64", "ctime": str(int(time.time())), "used-mem": str(node.keyspace.memory()), "aof-base": "0"}
        aux.update(node.replication.rdb_aux())
        parts = []
        rdb.write_snapshot(node.keyspace if self.with_data else _NO_DATA, parts.append, aux)
        self.data = b"".join(parts)
        self.size = len(self.data)
        return ""

    async def finished(self) -> bool:
        return True

    async def chunks(self):
        data = self.data
        for i in range(0, len(data), CHUNK):
            yield data[i : i + CHUNK]
            await trio.lowlevel.checkpoint()

    def abort(self):
        self.data = b""

    def close(self):
        self.data = b""


class _NoData:
    """A keyspace with nothing in it, for snapshots without data."""

    dbs = ()

    @staticmethod
    def clock():
        return 0


_NO_DATA = _NoData()


class Job:
    """One snapshot in the making and the replicas it is for."""

    def __init__(self, source, targets, offset):
        self.source = source
        self.targets = targets
        self.offset = offset
        self.sending = False  # the payload is going out: too late to join


class FullSync:
    def __init__(self, master):
        self.master = master
        self.state = master.state
        self.node = master.node
        self.job = None

    # ---- starting ----------------------------------------------------------

    def request(self, r):
        """A replica needs a full resync: join the snapshot in progress when it can, start
        one now, or leave it waiting (diskless: a few seconds for others to arrive)."""
        job = self.job
        if job is not None and not job.source.eof_marked and not job.sending and job.targets and r.rdb_filtered == job.targets[0].rdb_filtered:
            self._join(job, r)
            return
        if job is not None:
            self._log("Current BGSAVE has socket target. Waiting for next BGSAVE for SYNC" if job.source.eof_marked else "Can't attach the replica to the current BGSAVE. Waiting for next BGSAVE for SYNC")
            return
        config = self.node.config
        if config["repl-diskless-sync"] and r.capa_eof and config["repl-diskless-sync-delay"]:
            self._log("Delay next BGSAVE for diskless SYNC")
            return
        self.start()

    def _join(self, job, r):
        """A disk snapshot in progress is good for this replica too: it gets what the
        stream held for another replica of the same snapshot."""
        self.master.flush()
        sibling = next(t for t in job.targets if not t.gone)
        r.pending = list(sibling.pending)
        r.pending_bytes = sibling.pending_bytes
        self.master.setup_full_resync(r, job.offset)
        job.targets.append(r)
        self._log("Waiting for end of BGSAVE for SYNC")

    def cron(self):
        """Start the snapshot for waiting replicas once the diskless delay is over."""
        if self.job is not None:
            return
        waiting = [r for r in self.state.replicas if r.state == WAIT_BGSAVE_START]
        if not waiting:
            return
        config = self.node.config
        if config["repl-diskless-sync"]:
            now = self.state.now()
            idle = max(now - r.wait_since for r in waiting)
            if idle < config["repl-diskless-sync-delay"]:
                return
        self.start()

    def start(self):
        waiting = [r for r in self.state.replicas if r.state == WAIT_BGSAVE_START]
        if not waiting or self.job is not None:
            return
        self.master.flush()  # what was written so far is in the snapshot, not in what is held
        # Replicas share a snapshot only when they want the same one (Redis's slave_req).
        waiting = [r for r in waiting if r.rdb_filtered == waiting[0].rdb_filtered]
        source = self._source(waiting)
        if source is None:
            return
        self._log("Starting BGSAVE for SYNC with target: %s" % ("replicas sockets" if source.eof_marked else "disk"))
        offset = self.state.master_repl_offset
        error = source.start()
        if error:
            self._fail_waiting(waiting, error)
            return
        for r in waiting:
            self.master.setup_full_resync(r, offset)
        self.job = Job(source, waiting, offset)
        self.master.spawn(self._run, self.job)

    def _source(self, waiting):
        """Where this snapshot comes from; None while another child runs (retried by the cron)."""
        node = self.node
        if waiting[0].rdb_filtered:
            return MemorySource(node, with_data=False)
        if node.persistence is None:
            return MemorySource(node)
        if node.persistence.snapshots.child_pid is not None:
            self._log("No BGSAVE in progress, but another BG operation is active. BGSAVE for replication delayed")
            return None
        if node.config["repl-diskless-sync"] and all(r.capa_eof for r in waiting):
            return PipeSource(node)
        return DiskSource(node)

    def _fail_waiting(self, waiting, error):
        self._log("BGSAVE for replication failed", warning=True)
        for r in waiting:
            self.master.drop(r, b"-ERR BGSAVE failed, replication can't continue\r\n")

    # ---- sending -------------------------------------------------------------

    async def _run(self, job):
        try:
            if job.source.eof_marked:
                await self._send_marked(job)
            else:
                await self._send_sized(job)
        except Exception:  # noqa: BLE001  a failed transfer drops its replicas, never the node
            self._log("Snapshot transfer failed:\n%s" % traceback.format_exc(), warning=True)
            job.source.abort()
            for r in self._live(job):
                self.master.drop(r)
        finally:
            job.source.close()
            if self.job is job:
                self.job = None

    async def _send_marked(self, job):
        mark = os.urandom(20).hex().encode()
        job.sending = True
        await self._send(job, b"$EOF:" + mark + b"\r\n")
        async for chunk in job.source.chunks():
            if not self._live(job):
                self._log("Diskless rdb transfer, last replica dropped, killing fork child.", warning=True)
                job.source.abort()
                return
            await self._send(job, chunk)
        if not await job.source.finished():
            self._failed(job)
            return
        self._log("Diskless rdb transfer, done reading from pipe, %d replicas still up." % len(self._live(job)), warning=True)
        for r in self._live(job):
            r.start_on_ack = True  # its first ACK (maybe before the mark is flushed) starts the stream
        await self._send(job, mark)
        for r in self._live(job):
            self._log("Streamed RDB transfer with replica %s succeeded (socket). Waiting for REPLCONF ACK from slave to enable streaming" % r.name)
            self.master.put_online(r)

    async def _send_sized(self, job):
        if not await job.source.finished():
            self._failed(job)
            return
        job.sending = True
        for r in self._live(job):
            r.state = SEND_BULK
        await self._send(job, b"$%d\r\n" % job.source.size)
        async for chunk in job.source.chunks():
            if not self._live(job):
                return
            await self._send(job, chunk)
        for r in self._live(job):
            self.master.put_online(r)
            self.master.start_stream(r)

    def _failed(self, job):
        self._log("SYNC failed. BGSAVE child returned an error", warning=True)
        for r in self._live(job):
            self.master.drop(r)

    def _live(self, job):
        return [r for r in job.targets if not r.gone]

    async def _send(self, job, data):
        """Queue data for every replica of the job, then wait until each has taken it
        (the pace of the slowest; one that stalls past repl-timeout is dropped)."""
        live = self._live(job)
        for r in live:
            r.out.append(data)
            if r.client.wake is not None:
                r.client.wake()
        timeout = self.node.config["repl-timeout"]
        for r in live:
            wait = getattr(r.client, "wait_flushed", None)
            if wait is None or r.gone:
                continue
            with trio.move_on_after(timeout) as scope:
                await wait()
            if scope.cancelled_caught:
                self._log("Disconnecting timedout replica (full sync): %s" % r.name, warning=True)
                self.master.drop(r)

    def presync_keepalive(self, r) -> bool:
        """Redis sends a newline each second to replicas waiting for their snapshot,
        except while a diskless payload streams to them."""
        if r.state == WAIT_BGSAVE_START:
            return True
        job = self.job
        return r.state == WAIT_BGSAVE_END and job is not None and not job.source.eof_marked and not job.sending

    def _log(self, text, warning=False):
        self.state._log(text, warning)

