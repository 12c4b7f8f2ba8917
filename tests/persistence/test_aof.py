"""The append-only file: Redis 7's multi-part layout, fsync policies, rewrites, replay, damage.

Live nodes for the behaviour, real redis-server both ways for the format, and
one in-process node (trio memory streams) to see that under appendfsync always
the fsync happens before the reply leaves.
"""

import os
import shutil

import pytest
import trio
import trio.testing

from node.config import load as load_config
from node.core import Node
from node.log import Log
from node.persistence import aof as aof_mod
from node.persistence.manager import Persistence
from node.server import Server
from tests.persistence.conftest import info, now_ms, refuses_to_start, snapshot_files, wait_for
from tests.persistence.workload import contents, digest, fill_mixed, fill_strings


def aof_dir(workdir):
    return os.path.join(str(workdir), "appendonlydir")


def manifest(workdir) -> str:
    with open(os.path.join(aof_dir(workdir), "appendonly.aof.manifest")) as f:
        return f.read()


def incr_commands(workdir, name="appendonly.aof.1.incr.aof"):
    with open(os.path.join(aof_dir(workdir), name), "rb") as f:
        return [argv for argv, _, _ in aof_mod.parse_commands(f.read())]


def test_every_write_is_logged_in_deterministic_form(tmp_path, spawn):
    node = spawn("triokv", tmp_path, "--appendonly", "yes")
    client = node.client()
    assert manifest(tmp_path) == "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
    assert info(client)["aof_enabled"] == 1
    before = now_ms()
    client.set(b"a", b"1", ex=100)
    client.expire(b"a", 200)
    client.get(b"a")  # reads are not logged
    client.sadd(b"s", b"x")
    client.spop(b"s")  # a random pick is logged as what it removed
    client.execute_command("SELECT", 2)
    client.incr(b"c")
    pipe = client.pipeline(transaction=True)
    pipe.incr(b"x")
    pipe.incr(b"y")
    pipe.execute()
    client.execute_command("SELECT", 0)
    client.set(b"soon", b"v", px=50)
    wait_for(lambda: client.get(b"soon") is None, what="the key to expire")
    log = incr_commands(tmp_path)
    names = [argv[0].upper() for argv in log]
    assert names == [b"SELECT", b"SET", b"PEXPIREAT", b"SADD", b"SREM", b"SELECT", b"INCRBY", b"MULTI", b"INCRBY", b"INCRBY", b"EXEC", b"SELECT", b"SET", b"DEL"]
    assert log[1][:4] == [b"SET", b"a", b"1", b"PXAT"] and before + 100_000 <= int(log[1][4]) <= now_ms() + 100_000
    assert log[2][:2] == [b"PEXPIREAT", b"a"] and int(log[2][2]) >= before + 200_000
    assert log[4] == [b"SREM", b"s", b"x"] and log[5] == [b"SELECT", b"2"]
    assert log[-1] == [b"DEL", b"soon"]  # expiry is logged too


def _in_process_node(tmp_path, policy):
    config = load_config(None, ["--dir", str(tmp_path), "--appendonly", "yes", "--appendfsync", policy, "--save", ""])
    node = Node(config, log=Log("warning", str(tmp_path / "node.log")))
    persistence = Persistence(node, node.log)
    persistence.load_at_startup()
    return node, persistence


