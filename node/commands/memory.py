"""MEMORY USAGE, STATS, DOCTOR, MALLOC-STATS, PURGE and HELP.

The numbers are this server's own: Python object sizes for MEMORY USAGE, the
accounting INFO memory shows (node.info.memory_report) for MEMORY STATS, in
the shapes Redis 7.0 replies them. There is no allocator to ask for
statistics, so the allocator fields repeat what is counted, and MALLOC-STATS
answers as a Redis built without jemalloc does.
"""

import gc
import sys
from itertools import islice

from .. import resp
from ..errors import CommandError, SYNTAX
from ..info import memory_report
from ..keyspace import BYTES_OVERHEAD, COLLECTION_ELEM_OVERHEAD, KEY_ENTRY_OVERHEAD, HashValue, ListValue, SetValue
from ..resp import Pairs, Verbatim
from .args import parse_int
from .table import command, run_subcommand, subcommand

DEFAULT_SAMPLES = 5  # Redis's OBJ_COMPUTE_SIZE_DEF_SAMPLES


@command("memory", -2, "", group="server", since="4.0.0", summary="A container for memory diagnostics commands")
def memory(c, argv):
    return run_subcommand(c, argv)


# ---- USAGE -----------------------------------------------------------------------


def memory_usage(c, argv):
    samples = DEFAULT_SAMPLES
    i = 3
    while i < len(argv):
        if argv[i].lower() == b"samples" and i + 1 < len(argv):
            samples = parse_int(argv[i + 1])
            if samples < 0:
                raise CommandError(SYNTAX)
            i += 2
        else:
            raise CommandError(SYNTAX)
    key = argv[2]
    value = c.db.data.get(key)  # as Redis's dictFind: an expired key not yet removed counts
    if value is None:
        return None
    return sys.getsizeof(key) + KEY_ENTRY_OVERHEAD + value_size(value, samples)


def value_size(value, samples: int) -> int:
    """A value's bytes; a collection's from the average of its first `samples`
    elements (0: all of them), as Redis's objectComputeSize estimates it."""
    if value.__class__ is bytes or value.__class__ is int:  # int: a counter (node.keyspace)
        return sys.getsizeof(value)
    n = len(value)
    if not n:
        return sys.getsizeof(value)
    if value.__class__ is ListValue or value.__class__ is SetValue:
        elements = value
    elif value.__class__ is HashValue:
        elements = (k + v for k, v in value.items())
    else:  # ZSet: the member and its score (a float)
        elements = (m + b"12345678" for m in value.members())
    picked = list(islice(elements, samples or n))
    average = sum(len(e) + BYTES_OVERHEAD for e in picked) / len(picked)
    return sys.getsizeof(value) + int(n * (average + COLLECTION_ELEM_OVERHEAD))


# ---- STATS -----------------------------------------------------------------------


