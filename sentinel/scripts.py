"""notification-script and client-reconfig-script, run as Redis runs them.

A notification script gets `<event type> <event payload>` for every WARNING-level
event of its master; a client-reconfig script gets `<master name> <role> <state>
<from ip> <from port> <to ip> <to port>` when the master's address changes (role
`leader` or `observer`, state `start`). Jobs wait in a queue of at most 256 (the
oldest waiting one is dropped when full) and at most 16 run at once. A script
that exits with 1 or dies by a signal is retried, up to 10 times, after
script-retry-delay (doubling); one running longer than script-max-runtime is
killed. SENTINEL PENDING-SCRIPTS lists the queue.
"""

import signal

import trio

from .events import WARNING

MAX_QUEUE = 256
MAX_RUNNING = 16
MAX_RETRY = 10


class Job:
    def __init__(self, argv):
        self.argv = argv
        self.retry_num = 0
        self.running = False
        self.pid = 0
        self.start_time = 0  # running: when it started; waiting: not before this time


class Scripts:
    def __init__(self, s):
        self.s = s
        self.queue = []

    @property
    def running(self) -> int:
        return sum(1 for job in self.queue if job.running)

    def schedule(self, *argv):
        if len(self.queue) >= MAX_QUEUE:
            waiting = next((job for job in self.queue if not job.running), None)
            if waiting is None:
                return
            self.queue.remove(waiting)
        self.queue.append(Job([str(a) for a in argv]))

    def run_pending(self):
        """Start the jobs that are due, within the running limit (called by the timer)."""
        s = self.s
        if s.nursery is None:
            return
        now = s.now()
        for job in self.queue:
            if self.running >= MAX_RUNNING:
                return
            if not job.running and job.start_time <= now:
                job.running = True
                job.start_time = now
                job.retry_num += 1
                s.nursery.start_soon(self._run, job)

    async def _run(self, job):
        s = self.s
        code, by_signal = 0, 0
        timeout = s.settings.script_max_runtime / 1000.0
        try:
            with trio.move_on_after(timeout) as scope:
                process = await trio.lowlevel.open_process(job.argv)
                job.pid = process.pid
                try:
                    code = await process.wait()
                finally:
                    if process.returncode is None:
                        process.send_signal(signal.SIGKILL)
                        with trio.CancelScope(shield=True):
                            code = await process.wait()
            if scope.cancelled_caught:
                s.event(WARNING, "-script-timeout", None, "%s %d", job.argv[0], job.pid)
        except OSError:
            code = 2  # cannot be run: not retried
        if code < 0:
            by_signal, code = -code, 0
        self._finished(job, code, by_signal)

    def _finished(self, job, code, by_signal):
        s = self.s
        job.running = False
        job.pid = 0
        if (code == 1 or by_signal) and job.retry_num != MAX_RETRY:
            job.start_time = s.now() + s.settings.script_retry_delay * (2 ** (job.retry_num - 1))
            return
        if code != 0 or by_signal:
            s.event(WARNING, "-script-error", None, "%s %d %d", job.argv[0], by_signal, code)
        self.queue.remove(job)

    def pending_reply(self) -> list:
        now = self.s.now()
        out = []
        for job in self.queue:
            fields = {b"argv": [a.encode() for a in job.argv], b"flags": b"running" if job.running else b"scheduled",
                      b"pid": str(job.pid).encode()}
            if job.running:
                fields[b"run-time"] = str(now - job.start_time).encode()
            else:
                fields[b"run-delay"] = str(max(job.start_time - now, 0)).encode()
            fields[b"retry-num"] = str(job.retry_num).encode()
            out.append(fields)
        return out


def on_event(s, level, type_, ri, message):
    """Events.listeners hook: a WARNING event of a master with a notification script runs it."""
    if level != WARNING or ri is None:
        return
    master = ri if ri.master is None else ri.master
    if master.notification_script:
        s.scripts.schedule(master.notification_script, type_, message)


def client_reconfig(s, master, role, from_addr, to_addr):
    """The master's address changes: tell the client-reconfig script."""
    if master.client_reconfig_script:
        s.scripts.schedule(master.client_reconfig_script, master.name, role, "start", from_addr.ip, from_addr.port, to_addr.ip, to_addr.port)
