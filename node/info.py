"""The INFO report: Redis 7.0.15's sections, fields and order, built from the node.

Each section is a function `builder(node) -> [(field, value)]`. Other parts of
the node that own a section's facts replace its builder with `provide(name,
builder)` (replication and persistence do); until then the builders here read
what they can from the node and report honest "nothing happened" values.

A persistence object (node.persistence) and a replication object
(node.replication) may also just carry attributes named like the INFO fields
(rdb_saves, rdb_last_save_time, master_repl_offset, ...): the default builders
read them when present. A replication object with `info_fields()` supplies its
whole section.

`sample_metrics(node)` feeds the instantaneous_* rates; the server cron may call
it every 100 ms like Redis's; without that, INFO samples when it runs.
"""

import itertools
import os
import platform
import resource
import struct
import sys
import time

from .commands import table

SECTIONS = (
    ("server", "Server"), ("clients", "Clients"), ("memory", "Memory"), ("persistence", "Persistence"),
    ("stats", "Stats"), ("replication", "Replication"), ("cpu", "CPU"), ("modules", "Modules"),
    ("commandstats", "Commandstats"), ("errorstats", "Errorstats"), ("latencystats", "Latencystats"),
    ("cluster", "Cluster"), ("keyspace", "Keyspace"),
)
DEFAULT_SECTIONS = frozenset(("server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules", "errorstats", "cluster", "keyspace"))
_ALL = frozenset(name for name, _ in SECTIONS)

_builders = {}


def provide(name: str, builder):
    """Install the builder of a section (replacing the default one)."""
    if name not in _ALL:
        raise ValueError("unknown INFO section %r" % name)
    _builders[name] = builder


def _section(name):
    def register(fn):
        _builders[name] = fn
        return fn

    return register


def requested_sections(args) -> set:
    """The sections INFO's arguments ask for (no arguments: the default ones)."""
    if not args:
        return set(DEFAULT_SECTIONS)
    wanted = set()
    for arg in args:
        name = arg.decode("utf-8", "replace").lower()
        if name == "default":
            wanted |= DEFAULT_SECTIONS
        elif name in ("all", "everything"):
            wanted |= _ALL
        elif name == "module_list":
            wanted.add("modules")
        else:
            wanted.add(name)
    return wanted


def generate(node, args=()) -> bytes:
    """The INFO text: "# Title" then field:value lines, sections apart by a blank line."""
    wanted = requested_sections(args)
    parts = []
    for name, title in SECTIONS:
        if name in wanted:
            lines = ["# " + title]
            lines.extend("%s:%s" % pair for pair in _builders[name](node))
            parts.append("\r\n".join(lines) + "\r\n")
    return "\r\n".join(parts).encode()


def human_bytes(n: int) -> str:
    """Redis's bytesToHuman."""
    if n < 1024:
        return "%dB" % n
    for unit, power in (("K", 1), ("M", 2), ("G", 3), ("T", 4), ("P", 5)):
        if n < 1024 ** (power + 1):
            return "%.2f%s" % (n / 1024**power, unit)
    return "%dB" % n


# ---- per-node state INFO keeps: memory peak, rate samples -----------------


class _State:
    SAMPLES = 16  # Redis's STATS_METRIC_SAMPLES

    def __init__(self):
        self.peak = 0
        self.idx = 0
        self.last_ms = 0
        self.last = {}
        self.samples = {}


def _state(node) -> _State:
    state = getattr(node, "info_state", None)
    if state is None:
        state = node.info_state = _State()
    return state


def _commands_processed(node) -> int:
    total = getattr(node, "total_commands_processed", None)
    return node.stats.get("total_commands_processed", 0) if total is None else total


def _readings(node):
    stats = node.stats
    return {"ops": _commands_processed(node), "in": stats.get("total_net_input_bytes", 0), "out": stats.get("total_net_output_bytes", 0)}


