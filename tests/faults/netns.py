"""A small private network of Linux network namespaces, with faults on demand.

    with Network(["node1", "node2", "sentinel1", "client"], workdir) as net:
        proc = net.spawn("node1", ["triokv-node", "--bind", "0.0.0.0"])
        net.partition(["node1"], ["sentinel1"])   # drop every packet between the groups
        net.heal()

Layout: every host is a namespace `<prefix><host>` with one interface, eth0, on a
private /24; its other end is a port of a bridge living in a namespace of its own
(`<prefix[:-1]>_sw`), so nothing is added to the root namespace and a leftover run
cannot clash with a new one (the prefix carries the pid and a counter).
/etc/netns/<namespace>/hosts names every host, so plain service names resolve
(`ip netns exec` mounts /etc/netns/<namespace>/* over /etc), and every process
runs in a UTS namespace of its own whose hostname is the host's name.

Faults, each undone by its counterpart or by heal():
  kill(host)        link down first (peers see silence, not a FIN or RST), then SIGKILL
                    every process in the namespace: a machine losing power
  isolate(host)     its switch port down, as if the cable were pulled; rejoin(host)
  partition(a, b)   iptables DROP between every host of a and every host of b, both
                    directions (one_way=True: only packets from a to b); heal()
  pause(host)       SIGSTOP every process in the namespace; resume(host): SIGCONT

Teardown kills every process in the namespaces, deletes the namespaces (their
links go with them) and the /etc/netns entries, even after a failure. Needs root,
`ip` and `bridge` (iproute2), `unshare` and `hostname`; partitions also need
`iptables-restore` (missing_tools() says what is missing).
"""

import ipaddress
import itertools
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

NETNS_DIR = Path("/var/run/netns")
ETC_NETNS = Path("/etc/netns")
SUBNET = ipaddress.ip_network("10.77.0.0/24")
COMMAND_DEADLINE = 10.0
STOP_DEADLINE = 5.0
_PREFIX_RE = re.compile(r"^tkv(\d+)n\d+[-_]")
_IFNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,15}$")
_counter = itertools.count(1)


class NetnsError(RuntimeError):
    """A namespace command failed; the message holds the command and its output."""


def missing_tools(partitions: bool = True) -> list:
    """Why this machine cannot build networks: not root, tools missing, or namespaces refused
    (a container without CAP_SYS_ADMIN); empty when it can."""
    if os.geteuid() != 0:
        return ["not root (network namespaces need CAP_SYS_ADMIN)"]
    tools = ["ip", "bridge", "unshare", "hostname"] + (["iptables-restore"] if partitions else [])
    reasons = ["%s not found on PATH" % tool for tool in tools if not shutil.which(tool)]
    if not reasons:
        done = sh(["unshare", "--net", "--uts", "--mount", "true"], check=False)
        if done.returncode != 0:
            reasons.append("cannot create namespaces here: %s" % done.stderr.strip())
    return reasons


def sh(argv, stdin: str = None, check: bool = True) -> subprocess.CompletedProcess:
    """Run a setup command with a deadline; raise NetnsError with its output on failure."""
    done = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=COMMAND_DEADLINE)
    if check and done.returncode != 0:
        raise NetnsError("%s -> %d: %s" % (" ".join(argv), done.returncode, (done.stderr or done.stdout).strip()))
    return done


def namespace_pids(namespace: str) -> list:
    """Every process whose network namespace is this one (children and daemons included)."""
    done = sh(["ip", "netns", "pids", namespace], check=False)
    return [int(p) for p in done.stdout.split()] if done.returncode == 0 else []


def signal_all(pids, signum):
    for pid in pids:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass


def sweep_stale():
    """Remove namespaces an earlier, dead run of this harness left behind (its pid is gone)."""
    names = os.listdir(NETNS_DIR) if NETNS_DIR.is_dir() else []
    for name in names:
        match = _PREFIX_RE.match(name)
        if match and not Path("/proc", match.group(1)).exists():
            signal_all(namespace_pids(name), signal.SIGKILL)
            sh(["ip", "netns", "del", name], check=False)
            shutil.rmtree(ETC_NETNS / name, ignore_errors=True)


class Process:
    """A command started in a host's namespace: its Popen, host and log file."""

    def __init__(self, host, argv, popen, log_path):
        self.host, self.argv, self.popen, self.log_path = host, argv, popen, log_path

    @property
    def pid(self):
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, n: int = 30) -> str:
        try:
            lines = Path(self.log_path).read_bytes().splitlines()[-n:]
        except OSError:
            return ""
        return b"\n".join(lines).decode("utf-8", "replace")


