"""`triokv cluster up|down|status`: start, inspect, refuse a second start or taken ports, stop exactly
what was started, restart a stopped cluster, and clean up after a failed start."""

import json
import os
import socket

import pytest

from sentinel.cli import layout as layouts
from sentinel.cli import procs
from tests.cli.conftest import IMPLS, cli


@pytest.mark.parametrize("impl", IMPLS)
def test_up_status_up_again_down_restart(make_cluster, impl):
    cluster = make_cluster(impl)
    done = cluster.up()
    ports = cluster.node_ports + cluster.sentinel_ports
    for port in ports:
        assert "127.0.0.1:%d" % port in done.stdout
    assert "Sentinel([" in done.stdout and 'master_for("mymaster"' in done.stdout
    assert "every sentinel to know the master" in done.stderr  # progress says what it waited for

    status = json.loads(cli("cluster", "status", "--dir", cluster.dir, "--json").stdout)
    rows = {r["name"]: r for r in status["processes"]}
    assert status["impl"] == impl and len(rows) == 6
    assert all(r["alive"] and r["pid"] for r in rows.values())
    assert rows["node-%d" % cluster.port_base]["role"] == "master"
    for port in cluster.node_ports[1:]:
        assert rows["node-%d" % port]["role"] == "replica of 127.0.0.1:%d (link up)" % cluster.port_base
    for port in cluster.sentinel_ports:
        assert rows["sentinel-%d" % port]["role"] == "sentinel"
    table = cli("cluster", "status", "--dir", cluster.dir).stdout
    assert "NAME" in table and "node-%d" % cluster.port_base in table

    again = cli(*cluster.up_args(), check=False)
    assert again.returncode == 1
    assert "already running" in again.stderr and again.stderr.count("\n") == 1
    assert {r["pid"] for r in json.loads(cli("cluster", "status", "--dir", cluster.dir, "--json").stdout)["processes"]} == {r["pid"] for r in rows.values()}

    down = cli("cluster", "down", "--dir", cluster.dir)
    assert "stopped 6 processes" in down.stdout
    cluster.assert_gone()
    stopped = json.loads(cli("cluster", "status", "--dir", cluster.dir, "--json").stdout)
    assert not any(r["alive"] for r in stopped["processes"])
    assert "nothing of the cluster" in cli("cluster", "down", "--dir", cluster.dir).stdout

    # A stopped cluster comes back as it was recorded, ready like a new one.
    back = cluster.up()
    assert "restarting the stopped cluster" in back.stderr and "is up" in back.stdout


def test_up_refuses_a_taken_port_and_starts_nothing(make_cluster):
    cluster = make_cluster("redis")
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", cluster.sentinel_ports[1]))
        squatter.listen()
        done = cluster.up(check=False)
    assert done.returncode == 1
    assert "port %d already in use" % cluster.sentinel_ports[1] in done.stderr
    assert done.stderr.count("\n") == 1
    layout = layouts.load(str(cluster.dir)) if layouts.exists(str(cluster.dir)) else None
    assert layout is None or not any(os.path.exists(s.pidfile) for s in layout.procs)
    assert all(procs.port_free("127.0.0.1", p) for p in cluster.node_ports)


def test_failed_start_stops_what_it_started(make_cluster):
    cluster = make_cluster("redis")
    # Too short for the sentinels to find each other (hello messages come every 2 s).
    done = cli(*cluster.up_args(), "--timeout", "0.5", check=False)
    assert done.returncode == 1
    assert "timed out" in done.stderr and "stopping what was started" in done.stderr
    cluster.assert_gone()
    layout = layouts.load(str(cluster.dir))
    assert not any(procs.running_pid(s.pidfile) for s in layout.procs)


def test_help_on_every_level():
    for args in ([], ["cluster"], ["cluster", "up"], ["cluster", "down"], ["cluster", "status"], ["status"], ["watch"], ["failover"], ["drill"]):
        done = cli(*args, "--help")
        assert done.stdout.startswith("usage: triokv")


def test_errors_are_one_line_and_exit_1(tmp_path):
    cases = [
        (["cluster", "down", "--dir", tmp_path], "no cluster in"),
        (["status", "--sentinel", "127.0.0.1:1"], "no sentinel answered"),
        (["drill", "kill-master", "--dir", tmp_path], "no cluster in"),
        (["bogus"], "invalid choice"),
        (["status", "--sentinel", "nohostport"], "not HOST:PORT"),
    ]
    for args, message in cases:
        done = cli(*args, check=False)
        assert done.returncode == 1, args
        assert message in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr
