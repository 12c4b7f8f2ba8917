"""Start and stop servers for the benchmarks: real redis-server and triokv-node, side by side.

Each server gets a free port, its own temporary directory, and is pinned to a
CPU with taskset when one is given. Processes are stopped by pid.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import redis

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def triokv_command(port, workdir):
    exe = shutil.which("triokv-node") or os.path.join(os.path.dirname(sys.executable), "triokv-node")
    return [exe, "--port", str(port), "--dir", workdir, "--save", "", "--appendonly", "no"]


def redis_command(port, workdir):
    return ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--dir", workdir, "--save", "", "--appendonly", "no", "--daemonize", "no"]


class Proc:
    def __init__(self, name, make_argv, cpu=None, extra=()):
        self.name = name
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="triokv-bench-%s-" % name)
        argv = make_argv(self.port, self.dir) + list(extra)
        if cpu is not None and shutil.which("taskset"):
            argv = ["taskset", "-c", str(cpu)] + argv
        self.log = open(os.path.join(self.dir, "server.log"), "wb")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        self.client = redis.Redis(port=self.port, protocol=2)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()  # a server that never answered is not left running
            raise

    def _wait_ready(self, timeout=20.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited early, see %s" % (self.name, self.log.name))
            try:
                if self.client.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("%s did not answer PING in %.0fs" % (self.name, timeout))

    def rss_bytes(self) -> int:
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.client.close()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def start_pair(cpu=0):
    """(redis, triokv) servers, both pinned to the same CPU."""
    redis_srv = Proc("redis", redis_command, cpu)
    try:
        return redis_srv, Proc("triokv", triokv_command, cpu)
    except BaseException:
        redis_srv.stop()
        raise