class Network:
    """Hosts on one bridge, each in its own namespace; see the module docstring."""

    def __init__(self, hosts, workdir):
        hosts = list(hosts)
        if len(set(hosts)) != len(hosts) or len(hosts) > 200:
            raise ValueError("host names must be unique, at most 200: %r" % hosts)
        self.hosts = hosts
        self.workdir = Path(workdir)
        self.prefix = "tkv%dn%d-" % (os.getpid(), next(_counter))
        self.switch = self.prefix[:-1] + "_sw"
        self.addresses = {host: str(SUBNET[10 + i]) for i, host in enumerate(hosts)}
        self.processes = []
        self._created = []  # namespaces, in creation order, for teardown
        self._cuts = set()  # (source host, destination host) pairs whose packets are dropped
        self._down = set()  # hosts whose switch port is down

    # ---- building and tearing down ----

    def __enter__(self):
        try:
            self.create()
        except BaseException:
            self.teardown()
            raise
        return self

    def __exit__(self, *exc):
        self.teardown()

    def namespace(self, host: str) -> str:
        self._known(host)
        return self.prefix + host

    def address(self, host: str) -> str:
        self._known(host)
        return self.addresses[host]

    def create(self):
        sweep_stale()
        self._add_namespace(self.switch)
        sh(["ip", "-n", self.switch, "link", "add", "br0", "type", "bridge"])
        sh(["ip", "-n", self.switch, "link", "set", "dev", "br0", "up"])
        hosts_file = self._hosts_file()
        for host in self.hosts:
            self._add_host(host, hosts_file)

    def _add_namespace(self, name: str):
        sh(["ip", "netns", "add", name])
        self._created.append(name)
        sh(["ip", "-n", name, "link", "set", "dev", "lo", "up"])

    def _add_host(self, host: str, hosts_file: str):
        namespace = self.namespace(host)
        self._add_namespace(namespace)
        etc = ETC_NETNS / namespace
        etc.mkdir(parents=True, exist_ok=True)
        (etc / "hosts").write_text(hosts_file)
        port = self._port(host)
        sh(["ip", "link", "add", "eth0", "netns", namespace, "type", "veth", "peer", "name", port, "netns", self.switch])
        sh(["ip", "-n", self.switch, "link", "set", "dev", port, "master", "br0", "up"])
        sh(["ip", "-n", namespace, "addr", "add", "%s/%d" % (self.addresses[host], SUBNET.prefixlen), "dev", "eth0"])
        sh(["ip", "-n", namespace, "link", "set", "dev", "eth0", "up"])
        (self.workdir / host).mkdir(parents=True, exist_ok=True)

    def _port(self, host: str) -> str:
        """The host's interface name on the bridge: its own name when Linux allows it."""
        return host if _IFNAME_RE.match(host) and host not in ("br0", "lo") else "port%d" % self.hosts.index(host)

    def _hosts_file(self) -> str:
        lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback"]
        lines += ["%s\t%s" % (self.addresses[host], host) for host in self.hosts]
        return "\n".join(lines) + "\n"

    def teardown(self):
        """Kill every process in our namespaces, then delete them and their /etc/netns entries."""
        for namespace in self._created:
            signal_all(namespace_pids(namespace), signal.SIGKILL)
        for process in self.processes:
            for pipe in (process.popen.stdin, process.popen.stdout):
                if pipe:
                    pipe.close()
            try:
                process.popen.wait(timeout=STOP_DEADLINE)
            except subprocess.TimeoutExpired:
                pass
        for namespace in reversed(self._created):
            sh(["ip", "netns", "del", namespace], check=False)
            shutil.rmtree(ETC_NETNS / namespace, ignore_errors=True)
        self._created = []
        try:
            ETC_NETNS.rmdir()  # only when empty: it may hold other tools' entries
        except OSError:
            pass

    # ---- processes ----

    def command(self, host: str, argv) -> list:
        """argv wrapped to run in the host's namespace, with /etc/hosts and hostname set."""
        rename = 'hostname "$0" && exec "$@"'
        return ["ip", "netns", "exec", self.namespace(host), "unshare", "--uts", "--", "sh", "-c", rename, host, *map(str, argv)]

    def spawn(self, host: str, argv, cwd=None, env=None, log_name: str = None, pipes: bool = False) -> Process:
        """Start argv in the host's namespace (cwd: workdir/host); output goes to a log file
        (pipes=True: stdin and stdout are pipes to the caller, stderr alone is logged)."""
        cwd = Path(cwd) if cwd else self.workdir / host
        log_path = self.workdir / host / ("%s.log" % (log_name or Path(str(argv[0])).name))
        with open(log_path, "ab") as log:
            if pipes:
                streams = dict(stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)
            else:
                streams = dict(stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
            popen = subprocess.Popen(self.command(host, argv), cwd=cwd, env=env, **streams)
        process = Process(host, list(argv), popen, log_path)
        self.processes.append(process)
        return process

    def run(self, host: str, argv, timeout: float = COMMAND_DEADLINE, cwd=None, env=None) -> subprocess.CompletedProcess:
        """Run argv to completion in the host's namespace; output captured as text."""
        cwd = Path(cwd) if cwd else self.workdir / host
        return subprocess.run(self.command(host, argv), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)

    def pids(self, host: str) -> list:
        return namespace_pids(self.namespace(host))

    # ---- faults ----

    def kill(self, host: str):
        """Power loss: the link goes silent first (no FIN or RST reaches a peer), then SIGKILL."""
        self.isolate(host)
        pids = self.pids(host)
        signal_all(pids, signal.SIGKILL)
        deadline = time.monotonic() + STOP_DEADLINE
        while self.pids(host) and time.monotonic() < deadline:
            time.sleep(0.02)
        for process in self.processes:
            if process.host == host:
                process.popen.poll()  # reap our children

    def isolate(self, host: str):
        """Pull the host's cable: its bridge port goes down, packets both ways are lost (the
        host's own sends fail silently too: its eth0 has no carrier)."""
        sh(["ip", "-n", self.switch, "link", "set", "dev", self._port(host), "down"])
        self._down.add(host)
        self._wait_link(host, up=False)

    def rejoin(self, host: str):
        """Plug the cable back in; returns once the host's eth0 carries traffic again (the
        kernel applies a carrier change up to a second later, in its link watch)."""
        sh(["ip", "-n", self.switch, "link", "set", "dev", self._port(host), "up"])
        self._down.discard(host)
        self._wait_link(host, up=True)

    def _wait_link(self, host: str, up: bool):
        """Wait until the kernel has applied a carrier change at both ends of the host's cable.
        It does so in its link watch, up to a second later; only then does eth0 stop or resume
        sending and the bridge port stop or resume forwarding."""
        deadline = time.monotonic() + STOP_DEADLINE
        while self._link_up(host) != up:
            if time.monotonic() >= deadline:
                raise NetnsError("link of %s not %s %.0fs after the change" % (host, "up" if up else "down", STOP_DEADLINE))
            time.sleep(0.02)

    def _link_up(self, host: str) -> bool:
        eth0 = sh(["ip", "-n", self.namespace(host), "-o", "link", "show", "dev", "eth0"]).stdout
        port = sh(["bridge", "-n", self.switch, "link", "show", "dev", self._port(host)]).stdout
        return "state UP" in eth0 and "state forwarding" in port

    def partition(self, group_a, group_b, one_way: bool = False):
        """Drop packets between every host of group_a and every host of group_b (one_way:
        only those from a to b). Cuts add up until heal()."""
        group_a, group_b = self._group(group_a), self._group(group_b)
        pairs = {(a, b) for a in group_a for b in group_b if a != b}
        if not one_way:
            pairs |= {(b, a) for a, b in pairs}
        self._cuts |= pairs
        self._apply_cuts({host for pair in pairs for host in pair})

    def heal(self):
        """Undo every partition and isolation."""
        touched = {host for pair in self._cuts for host in pair}
        self._cuts.clear()
        self._apply_cuts(touched)
        for host in list(self._down):
            self.rejoin(host)

    def cuts(self) -> set:
        """The (source, destination) pairs whose packets are dropped now."""
        return set(self._cuts)

    def _apply_cuts(self, hosts):
        """Replace each host's filter table with the rules its cuts need, atomically. Packets
        are dropped on arrival (INPUT), as Jepsen does: a drop on OUTPUT would tell the
        sender (EPERM) instead of losing the packet silently."""
        for host in hosts:
            rules = ["*filter", ":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]"]
            rules += ["-A INPUT -s %s/32 -j DROP" % self.addresses[src] for src, dst in sorted(self._cuts) if dst == host]
            sh(["ip", "netns", "exec", self.namespace(host), "iptables-restore"], stdin="\n".join(rules + ["COMMIT"]) + "\n")

    def pause(self, host: str):
        """SIGSTOP every process of the host: alive to the kernel (TCP still ACKs), silent to peers."""
        signal_all(self.pids(host), signal.SIGSTOP)

    def resume(self, host: str):
        signal_all(self.pids(host), signal.SIGCONT)

    def others(self, *hosts) -> list:
        """Every host but these: the far side of a partition (`partition(h, net.others(h))`)."""
        for host in hosts:
            self._known(host)
        return [host for host in self.hosts if host not in hosts]

    # ---- helpers ----

    def _known(self, host: str):
        if host not in self.addresses:
            raise KeyError("no host %r in this network (%s)" % (host, ", ".join(self.hosts)))

    def _group(self, group) -> list:
        group = [group] if isinstance(group, str) else list(group)
        for host in group:
            self._known(host)
        return group
