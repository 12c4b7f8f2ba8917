"""The sentinel: its state, its instances, and the periodic timer that drives everything.

Redis's sentinelTimer, ten-odd times a second (the rate is randomized so that
sentinels started together drift apart and do not keep asking for votes at the
same instant): check for TILT, then for every master, its replicas and its
sentinels, a monitoring half (reconnect, PING, INFO, hello: sentinel.monitor,
sentinel.hello) and an acting half (SDOWN, ODOWN, the election and the failover:
sentinel.decide, sentinel.election, sentinel.failover).

The clock (`clock()` -> ms), the way to open streams and the random source are
injected, so a whole group runs on trio's MockClock in one process.
"""

import ipaddress
import os
import random
import socket
import time

import trio

from node.glob import matches

from . import election, failover, monitor, scripts
from .events import NOTICE, WARNING, Events
from .instances import MASTER, MASTER_DOWN, O_DOWN, SLAVE, SentinelError, STATE_NONE, STATE_UPDATE_CONFIG, S_DOWN, Addr, Instance, Settings, slave_name


class Sentinel:
    def __init__(self, clock=None, open_stream=None, rng=None, log=None, store=None):
        self.settings = Settings()
        self.masters = {}  # name -> master Instance, in the order they were added
        self.clock = clock or (lambda: int(time.time() * 1000))
        self.open_stream = open_stream
        self.rng = rng or random.Random()
        self.log = log
        self.events = Events(self.settings, log)
        self.store = store  # persists the state (sentinel.state_file); None keeps it in memory
        self.nursery = None
        self.scripts = scripts.Scripts(self)
        self.hz = 10
        self.port = 26379  # the port we announce when announce-port is not set

    def now(self) -> int:
        return self.clock()

    def event(self, level, type_, ri, fmt, *args):
        message = self.events.emit(level, type_, ri, fmt, *args)
        scripts.on_event(self, level, type_, ri, message)

    def flush_config(self):
        """Persist the state now (Redis's sentinelFlushConfig), if there is somewhere to."""
        if self.store is None:
            return
        try:
            self.store.flush(self)
        except OSError as e:
            if self.log is not None:
                self.log.warning("WARNING: Sentinel was not able to save the new configuration on disk!!!: %s" % e)
            return
        if self.log is not None:
            self.log.notice("Sentinel new configuration saved on disk")

    def simulated_crash(self):
        """SENTINEL SIMULATE-FAILURE: die here, as Redis does (exit 99). A simulation replaces this."""
        if self.log is not None:
            self.log.warning("Sentinel simulated failure. Crashing...")
        os._exit(99)

    def new_id(self) -> str:
        return "%040x" % self.rng.getrandbits(160)

    # ---- instances ---------------------------------------------------------------

    def make_addr(self, host: str, port: int) -> Addr:
        """Redis's createSentinelAddr: a valid port, and an IP, or a host name that resolves
        when resolve-hostnames is on."""
        if not 0 <= port <= 65535:
            raise SentinelError("ERR Invalid port number.")
        try:
            ipaddress.ip_address(host)
            return Addr(host, port)
        except ValueError:
            pass
        if not self.settings.resolve_hostnames:
            raise SentinelError("ERR Invalid IP address or hostname specified")
        try:
            ip = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][4][0]
        except (OSError, UnicodeError):
            raise SentinelError("ERR Invalid IP address or hostname specified") from None
        return Addr(host, port, ip)

    def create_instance(self, name, flags, host, port, quorum, master) -> Instance:
        """A new master, replica or sentinel (createSentinelRedisInstance); SentinelError when
        the address is invalid or the name is taken."""
        addr = self.make_addr(host, port)
        if flags & SLAVE:
            name = slave_name(host, port)
        table = self.masters if flags & MASTER else (master.slaves if flags & SLAVE else master.sentinels)
        if name in table:
            raise SentinelError("ERR Duplicate master name.")
        ri = Instance(name, flags, addr, quorum, master, self.now(), self.settings)
        table[name] = ri
        return ri

    def release(self, ri):
        """Close an instance's connections, and its replicas' and sentinels' for a master."""
        if ri.flags & MASTER:
            for child in ri.instances():
                monitor.close_link(child)
        monitor.close_link(ri)

    def master_by_name(self, name: str):
        return self.masters.get(name)

    def lookup_slave(self, master, host: str, port: int):
        return master.slaves.get(slave_name(host, port))

    def monitor(self, name, host, port, quorum) -> Instance:
        """SENTINEL MONITOR (and the config's `sentinel monitor`)."""
        if quorum <= 0:
            raise SentinelError("ERR Quorum must be 1 or greater.")
        master = self.create_instance(name, MASTER, host, port, quorum, None)
        return master

    def remove(self, name):
        master = self.masters.pop(name)
        self.release(master)
        self.event(WARNING, "-monitor", master, "%@")

    def reset_master(self, master, generate_event=False, keep_sentinels=False):
        """Forget what was learned about a master: replicas, (sentinels,) runid, failover state
        (sentinelResetMaster)."""
        for child in list(master.slaves.values()) + (list(master.sentinels.values()) if not keep_sentinels else []):
            monitor.close_link(child)
        master.slaves = {}
        if not keep_sentinels:
            master.sentinels = {}
        monitor.close_link(master)
        now = self.now()
        master.flags &= MASTER
        master.leader = None
        master.failover_state = STATE_NONE
        master.failover_state_change_time = 0
        master.failover_start_time = 0  # a new failover may start at once
        master.promoted_slave = None
        master.catchup = None
        master.fence = None
        master.runid = None
        master.slave_master_host = None
        link = master.link
        link.act_ping_time = now
        link.last_ping_time = 0
        link.last_avail_time = now
        link.last_pong_time = now
        master.role_reported_time = now
        master.role_reported = MASTER
        if generate_event:
            self.event(WARNING, "+reset-master", master, "%@")

    def reset_master_and_change_address(self, master, host, port):
        """Point a master at a new address, keeping its known replicas (minus the new master,
        plus the old one) so that the old master can be found and reconfigured later."""
        self.make_addr(host, port)
        keep = [s.addr for s in master.slaves.values() if not s.addr.same(host, port)]
        if not master.addr.same(host, port):
            keep.append(master.addr)
        self.reset_master(master, keep_sentinels=True)
        master.addr = self.make_addr(host, port)
        master.o_down_since_time = 0
        master.s_down_since_time = 0
        # A new address is connected to at once (not a ping period after the last attempt at the
        # old one), and what the others said about the old address no longer counts for ODOWN.
        master.link.last_reconn_time = 0
        for si in master.sentinels.values():
            si.flags &= ~MASTER_DOWN
            si.leader = None
        for addr in keep:
            try:
                replica = self.create_instance(None, SLAVE, addr.host, addr.port, master.quorum, master)
            except SentinelError:
                continue
            self.event(NOTICE, "+slave", replica, "%@")
        self.flush_config()

    def reset_masters(self, pattern: bytes) -> int:
        """SENTINEL RESET: every master whose name matches the glob pattern."""
        count = 0
        for master in list(self.masters.values()):
            if matches(pattern, master.name.encode()):
                self.reset_master(master, generate_event=True)
                count += 1
        if count:
            self.flush_config()
        return count

    # ---- running -----------------------------------------------------------------

    def start(self):
        """What Redis does once the sentinel runs (sentinelIsRunning): an id, saved, and a
        +monitor event for every master."""
        if not self.settings.myid:
            self.settings.myid = self.new_id()
            self.flush_config()
        if self.log is not None:
            self.log.warning("Sentinel ID is %s" % self.settings.myid)
        for master in self.masters.values():
            self.event(WARNING, "+monitor", master, "%@ quorum %d", master.quorum)

    async def run(self, task_status=trio.TASK_STATUS_IGNORED):
        async with trio.open_nursery() as nursery:
            self.nursery = nursery
            self.start()
            self.settings.previous_time = self.now()
            task_status.started()
            while True:
                self.timer()
                await trio.sleep(1.0 / self.hz)

    def timer(self):
        self.check_tilt()
        self.handle_instances(list(self.masters.values()))
        self.scripts.run_pending()
        # A rate that changes every tick keeps sentinels from staying in step.
        self.hz = 10 + self.rng.randrange(10)

    def check_tilt(self):
        """TILT: the clock went back, or the timer ran much later than it should (the process
        was stalled, or the clock jumped). For tilt-period nothing is acted upon."""
        settings = self.settings
        now = self.now()
        delta = now - settings.previous_time
        if delta < 0 or delta > settings.tilt_trigger:
            settings.tilt = True
            settings.tilt_start_time = now
            self.event(WARNING, "+tilt", None, "#tilt mode entered")
        settings.previous_time = now

    def handle_instances(self, masters):
        for master in masters:
            if master.name not in self.masters:
                continue  # removed by an earlier handler in this round
            self.handle_instance(master)
            for ri in master.instances():
                self.handle_instance(ri)
        for master in masters:
            if master.failover_state == STATE_UPDATE_CONFIG and self.masters.get(master.name) is master:
                failover.switch_to_promoted(self, master)

    def handle_instance(self, ri):
        monitor.reconnect(self, ri)
        monitor.send_periodic_commands(self, ri)
        settings = self.settings
        if settings.tilt:
            if self.now() - settings.tilt_start_time < settings.tilt_period:
                return
            settings.tilt = False
            self.event(WARNING, "-tilt", None, "#tilt mode exited")
        monitor.check_subjectively_down(self, ri)
        if ri.flags & MASTER:
            election.check_objectively_down(self, ri)
            if failover.start_if_needed(self, ri):
                election.ask_master_state(self, ri, forced=True)
            failover.run_state_machine(self, ri)
            election.ask_master_state(self, ri, forced=False)

    # ---- facts for the API -----------------------------------------------------------

    def master_status(self, master) -> str:
        return "odown" if master.flags & O_DOWN else ("sdown" if master.flags & S_DOWN else "ok")
