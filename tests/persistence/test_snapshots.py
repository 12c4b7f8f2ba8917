"""RDB snapshots on a live node: SAVE, BGSAVE, save points, shutdown, DEBUG RELOAD, INFO, loading."""

import os
import socket
import time

import pytest
import redis as redis_py

from node.keyspace import Keyspace
from node.persistence import rdb
from tests.persistence.conftest import info, wait_for
from tests.persistence.workload import contents, digest, fill_mixed


def read_dump(path) -> dict:
    """(db, key) -> value of every key in a dump file, read in-process."""
    with open(path, "rb") as f:
        snapshot = rdb.read_snapshot(f.read())
    return {(db, key): value for db, entries in snapshot.databases.items() for key, value, _ in entries}


def test_save_lastsave_and_restart(tmp_path, spawn):
    node = spawn("triokv", tmp_path)
    client = node.client()
    fill_mixed(client)
    before = contents(client), digest(client)
    first = client.lastsave()
    assert info(client)["rdb_changes_since_last_save"] > 0
    time.sleep(1.05)  # LASTSAVE has one-second resolution
    assert client.save()
    assert client.lastsave() > first
    fields = info(client)
    assert fields["rdb_changes_since_last_save"] == 0
    assert fields["rdb_last_bgsave_status"] == "ok" and fields["rdb_saves"] == 1
    assert fields["rdb_last_save_time"] == int(client.lastsave().timestamp())
    assert not [n for n in os.listdir(tmp_path) if n.startswith("temp-")]
    node.stop()
    again = spawn("triokv", tmp_path).wait_loaded().client()
    assert (contents(again), digest(again)) == before
    fields = info(again)
    assert fields["rdb_last_load_keys_loaded"] == len(before[0]) and fields["loading"] == 0


def test_bgsave_serves_meanwhile_and_is_a_point_in_time_image(tmp_path, spawn):
    node = spawn("triokv", tmp_path)
    client = node.client()
    client.execute_command("DEBUG", "POPULATE", 300000)
    client.set(b"changed", b"before")
    client.set(b"deleted", b"before")
    assert client.bgsave() is True
    # Every write below comes after the fork: none of it may be in the dump.
    served_during = 0
    i = 0
    while True:
        in_progress = info(client)["rdb_bgsave_in_progress"]
        client.set(b"after:%d" % i, b"x")
        client.set(b"changed", b"after")
        client.delete(b"deleted")
        assert client.get(b"key:%d" % i) == b"value:%d" % i
        i += 1
        if not in_progress:
            break
        served_during += 1
    assert served_during > 0, "the BGSAVE finished before a single command ran: no proof of serving meanwhile"
    assert "Background saving terminated with success" in node.log_text()
    dumped = read_dump(tmp_path / "dump.rdb")
    assert len(dumped) == 300002
    assert dumped[(0, b"changed")] == b"before" and dumped[(0, b"deleted")] == b"before"
    assert not any(key.startswith(b"after:") for _, key in dumped)
    assert info(client)["rdb_changes_since_last_save"] == 2 * i + 1  # what came after the fork (one DEL did something)


def test_bgsave_refusals_and_schedule(tmp_path, spawn):
    node = spawn("triokv", tmp_path)
    client = node.client()
    client.execute_command("DEBUG", "POPULATE", 200000)
    raw = socket.create_connection((node.host, node.port))
    # In one batch, so the second command surely finds the first one's child running.
    raw.sendall(b"BGSAVE\r\nBGSAVE\r\nBGREWRITEAOF\r\nSAVE\r\n")
    replies = _read_lines(raw, 4)
    assert replies == [b"+Background saving started", b"-ERR Background save already in progress", b"+Background append only file rewriting scheduled", b"-ERR Background save already in progress"]
    wait_for(lambda: info(client)["aof_rewrites"] == 1, what="the scheduled rewrite")
    raw.sendall(b"BGREWRITEAOF\r\nBGSAVE\r\nBGSAVE SCHEDULE\r\n")
    replies = _read_lines(raw, 3)
    assert replies == [
        b"+Background append only file rewriting started",
        b"-ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.",
        b"+Background saving scheduled",
    ]
    wait_for(lambda: info(client)["rdb_saves"] == 2, what="the scheduled BGSAVE")
    with pytest.raises(redis_py.ResponseError, match="syntax error"):
        client.execute_command("BGSAVE", "LATER")
    raw.close()


