"""Kill -9 at random moments, and damaged files: what was acknowledged survives, bad files are refused.

A writer appends increasing integers to a list, one command at a time,
recording every acknowledged reply; the node gets SIGKILL at a random moment
(sometimes in the middle of an AOF rewrite), is restarted on the same files,
and every acknowledged write must be there. Damaged dumps and logs (bytes
flipped, files cut at random offsets) must be refused with exit status 1 and a
message naming the file and offset, never a traceback, and left as they were.
"""

import os
import random
import re
import shutil
import socket
import threading
import time


from node.persistence import aof as aof_mod
from node.persistence import rdb
from tests.persistence.conftest import info, refuses_to_start, snapshot_files, wait_for
from tests.persistence.test_snapshots import write_big_dump
from tests.persistence.workload import fill_mixed

AOF_INCR = os.path.join("appendonlydir", "appendonly.aof.1.incr.aof")


class Writer:
    """RPUSH 0, 1, 2... one at a time on a raw socket; `acked` counts the +replies received."""

    def __init__(self, node):
        self.sock = socket.create_connection((node.host, node.port), timeout=10)
        self.acked = 0
        self.sent = 0

    def run(self, stop_at):
        buf = b""
        try:
            while time.monotonic() < stop_at:
                value = b"%d" % self.sent
                self.sock.sendall(b"*3\r\n$5\r\nRPUSH\r\n$4\r\nlist\r\n$%d\r\n%s\r\n" % (len(value), value))
                self.sent += 1
                while b"\r\n" not in buf:
                    chunk = self.sock.recv(4096)
                    if not chunk:
                        return
                    buf += chunk
                line, buf = buf.split(b"\r\n", 1)
                assert line == b":%d" % (self.acked + 1), line
                self.acked += 1
        except OSError:
            return  # the node was killed under us
        finally:
            self.sock.close()


def _kill_while_writing(node, rnd, rewrite=False):
    """Write until a random moment, SIGKILL the node meanwhile; returns the writer."""
    writer = Writer(node)
    delay = rnd.uniform(0.15, 0.6)
    if rewrite:
        threading.Timer(delay * rnd.random(), lambda: _send(node, b"BGREWRITEAOF\r\n")).start()
    killer = threading.Timer(delay, node.kill9)
    killer.start()
    writer.run(time.monotonic() + delay + 5)
    killer.join()
    return writer


def _send(node, payload):
    try:
        with socket.create_connection((node.host, node.port), timeout=5) as sock:
            sock.sendall(payload)
            sock.recv(100)
    except OSError:
        pass


def _check_list(client, writer):
    items = client.lrange(b"list", 0, -1)
    assert items == [b"%d" % i for i in range(len(items))], "the list is not 0, 1, 2... in order"
    assert writer.acked <= len(items) <= writer.sent, (writer.acked, len(items), writer.sent)
    return len(items)


def test_appendfsync_always_loses_no_acknowledged_write(tmp_path, spawn):
    rnd = random.Random(11)
    args = ("--appendonly", "yes", "--appendfsync", "always")
    acked = 0
    for round_ in range(10):
        node = spawn("triokv", tmp_path, *args).wait_loaded()
        assert node.client().delete(b"list") in (0, 1)  # each round writes a list from 0
        # Every third round, a BGREWRITEAOF runs too: the kill may land in the manifest swap.
        writer = _kill_while_writing(node, rnd, rewrite=round_ % 3 == 1)
        node = spawn("triokv", tmp_path, *args).wait_loaded(60)
        _check_list(node.client(), writer)
        assert "Traceback" not in node.log_text()
        acked += writer.acked
    assert acked > 100


def test_appendfsync_everysec_loses_at_most_about_a_second(tmp_path, spawn):
    rnd = random.Random(12)
    for _ in range(3):
        node = spawn("triokv", tmp_path, "--appendonly", "yes", "--appendfsync", "everysec").wait_loaded()
        node.client().delete(b"list")
        start = time.monotonic()
        writer = _kill_while_writing(node, rnd)
        rate = writer.acked / max(time.monotonic() - start, 1e-3)
        client = spawn("triokv", tmp_path, "--appendonly", "yes").wait_loaded(60).client()
        items = client.lrange(b"list", 0, -1)
        assert items == [b"%d" % i for i in range(len(items))]
        assert len(items) <= writer.sent
        lost = writer.acked - len(items)
        assert lost <= rate * 1.5 + 10, "lost %d writes at %.0f writes/s" % (lost, rate)