def memory_stats(c, argv):
    node = c.node
    m = memory_report(node)
    used, startup = m["used"], m["startup"]
    net = used - startup
    dbs = [db for db in node.keyspace.dbs if db.data]
    keys = sum(len(db.data) for db in dbs)
    out = Pairs(
        [
            (b"peak.allocated", m["peak"]),
            (b"total.allocated", used),
            (b"startup.allocated", startup),
            (b"replication.backlog", m["repl_backlog"]),
            (b"clients.slaves", m["clients_slaves"]),
            (b"clients.normal", m["clients_normal"]),
            (b"cluster.links", 0),
            (b"aof.buffer", m["aof_buffer"]),
            (b"lua.caches", 0),
            (b"functions.caches", 0),
        ]
    )
    for db in dbs:
        overheads = [
            (b"overhead.hashtable.main", sys.getsizeof(db.data)),
            (b"overhead.hashtable.expires", sys.getsizeof(db.expires)),
            (b"overhead.hashtable.slot-to-keys", 0),  # cluster mode only
        ]
        out.append((b"db.%d" % db.id, Pairs(overheads)))
    out += [
        (b"overhead.total", m["overhead"]),
        (b"keys.count", keys),
        (b"keys.bytes-per-key", net // keys if keys else 0),
        (b"dataset.bytes", m["dataset"]),
        (b"dataset.percentage", m["dataset"] * 100.0 / net if net > 0 else 0.0),
        (b"peak.percentage", used * 100.0 / m["peak"]),
        # No allocator to ask: it is taken to hold exactly what is counted.
        (b"allocator.allocated", used),
        (b"allocator.active", used),
        (b"allocator.resident", used),
        (b"allocator-fragmentation.ratio", 1.0),
        (b"allocator-fragmentation.bytes", 0),
        (b"allocator-rss.ratio", 1.0),
        (b"allocator-rss.bytes", 0),
        (b"rss-overhead.ratio", 1.0),
        (b"rss-overhead.bytes", 0),
        (b"fragmentation", 1.0),
        (b"fragmentation.bytes", 0),
    ]
    return out


# ---- DOCTOR ----------------------------------------------------------------------

_EMPTY = (
    "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. "
    "Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming "
    "as soon as I finished rebooting.\n"
)
_FINE = "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"
_ISSUES = "Sam, I detected a few issues in this Redis instance memory implants:\n\n"
_PEAK = (
    " * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is "
    "normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is "
    "actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently "
    "bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak "
    "was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other "
    "option is to shutdown and restart the instance.\n\n"
)
_REPLICA_BUFFERS = (
    " * Big replica buffers: The replica output buffers in this instance are greater than 10MB for each replica (on average). "
    "This likely means that there is some replica instance that is struggling receiving data, either because it is too slow "
    "or because of networking issues. As a result, data piles on the master output buffers. Please try to identify what "
    "replica is not receiving data correctly and why. You can use the INFO output in order to check the replicas delays and "
    "the CLIENT LIST command to check the output buffers of each replica.\n\n"
)
_CLIENT_BUFFERS = (
    " * Big client buffers: The clients output buffers in this instance are greater than 200K per client (on average). This "
    "may result from different causes, like Pub/Sub clients subscribed to channels bot not receiving data fast enough, so that "
    "data piles on the Redis instance output buffer, or clients sending commands with large replies or very large sequences "
    "of commands in the same pipeline. Please use the CLIENT LIST command in order to investigate the issue if it causes "
    "problems in your instance, or to understand better why certain clients are using a big amount of memory.\n\n"
)
_SIGN_OFF = "I'm here to keep you safe, Sam. I want to help you.\n"


def memory_doctor(c, argv):
    """Redis's getMemoryDoctorReport, for the findings that have a meaning here (no
    allocator or RSS fragmentation in Python; no scripts)."""
    node = c.node
    m = memory_report(node)
    if m["used"] < 5 * 1024 * 1024:
        return Verbatim(_EMPTY.encode())
    found = []
    if m["peak"] / m["used"] > 1.5:
        found.append(_PEAK)
    replicas = sum(1 for client in node.clients.values() if client.kind == "replica")
    normal = len(node.clients) - replicas
    if normal and m["clients_normal"] // normal > 200 * 1024:
        found.append(_CLIENT_BUFFERS)
    if replicas and m["clients_slaves"] // replicas > 10 * 1024 * 1024:
        found.append(_REPLICA_BUFFERS)
    if not found:
        return Verbatim(_FINE.encode())
    return Verbatim((_ISSUES + "".join(found) + _SIGN_OFF).encode())


# ---- MALLOC-STATS, PURGE, HELP -----------------------------------------------------------


def memory_malloc_stats(c, argv):
    return resp.simple("Stats not supported for the current allocator")


def memory_purge(c, argv):
    # Python's counterpart of handing dirty pages back: collect unreachable cycles now.
    gc.collect()
    return resp.OK


_HELP = [
    "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return memory problems reports.",
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
    "STATS",
    "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
    "HELP",
    "    Prints this help.",
]
_HELP_REPLY = resp.Raw(b"*%d\r\n" % len(_HELP) + b"".join(resp.simple(line) for line in _HELP))


def memory_help(c, argv):
    return _HELP_REPLY


subcommand("memory", "doctor", 2, "", summary="Outputs memory problems report", fn=memory_doctor)
subcommand("memory", "malloc-stats", 2, "", summary="Show allocator internal stats", fn=memory_malloc_stats)
subcommand("memory", "purge", 2, "", summary="Ask the allocator to release memory", fn=memory_purge)
subcommand("memory", "stats", 2, "", summary="Show memory usage details", fn=memory_stats)
subcommand("memory", "usage", -3, "readonly", 2, 2, 1, summary="Estimate the memory usage of a key", fn=memory_usage)
subcommand("memory", "help", 2, "loading stale", summary="Show helpful text about the different subcommands", fn=memory_help)