def send_raw(node, payload) -> bytes:
    """Send raw bytes; everything the server sends back until it closes the connection."""
    with socket.create_connection((node.host, node.port), timeout=30) as sock:
        sock.sendall(payload)
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return data
            data += chunk


def _read_lines(sock, count):
    data = b""
    while data.count(b"\r\n") < count:
        chunk = sock.recv(65536)
        assert chunk, "connection closed"
        data += chunk
    return data.split(b"\r\n")[:count]


def test_save_points_trigger_a_bgsave_and_save_empty_disables_them(tmp_path, spawn):
    node = spawn("triokv", tmp_path, "--save", "1 1")
    client = node.client()
    assert client.config_get("save") == {"save": "1 1"}
    client.set(b"k", b"v")
    wait_for(lambda: info(client)["rdb_saves"] >= 1, deadline=10, what="a BGSAVE from the save point")
    assert "1 changes in 1 seconds. Saving..." in node.log_text()
    assert read_dump(tmp_path / "dump.rdb") == {(0, b"k"): b"v"}
    client.config_set("save", "")
    client.set(b"k2", b"v")
    time.sleep(2.5)
    assert info(client)["rdb_saves"] == 1 and info(client)["rdb_changes_since_last_save"] == 1


def test_dbfilename_and_dir(tmp_path, spawn):
    node = spawn("triokv", tmp_path, "--enable-protected-configs", "yes")
    client = node.client()
    client.set(b"k", b"v")
    client.config_set("dbfilename", "other.rdb")
    assert client.save()
    assert read_dump(tmp_path / "other.rdb") == {(0, b"k"): b"v"}
    (tmp_path / "sub").mkdir()
    client.config_set("dir", str(tmp_path / "sub"))
    assert client.config_get("dir") == {"dir": str(tmp_path / "sub")}
    client.bgsave()
    wait_for(lambda: (tmp_path / "sub" / "other.rdb").exists() and not info(client)["rdb_bgsave_in_progress"], what="the BGSAVE in the new dir")
    assert read_dump(tmp_path / "sub" / "other.rdb") == {(0, b"k"): b"v"}


def test_shutdown_save_and_nosave(tmp_path, spawn):
    node = spawn("triokv", tmp_path / "a")
    client = node.client()
    client.set(b"k", b"v")
    assert send_raw(node, b"SHUTDOWN SAVE\r\n") == b""  # no reply: the connection closes
    assert node.wait_exit() == 0
    assert read_dump(tmp_path / "a" / "dump.rdb") == {(0, b"k"): b"v"}
    node = spawn("triokv", tmp_path / "b", "--save", "3600 1")
    client = node.client()
    client.set(b"k", b"v")
    assert send_raw(node, b"SHUTDOWN NOSAVE\r\n") == b""
    assert node.wait_exit() == 0
    assert not (tmp_path / "b" / "dump.rdb").exists()


def test_sigterm_saves_when_save_points_are_set(tmp_path, spawn):
    with_points = spawn("triokv", tmp_path / "a", "--save", "3600 1")
    without = spawn("triokv", tmp_path / "b")
    for node in (with_points, without):
        node.client().set(b"k", b"v")
    assert with_points.terminate() == 0 and without.terminate() == 0
    assert read_dump(tmp_path / "a" / "dump.rdb") == {(0, b"k"): b"v"}
    assert "Saving the final RDB snapshot before exiting." in with_points.log_text()
    assert not (tmp_path / "b" / "dump.rdb").exists()


def test_debug_reload(tmp_path, spawn):
    node = spawn("triokv", tmp_path)
    client = node.client()
    fill_mixed(client)
    before = contents(client), digest(client)
    assert client.execute_command("DEBUG", "RELOAD") == b"OK"
    assert (contents(client), digest(client)) == before
    assert "DB reloaded by DEBUG RELOAD" in node.log_text()
    client.set(b"added-after", b"x")
    assert client.execute_command("DEBUG", "RELOAD", "NOSAVE") == b"OK"  # the file wins
    assert client.get(b"added-after") is None and digest(client) == before[1]
    client.set(b"added-after", b"x")
    client.set(b"str:int", b"changed")
    assert client.execute_command("DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE") == b"OK"
    assert client.get(b"added-after") == b"x" and client.get(b"str:int") == b"123456789"
    with pytest.raises(redis_py.ResponseError, match="only supports the MERGE, NOFLUSH and NOSAVE options"):
        client.execute_command("DEBUG", "RELOAD", "NOW")
    os.remove(tmp_path / "dump.rdb")
    with pytest.raises(redis_py.ResponseError, match="Error trying to load the RDB dump"):
        client.execute_command("DEBUG", "RELOAD", "NOSAVE")
    assert client.get(b"added-after") == b"x"  # a failed load changes nothing