def test_a_snapshot_is_never_half_written(tmp_path, spawn):
    """SIGKILL during BGSAVE (the node, or its child): dump.rdb is the old file or the whole new one."""
    rnd = random.Random(13)
    node = spawn("triokv", tmp_path)
    client = node.client()
    client.set(b"generation", b"0")
    client.save()
    last_saved = 0
    for generation in range(1, 6):
        client.execute_command("DEBUG", "POPULATE", 100_000, b"gen%d" % generation)
        client.set(b"generation", b"%d" % generation)
        assert client.bgsave()
        pid = int(re.findall(r"Background saving started by pid (\d+)", node.log_text())[-1])
        victim = "child" if generation % 2 else "node"
        time.sleep(rnd.uniform(0.0, 0.15))
        if victim == "child":
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass  # it had finished: the new file is whole
            wait_for(lambda: info(client)["rdb_bgsave_in_progress"] == 0, what="the parent to notice")
            assert not (tmp_path / ("temp-%d.rdb" % pid)).exists()  # the parent removed what the child left
        else:
            node.kill9()
        with open(tmp_path / "dump.rdb", "rb") as f:
            saved = int(dict((k, v) for k, v, _ in rdb.read_snapshot(f.read()).databases[0])[b"generation"])
        assert saved in (last_saved, generation)
        last_saved = saved
        if victim == "node":
            node = spawn("triokv", tmp_path).wait_loaded(60)
            client = node.client()
            assert client.get(b"generation") == b"%d" % saved


def _structural_offsets(data):
    """Offsets of the '*', '$', CR and LF bytes of an AOF's RESP framing (the values written
    by the test below hold none of these, so every such byte is framing). A flipped value
    byte cannot be seen by anyone (the AOF has no checksum, in Redis either)."""
    return [i for _argv, begin, end in aof_mod.parse_commands(data) for i in range(begin, end) if data[i] in b"*$\r\n"]


def test_damaged_dumps_are_refused_untouched(tmp_path, spawn):
    node = spawn("triokv", tmp_path / "src")
    client = node.client()
    fill_mixed(client)
    client.save()
    node.stop()
    with open(tmp_path / "src" / "dump.rdb", "rb") as f:
        good = f.read()
    rnd = random.Random(14)
    cases = [("flip", rnd.randrange(9, len(good))) for _ in range(4)] + [("cut", rnd.randrange(1, len(good) - 1)) for _ in range(4)]
    for i, (how, at) in enumerate(cases):
        workdir = tmp_path / ("case%d" % i)
        workdir.mkdir()
        damaged = bytearray(good)
        if how == "flip":
            damaged[at] ^= 1 << rnd.randrange(8)
        else:
            del damaged[at:]
        (workdir / "dump.rdb").write_bytes(bytes(damaged))
        log = refuses_to_start("triokv", workdir, spawn=spawn)
        assert "Bad RDB file %s" % (workdir / "dump.rdb") in log and "offset" in log, log
        assert "Traceback" not in log
        assert (workdir / "dump.rdb").read_bytes() == bytes(damaged)


def test_damaged_aof_is_refused_untouched(tmp_path, spawn):
    node = spawn("triokv", tmp_path / "src", "--appendonly", "yes")
    client = node.client()
    for i in range(200):
        client.rpush(b"l", i)
        client.set(b"k%d" % i, b"v" * (i % 30))
    node.stop()
    with open(tmp_path / "src" / AOF_INCR, "rb") as f:
        good = f.read()
    rnd = random.Random(15)
    structural = _structural_offsets(good)
    cases = [("flip", rnd.choice(structural)) for _ in range(4)] + [("cut", rnd.randrange(1, len(good) - 1)) for _ in range(4)]
    for i, (how, at) in enumerate(cases):
        workdir = tmp_path / ("case%d" % i)
        shutil.copytree(tmp_path / "src" / "appendonlydir", workdir / "appendonlydir")
        damaged = bytearray(good)
        if how == "flip":
            damaged[at] = ord("X")
        else:
            del damaged[at:]
        (workdir / AOF_INCR).write_bytes(bytes(damaged))
        before = snapshot_files(workdir)
        log = refuses_to_start("triokv", workdir, "--appendonly", "yes", "--aof-load-truncated", "no", spawn=spawn)
        assert "appendonly.aof.1.incr.aof" in log and "offset" in log, log
        assert "Traceback" not in log
        assert snapshot_files(workdir) == before


def test_sigterm_while_loading_exits_without_saving(tmp_path, spawn):
    write_big_dump(tmp_path / "dump.rdb", 1_500_000)
    original = (tmp_path / "dump.rdb").read_bytes()
    node = spawn("triokv", tmp_path, "--save", "3600 1", wait=False)
    wait_for(lambda: "Server initialized" in node.log_text(), what="the node to start loading")
    time.sleep(0.2)
    started = time.monotonic()
    assert node.terminate() == 0
    assert time.monotonic() - started < 5
    assert (tmp_path / "dump.rdb").read_bytes() == original
