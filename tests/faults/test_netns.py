"""The namespace harness itself: names resolve, each fault cuts what it says and is undone,
and teardown leaves nothing behind. Servers are triokv nodes; the client is a Probe."""

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.faults.conftest import need_netns
from tests.faults.netns import ETC_NETNS, NETNS_DIR, Network, sweep_stale
from tests.faults.probe import Probe, ProbeError
from tests.support import triokv_command, wait_until

PORT = 7000
START_DEADLINE = 20.0
# Short enough to keep the tests quick, long enough for a loaded 2-core machine to answer.
CUT_TIMEOUT = 0.5
# A lost SYN or ARP probe is resent after a second: a healed path may take that long.
HEAL_DEADLINE = 5.0


def start_node(net, host):
    argv = [*triokv_command(), "--port", PORT, "--bind", "0.0.0.0", "--protected-mode", "no", "--save", ""]
    return net.spawn(host, argv)


@pytest.fixture
def lan(network):
    """Hosts a and b serving on PORT, a client with a probe, all up."""
    net = network(["a", "b", "client"])
    nodes = [start_node(net, host) for host in ("a", "b")]
    probe = Probe.start(net, "client")
    for host, node in zip(("a", "b"), nodes):
        wait_until(lambda: probe.ok(host, PORT, "ping") or not node.alive(), START_DEADLINE, "%s to answer" % host)
        assert node.alive(), node.log_tail()
    return net, probe


def reaches(probe, host) -> bool:
    """A fresh connection to host answers PING within CUT_TIMEOUT."""
    try:
        return probe.call(host, PORT, "ping", timeout=CUT_TIMEOUT) is True
    except ProbeError:
        return False


def test_names_resolve_in_every_namespace_and_hostname_is_the_service(lan):
    net, probe = lan
    assert net.run("a", ["hostname"]).stdout.strip() == "a"
    looked_up = net.run("client", ["getent", "hosts", "b"]).stdout.split()
    assert looked_up == [net.address("b"), "b"]
    assert probe.call("a", PORT, "ping") is True


def test_partition_cuts_both_ways_between_groups_only_and_heals(lan):
    net, probe = lan
    net.partition(["client"], ["a"])
    assert net.cuts() == {("client", "a"), ("a", "client")}
    assert not reaches(probe, "a")
    assert reaches(probe, "b")
    net.heal()
    assert net.cuts() == set()
    wait_until(lambda: reaches(probe, "a"), HEAL_DEADLINE, "a to answer after heal")


UDP_LISTENER = textwrap.dedent(
    """
    import socket, sys
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", 9999))
    print("listening", flush=True)
    while True:
        print(s.recv(100).decode(), flush=True)
    """
)


def test_one_way_partition_drops_one_direction_only(network):
    net = network(["a", "client"])
    listener = net.spawn("a", [sys.executable, "-u", "-c", UDP_LISTENER], log_name="udp")
    wait_until(lambda: "listening" in listener.log_tail(), START_DEADLINE, "the UDP listener")

    def send(word):
        code = "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'%s', ('a', 9999))" % word
        assert net.run("client", [sys.executable, "-c", code]).returncode == 0

    net.partition("a", "client", one_way=True)  # a's packets are lost; client's still arrive
    send("arrives")
    wait_until(lambda: "arrives" in listener.log_tail(), START_DEADLINE, "the datagram the cut does not cover")
    net.partition("client", "a", one_way=True)
    send("dropped")
    net.heal()
    send("after-heal")
    wait_until(lambda: "after-heal" in listener.log_tail(), START_DEADLINE, "a datagram after heal")
    assert "dropped" not in listener.log_tail()


def test_isolate_loses_packets_until_rejoin(lan):
    net, probe = lan
    net.isolate("b")
    assert not reaches(probe, "b")
    assert reaches(probe, "a")
    net.rejoin("b")
    wait_until(lambda: reaches(probe, "b"), HEAL_DEADLINE, "b to answer after rejoin")


def test_pause_stops_answers_until_resume(lan):
    net, probe = lan
    net.pause("a")
    assert not reaches(probe, "a")
    net.resume("a")
    wait_until(lambda: reaches(probe, "a"), HEAL_DEADLINE, "a to answer after SIGCONT")


def test_kill_leaves_no_process_and_peers_see_silence(lan):
    net, probe = lan
    net.kill("a")
    assert net.pids("a") == []
    with pytest.raises(ProbeError, match="Timeout"):  # silence, not "connection refused"
        probe.call("a", PORT, "ping", timeout=CUT_TIMEOUT)
    assert reaches(probe, "b")


def test_teardown_removes_namespaces_processes_and_etc_even_after_a_failure(tmp_path):
    need_netns()
    with pytest.raises(ValueError, match="on purpose"):
        with Network(["x", "y"], tmp_path) as net:
            names = [net.namespace("x"), net.namespace("y"), net.switch]
            process = net.spawn("x", ["sleep", "600"])
            raise ValueError("on purpose")
    assert process.popen.poll() == -signal.SIGKILL
    for name in names:
        assert not (NETNS_DIR / name).exists()
        assert not (ETC_NETNS / name).exists()


def test_sweep_removes_what_a_dead_run_left(tmp_path):
    need_netns()
    gone = subprocess.Popen(["true"])
    gone.wait()
    assert not Path("/proc", str(gone.pid)).exists()
    stale = "tkv%dn1-left" % gone.pid
    subprocess.run(["ip", "netns", "add", stale], check=True)
    (ETC_NETNS / stale).mkdir(parents=True, exist_ok=True)
    try:
        sweep_stale()
        assert not (NETNS_DIR / stale).exists()
        assert not (ETC_NETNS / stale).exists()
    finally:
        subprocess.run(["ip", "netns", "del", stale], capture_output=True)