def test_info_persistence_fields_and_failed_bgsave(tmp_path, spawn):
    workdir = tmp_path / "gone"
    node = spawn("triokv", workdir)
    client = node.client()
    fields = info(client)
    for name in ("loading", "rdb_changes_since_last_save", "rdb_bgsave_in_progress", "rdb_last_save_time", "rdb_last_bgsave_status", "aof_enabled", "aof_rewrite_in_progress", "aof_rewrite_scheduled", "aof_last_bgrewrite_status"):
        assert name in fields, name
    assert fields["aof_enabled"] == 0 and fields["rdb_last_bgsave_status"] == "ok"
    client.set(b"k", b"v")
    assert info(client)["rdb_changes_since_last_save"] == 1
    for name in os.listdir(workdir):
        os.remove(workdir / name)
    os.rmdir(workdir)  # the child cannot create its temporary file now
    assert client.bgsave()
    wait_for(lambda: info(client)["rdb_bgsave_in_progress"] == 0, what="the failing BGSAVE")
    fields = info(client)
    assert fields["rdb_last_bgsave_status"] == "err" and fields["rdb_changes_since_last_save"] == 1
    with pytest.raises(redis_py.ResponseError):
        client.save()


def write_big_dump(path, keys):
    ks = Keyspace(16)
    data = ks.dbs[0].data
    for i in range(keys):
        data[b"k:%d" % i] = b"v%d" % i
    with open(path, "wb") as f:
        rdb.write_snapshot(ks, f.write, {"redis-ver": "7.0.15"})


def test_loading_a_large_dump_answers_loading_and_logs_progress(tmp_path, spawn):
    write_big_dump(tmp_path / "dump.rdb", 2_000_000)
    node = spawn("triokv", tmp_path, wait=False)
    conn = _connect(node)
    conn.sendall(b"PING\r\n")
    assert _read_lines(conn, 1) == [b"-LOADING Redis is loading the dataset in memory"]
    size = os.path.getsize(tmp_path / "dump.rdb")

    def loading_fields():
        conn.sendall(b"INFO persistence\r\n")
        text = conn.recv(65536)
        assert b"loading:1" in text, "the load ended before INFO could see it"
        return b"loading_total_bytes:%d" % size in text and b"loading_loaded_perc:" in text

    wait_for(loading_fields, what="INFO's loading fields")
    conn.close()
    node.wait_loaded(60)
    log = node.log_text()
    assert "Loading RDB: " in log and "keys loaded" in log and "% done" in log and "keys/sec" in log
    assert "Done loading RDB, keys loaded: 2000000, keys expired: 0." in log
    assert node.client().dbsize() == 2_000_000


def _connect(node, deadline=20.0):
    end = time.monotonic() + deadline
    while True:
        try:
            return socket.create_connection((node.host, node.port), timeout=10)
        except OSError:
            if time.monotonic() > end or not node.alive():
                raise
            time.sleep(0.005)


def test_flushall_kills_a_bgsave_and_saves_the_empty_dataset(tmp_path, spawn):
    """As Redis: a snapshot in flight would write the flushed data back; with save points
    set, FLUSHALL saves at once, so a restart cannot resurrect what was flushed."""
    node = spawn("triokv", tmp_path, "--save", "3600 1")
    client = node.client()
    client.execute_command("DEBUG", "POPULATE", 300000)
    assert client.bgsave() is True
    assert info(client)["rdb_bgsave_in_progress"] == 1, "the BGSAVE ended before FLUSHALL: no child to kill"
    assert client.flushall()
    fields = info(client)
    assert fields["rdb_bgsave_in_progress"] == 0 and fields["rdb_changes_since_last_save"] == 1
    assert "Killing it" in node.log_text()
    assert read_dump(tmp_path / "dump.rdb") == {}
    assert not [n for n in os.listdir(tmp_path) if n.startswith("temp-")]
    node.stop()
    again = spawn("triokv", tmp_path).wait_loaded().client()
    assert again.dbsize() == 0