@pytest.mark.parametrize("policy", ["always", "everysec", "no"])
async def test_fsync_policies_and_the_reply_order(tmp_path, monkeypatch, policy):
    """always: the reply leaves only after fsync; everysec: the worker fsyncs a duplicate fd; no: never."""
    node, persistence = _in_process_node(tmp_path, policy)
    events = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd))[1])
    server = Server(node, node.log)
    client_side, server_side = trio.testing.memory_stream_pair()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(server.serve_stream, server_side)
        await client_side.send_all(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n")
        reply = await client_side.receive_some(100)
        events.append("reply")
        assert reply == b"+OK\r\n"
        nursery.cancel_scope.cancel()
    with open(os.path.join(aof_dir(tmp_path), "appendonly.aof.1.incr.aof"), "rb") as f:
        assert f.read().endswith(b"$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n")  # written before the reply, whatever the policy
    if policy == "always":
        assert events == ["fsync", "reply"]
        assert persistence.fsync_fd() is None
    else:
        assert events == ["reply"]
        fd = persistence.fsync_fd()
        if policy == "no":
            assert fd is None
        else:
            assert fd is not None and fd != persistence.aof.incr_fd
            persistence.fsync_everysec(fd)
            assert events == ["reply", "fsync"] and persistence.fsync_fd() is None  # nothing new to sync
    persistence.shutdown("nosave")


def test_bgrewriteaof_while_serving_then_restart(tmp_path, spawn):
    node = spawn("triokv", tmp_path, "--appendonly", "yes")
    client = node.client()
    fill_strings(client, 1000, prefix=b"logged")  # in the first incr file
    client.execute_command("DEBUG", "POPULATE", 200_000)  # not logged (Redis's rule), but in the new base
    client.rpush(b"list", *range(100))
    assert client.bgrewriteaof()
    during = 0
    while info(client)["aof_rewrite_in_progress"]:
        client.rpush(b"list", b"during:%d" % during)
        client.set(b"during:%d" % during, b"x")
        during += 1
    assert during > 0, "the rewrite ended before anything was written meanwhile"
    client.rpush(b"list", b"after")
    fields = info(client)
    assert fields["aof_rewrites"] == 1 and fields["aof_last_bgrewrite_status"] == "ok"
    assert manifest(tmp_path) == "file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n"
    assert sorted(os.listdir(aof_dir(tmp_path))) == ["appendonly.aof.2.base.rdb", "appendonly.aof.2.incr.aof", "appendonly.aof.manifest"]
    expected = digest(client), client.dbsize(), client.lrange(b"list", 0, -1)
    node.kill9()
    again = spawn("triokv", tmp_path, "--appendonly", "yes").wait_loaded().client()
    assert (digest(again), again.dbsize(), again.lrange(b"list", 0, -1)) == expected
    assert len(expected[2]) == 100 + during + 1 and expected[1] == 1000 + 200_000 + 1 + during


def test_truncated_last_command_is_cut_with_a_warning(tmp_path, spawn):
    node = spawn("triokv", tmp_path, "--appendonly", "yes")
    client = node.client()
    for i in range(50):
        client.rpush(b"l", i)
    node.kill9()
    incr = os.path.join(aof_dir(tmp_path), "appendonly.aof.1.incr.aof")
    good_size = os.path.getsize(incr)
    with open(incr, "ab") as f:
        f.write(b"*3\r\n$5\r\nRPUSH\r\n$1\r\nl\r\n$3\r\n99")  # the crash cut the last write short
    damaged = snapshot_files(tmp_path)
    log = refuses_to_start("triokv", tmp_path, "--appendonly", "yes", "--aof-load-truncated", "no", spawn=spawn)
    assert "appendonly.aof.1.incr.aof" in log and "offset %d" % good_size in log
    assert snapshot_files(tmp_path) == damaged  # refused: nothing touched
    node = spawn("triokv", tmp_path, "--appendonly", "yes").wait_loaded()
    assert node.client().lrange(b"l", 0, -1) == [b"%d" % i for i in range(50)]
    assert "Truncating the AOF %s at offset %d" % (incr, good_size) in node.log_text()
    assert os.path.getsize(incr) == good_size


def test_a_transaction_cut_before_exec_is_dropped(tmp_path, spawn):
    node = spawn("triokv", tmp_path, "--appendonly", "yes")
    node.client().set(b"k", b"1")
    node.kill9()
    with open(os.path.join(aof_dir(tmp_path), "appendonly.aof.1.incr.aof"), "ab") as f:
        f.write(b"*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n2\r\n")
    node = spawn("triokv", tmp_path, "--appendonly", "yes").wait_loaded()
    assert node.client().get(b"k") == b"1"


@pytest.mark.parametrize("damage", ["incr-middle", "base", "manifest", "missing-incr", "unknown-command"])
def test_corruption_stops_the_start_and_changes_nothing(tmp_path, spawn, damage):
    node = spawn("triokv", tmp_path, "--appendonly", "yes")
    client = node.client()
    fill_strings(client, 100)
    client.bgrewriteaof()
    wait_for(lambda: info(client)["aof_rewrites"] == 1, what="the rewrite")
    fill_strings(client, 100, prefix=b"more")
    node.kill9()
    directory = aof_dir(tmp_path)
    incr = os.path.join(directory, "appendonly.aof.2.incr.aof")
    if damage == "incr-middle":
        with open(incr, "r+b") as f:
            f.seek(os.path.getsize(incr) // 2)
            chunk = f.read(64)
            at = os.path.getsize(incr) // 2 + chunk.index(b"*")
            f.seek(at)
            f.write(b"?")
        expected = ["appendonly.aof.2.incr.aof", "offset %d" % at]
    elif damage == "base":
        base = os.path.join(directory, "appendonly.aof.2.base.rdb")
        with open(base, "r+b") as f:
            f.seek(30)
            byte = f.read(1)
            f.seek(30)
            f.write(bytes([byte[0] ^ 0xFF]))
        expected = ["appendonly.aof.2.base.rdb", "offset"]
    elif damage == "manifest":
        with open(os.path.join(directory, "appendonly.aof.manifest"), "a") as f:
            f.write("garbage line\n")
        expected = ["appendonly.aof.manifest", "line 3"]
    elif damage == "missing-incr":
        os.remove(incr)
        expected = ["appendonly.aof.2.incr.aof", "doesn't exist"]
    else:
        with open(incr, "ab") as f:
            f.write(b"*2\r\n$7\r\nNOTACMD\r\n$1\r\nx\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n")
        expected = ["Unknown command 'NOTACMD'", "appendonly.aof.2.incr.aof"]
    before = snapshot_files(tmp_path)
    log = refuses_to_start("triokv", tmp_path, "--appendonly", "yes", spawn=spawn)
    for text in expected:
        assert text in log, log
    assert "Traceback" not in log
    assert snapshot_files(tmp_path) == before


def test_config_set_appendonly_at_run_time(tmp_path, spawn):
    node = spawn("triokv", tmp_path)
    client = node.client()
    fill_mixed(client)
    client.rpush(b"counted", b"a", b"b")
    assert client.config_set("appendonly", "yes")
    wait_for(lambda: info(client)["aof_enabled"] == 1 and not info(client)["aof_rewrite_in_progress"], what="the first AOF base")
    client.rpush(b"counted", b"c")
    # Off and on again: a new base, never the old log replayed over it.
    client.config_set("appendonly", "no")
    client.rpush(b"counted", b"d")
    client.config_set("appendonly", "yes")
    wait_for(lambda: info(client)["aof_enabled"] == 1 and not info(client)["aof_rewrite_in_progress"], what="the second AOF base")
    client.rpush(b"counted", b"e")
    expected = contents(client), digest(client)
    assert manifest(tmp_path) == "file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n"
    node.kill9()
    again = spawn("triokv", tmp_path, "--appendonly", "yes").wait_loaded().client()
    assert (contents(again), digest(again)) == expected
    assert again.lrange(b"counted", 0, -1) == [b"a", b"b", b"c", b"d", b"e"]


def test_bgrewriteaof_with_the_aof_off_writes_a_base_as_redis_does(tmp_path, spawn):
    node = spawn("triokv", tmp_path)
    client = node.client()
    client.set(b"k", b"v")
    assert client.bgrewriteaof()
    wait_for(lambda: info(client)["aof_rewrites"] == 1, what="the rewrite")
    assert manifest(tmp_path) == "file appendonly.aof.1.base.rdb seq 1 type b\n"
    assert info(client)["aof_enabled"] == 0


def _fill_aof(client):
    fill_mixed(client)
    client.bgrewriteaof()
    wait_for(lambda: not info(client)["aof_rewrite_in_progress"] and info(client)["aof_rewrites"] >= 1, what="the rewrite")
    client.incr(b"after-rewrite")
    client.hset(b"hash:listpack", b"new", b"field")
    client.execute_command("SELECT", 3)
    client.rpush(b"list:small", b"appended")
    client.set(b"ttl:new", b"x", ex=1000)


def test_redis_loads_our_aof_directory(tmp_path, spawn):
    ours = spawn("triokv", tmp_path / "t", "--appendonly", "yes").client()
    _fill_aof(ours)
    expected = contents(ours), digest(ours)
    shutil.copytree(aof_dir(tmp_path / "t"), aof_dir(tmp_path / "r"))
    theirs = spawn("redis", tmp_path / "r", "--appendonly", "yes").wait_loaded().client()
    assert (contents(theirs), digest(theirs)) == expected


@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_we_load_redis_aof_directory(tmp_path, spawn, preamble):
    theirs = spawn("redis", tmp_path / "r", "--appendonly", "yes", "--aof-use-rdb-preamble", preamble).client()
    _fill_aof(theirs)
    expected = contents(theirs), digest(theirs)
    files = os.listdir(aof_dir(tmp_path / "r"))
    assert ("appendonly.aof.2.base.rdb" if preamble == "yes" else "appendonly.aof.2.base.aof") in files
    shutil.copytree(aof_dir(tmp_path / "r"), aof_dir(tmp_path / "t"))
    ours = spawn("triokv", tmp_path / "t", "--appendonly", "yes").wait_loaded().client()
    assert (contents(ours), digest(ours)) == expected
    ours.set(b"k", b"v")  # and it goes on logging after Redis's files
    assert incr_commands(tmp_path / "t", "appendonly.aof.2.incr.aof")[-1] == [b"SET", b"k", b"v"]


def test_the_log_is_rewritten_once_it_has_grown_enough(tmp_path, spawn):
    node = spawn("triokv", tmp_path, "--appendonly", "yes", "--auto-aof-rewrite-min-size", "64kb", "--auto-aof-rewrite-percentage", "100")
    client = node.client()
    client.set(b"small", b"x")
    assert info(client)["aof_rewrites"] == 0
    for i in range(100):
        client.set(b"k", b"v" * 1000)  # the log grows, the data does not
    wait_for(lambda: info(client)["aof_rewrites"] == 1, what="an automatic rewrite")
    assert "Starting automatic rewriting of AOF on" in node.log_text()
    wait_for(lambda: not info(client)["aof_rewrite_in_progress"], what="the rewrite to end")
    assert info(client)["aof_current_size"] < 16_000