def sample_metrics(node, now_ms=None):
    """Record one sample of the per-second rates (Redis's trackInstantaneousMetric)."""
    state = _state(node)
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    readings = _readings(node)
    elapsed = now_ms - state.last_ms
    for name, value in readings.items():
        samples = state.samples.setdefault(name, [0] * _State.SAMPLES)
        done = value - state.last.get(name, value)
        samples[state.idx] = done * 1000 // elapsed if elapsed > 0 and state.last_ms else 0
    state.idx = (state.idx + 1) % _State.SAMPLES
    state.last_ms = now_ms
    state.last = readings


def _rate(node, name) -> int:
    samples = _state(node).samples.get(name)
    return sum(samples) // _State.SAMPLES if samples else 0


def reset_stats(node):
    """CONFIG RESETSTAT: zero the counters (not gauges like blocked_clients)."""
    for name in node.stats:
        if name != "blocked_clients":
            node.stats[name] = 0
    space = node.keyspace
    space.expired_keys = space.evicted_keys = space.keyspace_hits = space.keyspace_misses = 0
    for cmd in node.table.values():
        for one in itertools.chain((cmd,), cmd.subcommands.values()):
            one.calls = one.nsec = one.rejected_calls = one.failed_calls = 0
    node.error_counts.clear()
    state = _state(node)
    state.samples.clear()
    state.last_ms = 0


# ---- server ------------------------------------------------------------------


def _triokv_version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version

        return version("triokv")
    except (ImportError, PackageNotFoundError):
        return "0.1.0"


TRIOKV_VERSION = _triokv_version()


def _gcc_version() -> str:
    # The compiler that built the interpreter running us; Redis prints 0.0.0 when not GCC.
    compiler = platform.python_compiler()
    return compiler.split()[1] if compiler.startswith("GCC ") and len(compiler.split()) > 1 else "0.0.0"


def _executable() -> str:
    return os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] not in ("", "-c") else sys.executable


_UNAME = os.uname()
_STATIC_SERVER = {
    "os": "%s %s %s" % (_UNAME.sysname, _UNAME.release, _UNAME.machine),
    "arch_bits": struct.calcsize("P") * 8,
    "gcc_version": _gcc_version(),
    "executable": _executable(),
}


@_section("server")
def _server(node):
    config = node.config
    now = time.time()
    uptime = int(now - node.start_time)
    supervised = config["supervised"]
    return [
        ("redis_version", "7.0.15"),
        ("triokv_version", TRIOKV_VERSION),
        ("redis_git_sha1", "00000000"),
        ("redis_git_dirty", 0),
        ("redis_build_id", "0"),
        ("redis_mode", "sentinel" if config["sentinel-mode"] else "standalone"),
        ("os", _STATIC_SERVER["os"]),
        ("arch_bits", _STATIC_SERVER["arch_bits"]),
        ("monotonic_clock", "POSIX clock_gettime"),
        ("multiplexing_api", "trio"),
        ("atomicvar_api", "python-gil"),
        ("gcc_version", _STATIC_SERVER["gcc_version"]),
        ("process_id", os.getpid()),
        ("process_supervised", supervised if supervised in ("upstart", "systemd") else "no"),
        ("run_id", node.run_id),
        ("tcp_port", config["port"]),
        ("server_time_usec", int(now * 1_000_000)),
        ("uptime_in_seconds", uptime),
        ("uptime_in_days", uptime // 86400),
        ("hz", config["hz"]),
        ("configured_hz", config["hz"]),
        ("lru_clock", node.keyspace.lru_clock & 0xFFFFFF),
        ("executable", _STATIC_SERVER["executable"]),
        ("config_file", config.path or ""),
        ("io_threads_active", 0),
    ]


# ---- clients -----------------------------------------------------------------


@_section("clients")
def _clients(node):
    clients = list(node.clients.values())
    blocked = [c for c in clients if c.blocked is not None]
    return [
        ("connected_clients", sum(1 for c in clients if c.kind != "replica")),
        ("cluster_connections", 0),
        ("maxclients", node.config["maxclients"]),
        ("client_recent_max_input_buffer", max((c.query_buf for c in clients), default=0)),
        ("client_recent_max_output_buffer", max((_pending_output(c) for c in clients), default=0)),
        ("blocked_clients", len(blocked)),
        ("tracking_clients", sum(1 for c in clients if getattr(c, "tracking", False))),
        ("clients_in_timeout_table", sum(1 for c in blocked if c.blocked.timeout > 0)),
    ]


def _pending_output(c) -> int:
    return c.out_bytes or sum(len(chunk) for chunk in c.out)


# ---- memory ------------------------------------------------------------------

_CLIENT_BASE = None


def _client_bytes(c) -> int:
    """A client's footprint: its object and containers, plus its pending buffers."""
    global _CLIENT_BASE
    if _CLIENT_BASE is None:
        attrs = vars(c)
        _CLIENT_BASE = sys.getsizeof(c) + sys.getsizeof(attrs) + sum(sys.getsizeof(v) for v in attrs.values() if isinstance(v, (list, set, dict)))
    return _CLIENT_BASE + _pending_output(c) + c.query_buf


def _startup_bytes(node) -> int:
    """What the empty databases took at start (measured once: the dicts grow later)."""
    value = getattr(node, "_startup_memory", None)
    if value is None:
        dbs = node.keyspace.dbs
        value = node._startup_memory = len(dbs) * _EMPTY_DB
    return value




def _empty_db_bytes(db) -> int:
    return sys.getsizeof(db) + sum(sys.getsizeof(getattr(db, name)) for name in ("data", "expires", "watched", "blocking", "access", "freq", "coll_sizes"))


def _fresh_db_bytes() -> int:
    from .keyspace import Database, Keyspace

    return _empty_db_bytes(Database(Keyspace(1), 0))


_EMPTY_DB = _fresh_db_bytes()


def _rss() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _system_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return 0


def memory_report(node) -> dict:
    """The memory accounting INFO and MEMORY STATS share (bytes)."""
    dbs = node.keyspace.dbs
    replicas = [c for c in node.clients.values() if c.kind == "replica"]
    normal = [c for c in node.clients.values() if c.kind != "replica"]
    persistence = getattr(node, "persistence", None)
    report = {
        "startup": _startup_bytes(node),
        "dataset": node.keyspace.memory(),
        "clients_normal": sum(_client_bytes(c) for c in normal),
        "clients_slaves": sum(_client_bytes(c) for c in replicas),
        "repl_backlog": getattr(node.replication, "backlog_bytes", 0) if node.replication is not None else 0,
        "aof_buffer": getattr(persistence, "aof_buffer_bytes", 0) if persistence is not None else 0,
    }
    report["overhead"] = report["startup"] + report["clients_normal"] + report["clients_slaves"] + report["repl_backlog"] + report["aof_buffer"]
    report["used"] = report["overhead"] + report["dataset"]
    state = _state(node)
    state.peak = max(state.peak, report["used"])
    report["peak"] = state.peak
    return report


@_section("memory")
def _memory(node):
    m = memory_report(node)
    used, rss, config = m["used"], _rss(), node.config
    net = used - m["startup"] or 1
    total = _system_memory()
    scripts = getattr(node, "scripts", None) or {}
    return [
        ("used_memory", used),
        ("used_memory_human", human_bytes(used)),
        ("used_memory_rss", rss),
        ("used_memory_rss_human", human_bytes(rss)),
        ("used_memory_peak", m["peak"]),
        ("used_memory_peak_human", human_bytes(m["peak"])),
        ("used_memory_peak_perc", "%.2f%%" % (used * 100 / m["peak"])),
        ("used_memory_overhead", m["overhead"]),
        ("used_memory_startup", m["startup"]),
        ("used_memory_dataset", m["dataset"]),
        ("used_memory_dataset_perc", "%.2f%%" % (m["dataset"] * 100 / net)),
        # No allocator statistics in Python: the allocator is taken to hold exactly what we count.
        ("allocator_allocated", used),
        ("allocator_active", used),
        ("allocator_resident", rss),
        ("total_system_memory", total),
        ("total_system_memory_human", human_bytes(total)),
        ("used_memory_lua", 0),
        ("used_memory_vm_eval", 0),
        ("used_memory_lua_human", "0B"),
        ("used_memory_scripts_eval", 0),
        ("number_of_cached_scripts", len(scripts)),
        ("number_of_functions", 0),
        ("number_of_libraries", 0),
        ("used_memory_vm_functions", 0),
        ("used_memory_vm_total", 0),
        ("used_memory_vm_total_human", "0B"),
        ("used_memory_functions", 0),
        ("used_memory_scripts", 0),
        ("used_memory_scripts_human", "0B"),
        ("maxmemory", config["maxmemory"]),
        ("maxmemory_human", human_bytes(config["maxmemory"])),
        ("maxmemory_policy", config["maxmemory-policy"]),
        ("allocator_frag_ratio", "1.00"),
        ("allocator_frag_bytes", 0),
        ("allocator_rss_ratio", "%.2f" % (rss / used)),
        ("allocator_rss_bytes", rss - used),
        ("rss_overhead_ratio", "1.00"),
        ("rss_overhead_bytes", 0),
        ("mem_fragmentation_ratio", "%.2f" % (rss / used)),
        ("mem_fragmentation_bytes", rss - used),
        ("mem_not_counted_for_evict", m["clients_slaves"] + m["aof_buffer"]),
        ("mem_replication_backlog", m["repl_backlog"]),
        ("mem_total_replication_buffers", m["repl_backlog"]),
        ("mem_clients_slaves", m["clients_slaves"]),
        ("mem_clients_normal", m["clients_normal"]),
        ("mem_cluster_links", 0),
        ("mem_aof_buffer", m["aof_buffer"]),
        ("mem_allocator", "pymalloc"),
        ("active_defrag_running", 0),
        ("lazyfree_pending_objects", 0),
        ("lazyfreed_objects", 0),
    ]


# ---- persistence -------------------------------------------------------------

# Fields and their values for a server that never saved, never rewrote, never forked.
_PERSISTENCE_FIELDS = (
    ("loading", 0), ("async_loading", 0), ("current_cow_peak", 0), ("current_cow_size", 0),
    ("current_cow_size_age", 0), ("current_fork_perc", "0.00"), ("current_save_keys_processed", 0),
    ("current_save_keys_total", 0), ("rdb_changes_since_last_save", None), ("rdb_bgsave_in_progress", 0),
    ("rdb_last_save_time", None), ("rdb_last_bgsave_status", "ok"), ("rdb_last_bgsave_time_sec", -1),
    ("rdb_current_bgsave_time_sec", -1), ("rdb_saves", 0), ("rdb_last_cow_size", 0),
    ("rdb_last_load_keys_expired", 0), ("rdb_last_load_keys_loaded", 0), ("aof_enabled", None),
    ("aof_rewrite_in_progress", 0), ("aof_rewrite_scheduled", 0), ("aof_last_rewrite_time_sec", -1),
    ("aof_current_rewrite_time_sec", -1), ("aof_last_bgrewrite_status", "ok"), ("aof_rewrites", 0),
    ("aof_rewrites_consecutive_failures", 0), ("aof_last_write_status", "ok"), ("aof_last_cow_size", 0),
    ("module_fork_in_progress", 0), ("module_fork_last_cow_size", 0),
)
_AOF_ON_FIELDS = ("aof_current_size", "aof_base_size", "aof_pending_rewrite", "aof_buffer_length", "aof_pending_bio_fsync", "aof_delayed_fsync")
_LOADING_FIELDS = ("loading_start_time", "loading_total_bytes", "loading_rdb_used_mem", "loading_loaded_bytes", "loading_loaded_perc", "loading_eta_seconds")


@_section("persistence")
def _persistence(node):
    p = getattr(node, "persistence", None)
    computed = {
        "rdb_changes_since_last_save": node.keyspace.dirty - getattr(node, "dirty_at_last_save", 0),
        "rdb_last_save_time": int(node.start_time),
        "aof_enabled": 1 if node.config["appendonly"] else 0,
    }
    fields = []
    for name, default in _PERSISTENCE_FIELDS:
        value = computed[name] if default is None else default
        if p is not None:
            value = getattr(p, name, value)
        fields.append((name, int(value) if isinstance(value, bool) else value))
        if name == "loading" and value:
            fields.extend((extra, getattr(p, extra, 0)) for extra in _LOADING_FIELDS)
    if computed["aof_enabled"]:
        fields.extend((extra, getattr(p, extra, 0)) for extra in _AOF_ON_FIELDS)
    return fields


# ---- stats -------------------------------------------------------------------


@_section("stats")
def _stats(node):
    state = _state(node)
    now_ms = int(time.time() * 1000)
    if now_ms - state.last_ms >= 1000:
        sample_metrics(node, now_ms)  # nobody samples every 100 ms: sample now
    s, space = node.stats, node.keyspace
    g = s.get
    return [
        ("total_connections_received", g("total_connections_received", 0)),
        ("total_commands_processed", _commands_processed(node)),
        ("instantaneous_ops_per_sec", _rate(node, "ops")),
        ("total_net_input_bytes", g("total_net_input_bytes", 0)),
        ("total_net_output_bytes", g("total_net_output_bytes", 0)),
        ("total_net_repl_input_bytes", g("total_net_repl_input_bytes", 0)),
        ("total_net_repl_output_bytes", g("total_net_repl_output_bytes", 0)),
        ("instantaneous_input_kbps", "%.2f" % (_rate(node, "in") / 1024)),
        ("instantaneous_output_kbps", "%.2f" % (_rate(node, "out") / 1024)),
        ("instantaneous_input_repl_kbps", "0.00"),
        ("instantaneous_output_repl_kbps", "0.00"),
        ("rejected_connections", g("rejected_connections", 0)),
        ("sync_full", g("sync_full", 0)),
        ("sync_partial_ok", g("sync_partial_ok", 0)),
        ("sync_partial_err", g("sync_partial_err", 0)),
        ("expired_keys", space.expired_keys),
        ("expired_stale_perc", "0.00"),
        ("expired_time_cap_reached_count", 0),
        ("expire_cycle_cpu_milliseconds", 0),
        ("evicted_keys", space.evicted_keys),
        ("evicted_clients", 0),
        ("total_eviction_exceeded_time", 0),
        ("current_eviction_exceeded_time", 0),
        ("keyspace_hits", space.keyspace_hits),
        ("keyspace_misses", space.keyspace_misses),
        ("pubsub_channels", len(node.channels)),
        ("pubsub_patterns", len(node.patterns)),
        ("pubsubshard_channels", len(getattr(node, "shard_channels", ()))),
        ("latest_fork_usec", 0),
        ("total_forks", 0),
        ("migrate_cached_sockets", 0),
        ("slave_expires_tracked_keys", 0),
        ("active_defrag_hits", 0),
        ("active_defrag_misses", 0),
        ("active_defrag_key_hits", 0),
        ("active_defrag_key_misses", 0),
        ("total_active_defrag_time", 0),
        ("current_active_defrag_time", 0),
        ("tracking_total_keys", 0),
        ("tracking_total_items", 0),
        ("tracking_total_prefixes", 0),
        ("unexpected_error_replies", 0),
        ("total_error_replies", g("total_error_replies", 0)),
        ("dump_payload_sanitizations", 0),
        ("total_reads_processed", g("total_reads_processed", 0)),
        ("total_writes_processed", g("total_writes_processed", 0)),
        ("io_threaded_reads_processed", 0),
        ("io_threaded_writes_processed", 0),
        ("reply_buffer_shrinks", 0),
        ("reply_buffer_expands", 0),
    ]


# ---- replication -------------------------------------------------------------


def replid(node) -> str:
    """The node's replication id: the replication layer's, else one made once."""
    rid = getattr(node, "replid", None)
    if not rid:
        rid = node.replid = os.urandom(20).hex()
    return rid


@_section("replication")
def _replication(node):
    repl = node.replication
    if repl is not None and hasattr(repl, "info_fields"):
        return repl.info_fields()

    def get(name, default):
        return getattr(repl, name, default) if repl is not None else default

    backlog = node.config["repl-backlog-size"]
    return [
        ("role", node.role),
        ("connected_slaves", get("connected_slaves", 0)),
        ("master_failover_state", get("master_failover_state", "no-failover")),
        ("master_replid", replid(node)),
        ("master_replid2", get("master_replid2", "0" * 40)),
        ("master_repl_offset", get("master_repl_offset", 0)),
        ("second_repl_offset", get("second_repl_offset", -1)),
        ("repl_backlog_active", get("repl_backlog_active", 0)),
        ("repl_backlog_size", get("repl_backlog_size", backlog)),
        ("repl_backlog_first_byte_offset", get("repl_backlog_first_byte_offset", 0)),
        ("repl_backlog_histlen", get("repl_backlog_histlen", 0)),
    ]


# ---- cpu, modules, cluster ---------------------------------------------------


@_section("cpu")
def _cpu(node):
    me = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    thread = resource.getrusage(getattr(resource, "RUSAGE_THREAD", resource.RUSAGE_SELF))
    return [
        ("used_cpu_sys", "%.6f" % me.ru_stime),
        ("used_cpu_user", "%.6f" % me.ru_utime),
        ("used_cpu_sys_children", "%.6f" % children.ru_stime),
        ("used_cpu_user_children", "%.6f" % children.ru_utime),
        ("used_cpu_sys_main_thread", "%.6f" % thread.ru_stime),
        ("used_cpu_user_main_thread", "%.6f" % thread.ru_utime),
    ]


@_section("modules")
def _modules(node):
    return []  # no module system


@_section("cluster")
def _cluster(node):
    return [("cluster_enabled", 0)]


@_section("latencystats")
def _latencystats(node):
    # Per-command latency histograms are not kept (Redis's latency-tracking off).
    return []


# ---- commandstats, errorstats, keyspace ------------------------------------


def _cmdstat(cmd) -> str:
    return _cmdstat_line(cmd.calls, cmd.nsec, cmd.rejected_calls, cmd.failed_calls)


def _cmdstat_line(calls, nsec, rejected, failed) -> str:
    per_call = nsec / 1000 / calls if calls else 0.0
    return "calls=%d,usec=%d,usec_per_call=%.2f,rejected_calls=%d,failed_calls=%d" % (calls, nsec // 1000, per_call, rejected, failed)


def _used(cmd) -> bool:
    return bool(cmd.calls or cmd.rejected_calls or cmd.failed_calls)


@_section("commandstats")
def _commandstats(node):
    out = []
    for cmd in node.table.values():
        if not table.counts_through_subcommands(cmd):
            if _used(cmd):
                out.append(("cmdstat_" + cmd.name, _cmdstat(cmd)))
            continue
        # A container that dispatches to counted subcommands never runs itself in Redis:
        # its line only shows calls refused before dispatch (a missing subcommand name).
        if cmd.rejected_calls:
            out.append(("cmdstat_" + cmd.name, _cmdstat_line(0, 0, cmd.rejected_calls, 0)))
        out.extend(("cmdstat_" + sub.name, _cmdstat(sub)) for sub in cmd.subcommands.values() if _used(sub))
    return out


@_section("errorstats")
def _errorstats(node):
    return [("errorstat_" + code, "count=%d" % n) for code, n in sorted(node.error_counts.items())]


def _avg_ttl(db, now_ms) -> int:
    """The expiry cycle's running estimate when it keeps one, else a sample of the TTLs."""
    if db.avg_ttl:
        return db.avg_ttl
    ttls = [when - now_ms for when in itertools.islice(db.expires.values(), 64) if when > now_ms]
    return sum(ttls) // len(ttls) if ttls else 0


@_section("keyspace")
def _keyspace(node):
    now_ms = node.keyspace.clock()
    return [("db%d" % db.id, "keys=%d,expires=%d,avg_ttl=%d" % (len(db.data), len(db.expires), _avg_ttl(db, now_ms))) for db in node.keyspace.dbs if db.data]
