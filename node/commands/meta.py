"""What COMMAND INFO, COMMAND DOCS and ACLs say about a command, derived from the table.

Flags, arity, key positions and ACL categories come from
node.commands.table.Command. Redis's own description of the commands we have
(key specs, tips, ACL categories, the COMMAND DOCS text and argument trees)
is kept as Redis 7.0.15 reports it in redis_commands.json, captured by
scripts/capture_command_docs.py, and served as it is. A command Redis does not have falls back on the metadata its
registration gives (acl, tips, key_flags, key_specs, docs); without key specs,
one is derived from first/last/step the way Redis describes a fixed key range,
and a command whose keys are found by a key_finder (movable keys) gets an
"incomplete" spec of unknown shape, as Redis does for keys it cannot describe.

Replies are built in Redis 7.0's shapes: sets where Redis sends sets (flags,
categories, tips, key specs), maps where it sends maps, simple strings for
flag names (redis-cli asserts they are status replies).
"""

import json
from pathlib import Path

from ..resp import Pairs

# name ("get", "client|list") -> what Redis says about it; see the module docstring.
REDIS = json.loads((Path(__file__).parent / "redis_commands.json").read_text(encoding="utf-8"))

# COMMAND INFO lists flags in this order; others (may_replicate, ...) are hidden, as in Redis.
FLAG_ORDER = (
    "write", "readonly", "denyoom", "module", "admin", "pubsub", "noscript", "blocking",
    "loading", "stale", "skip_monitor", "skip_slowlog", "asking", "fast", "no_auth",
    "no_mandatory_keys", "no_async_loading", "no_multi", "movablekeys", "allow_busy",
)

# ACL categories in Redis's order (ACL CAT, COMMAND INFO).
ACL_CATEGORIES = (
    "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
    "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking",
    "dangerous", "connection", "transaction", "scripting",
)

# The category a command's group implies when its registration names none.
_GROUP_CATEGORY = {
    "generic": "keyspace", "string": "string", "list": "list", "set": "set",
    "sorted-set": "sortedset", "hash": "hash", "pubsub": "pubsub", "transactions": "transaction",
    "connection": "connection", "scripting": "scripting", "hyperloglog": "hyperloglog",
    "geo": "geo", "stream": "stream", "bitmap": "bitmap",
}

# Group names as COMMAND DOCS spells them, from the spellings registrations use.
_GROUP_ALIASES = {"sorted_set": "sorted-set", "zset": "sorted-set", "sortedset": "sorted-set", "transaction": "transactions", "strings": "string", "lists": "list", "hashes": "hash", "sets": "set", "keys": "generic"}

_KEY_FLAG_ORDER = ("RO", "RW", "OW", "RM", "access", "update", "insert", "delete", "not_key", "incomplete", "variable_flags")
_ARG_FLAG_ORDER = ("optional", "multiple", "multiple_token")


def group_name(cmd) -> str:
    """The group as COMMAND DOCS names it."""
    group = cmd.group.lower()
    return _GROUP_ALIASES.get(group, group.replace("_", "-"))


def acl_categories(cmd) -> list:
    """The command's ACL categories (no '@'), in Redis's order.

    Redis's own list for a command it has. Else the registration's, or the group's
    (a container has none of its own); then those its flags imply, as Redis's
    setImplicitACLCategories adds them."""
    known = REDIS.get(cmd.name)
    if known is not None:
        return known["acl"]
    if cmd.acl is not None:
        cats = set(cmd.acl)
    elif cmd.subcommands:
        cats = set()
    else:
        implied = _GROUP_CATEGORY.get(group_name(cmd))
        cats = {implied} if implied else set()
    flags = cmd.flags
    if "write" in flags:
        cats.add("write")
    if "readonly" in flags and "scripting" not in cats:
        cats.add("read")
    if "admin" in flags:
        cats.update(("admin", "dangerous"))
    if "pubsub" in flags:
        cats.add("pubsub")
    if "fast" in flags:
        cats.add("fast")
    if "blocking" in flags:
        cats.add("blocking")
    if "fast" not in cats:
        cats.add("slow")
    return [name for name in ACL_CATEGORIES if name in cats]


def visible_flags(cmd) -> list:
    flags = set(cmd.flags)
    if cmd.key_finder is not None:
        flags.add("movablekeys")
    return [name for name in FLAG_ORDER if name in flags]


# ---- key specs ----------------------------------------------------------


def range_spec(flags, index, lastkey=0, keystep=1, limit=0, notes=None) -> dict:
    """A key spec: keys from argv[index], up to lastkey past it (-1: to the end)."""
    spec = {"flags": flags.split(), "begin_search": {"type": "index", "spec": {"index": index}}, "find_keys": {"type": "range", "spec": {"lastkey": lastkey, "keystep": keystep, "limit": limit}}}
    if notes:
        spec["notes"] = notes
    return spec


def keynum_spec(flags, index, keynumidx=0, firstkey=1, keystep=1, notes=None) -> dict:
    """A key spec: a key count at argv[index + keynumidx], keys from argv[index + firstkey]."""
    spec = {"flags": flags.split(), "begin_search": {"type": "index", "spec": {"index": index}}, "find_keys": {"type": "keynum", "spec": {"keynumidx": keynumidx, "firstkey": firstkey, "keystep": keystep}}}
    if notes:
        spec["notes"] = notes
    return spec


def keyword_spec(flags, keyword, startfrom, lastkey=-1, keystep=1, limit=0, notes=None) -> dict:
    """A key spec: keys after `keyword` (searched from argv[startfrom]; negative: from
    the end backwards), in a range as for range_spec."""
    spec = {"flags": flags.split(), "begin_search": {"type": "keyword", "spec": {"keyword": keyword, "startfrom": startfrom}}, "find_keys": {"type": "range", "spec": {"lastkey": lastkey, "keystep": keystep, "limit": limit}}}
    if notes:
        spec["notes"] = notes
    return spec


def key_specs(cmd) -> list:
    """The command's key specs: Redis's, else the registered ones, else derived from the table."""
    known = REDIS.get(cmd.name)
    if known is not None:
        return known["key_specs"]
    if cmd.key_specs is not None:
        return cmd.key_specs
    specs = []
    default_flags = ["RO", "access"] if "readonly" in cmd.flags else ["RW", "access", "update"]
    if cmd.first_key > 0:
        last = cmd.last_key if cmd.last_key < 0 else cmd.last_key - cmd.first_key
        flags = list(cmd.key_flags) if cmd.key_flags else default_flags
        specs.append({"flags": flags, "begin_search": {"type": "index", "spec": {"index": cmd.first_key}}, "find_keys": {"type": "range", "spec": {"lastkey": last, "keystep": cmd.step or 1, "limit": 0}}})
    if cmd.key_finder is not None:
        specs.append({"flags": default_flags + ["incomplete"], "begin_search": {"type": "unknown", "spec": {}}, "find_keys": {"type": "unknown", "spec": {}}})
    return specs


def has_keys(cmd) -> bool:
    return cmd.first_key > 0 or cmd.key_finder is not None or bool(key_specs(cmd))


def tips(cmd) -> list:
    known = REDIS.get(cmd.name)
    return known["tips"] if known is not None else list(cmd.tips)



def _spec_reply(spec):
    out = Pairs()
    if spec.get("notes"):
        out.append((b"notes", spec["notes"].encode()))
    out.append((b"flags", key_flag_set(spec["flags"])))
    for part in ("begin_search", "find_keys"):
        inner = spec[part]
        fields = Pairs((k.encode(), v.encode() if isinstance(v, str) else v) for k, v in inner["spec"].items())
        out.append((part.encode(), Pairs([(b"type", inner["type"].encode()), (b"spec", fields)])))
    return out


def key_flag_set(flags):
    """Key spec flags as COMMAND replies them: a set of simple strings in Redis's order."""
    return RSet(_ordered(flags, _KEY_FLAG_ORDER))


def _ordered(names, order):
    known = [n for n in order if n in names]
    return known + [n for n in names if n not in order]


# ---- encoding ----------------------------------------------------------------


class RSet(list):
    """Items sent as a RESP3 set (an array in RESP2), in this order."""

    __slots__ = ()


def encode_tree(value, resp3: bool) -> bytes:
    """Encode a metadata reply: str is a simple string (flag and category names),
    bytes a bulk string, int an integer, list an array, Pairs a map, RSet a set."""
    out = []
    _encode(value, resp3, out.append)
    return b"".join(out)


def _encode(value, resp3, append):
    cls = value.__class__
    if cls is str:
        append(b"+%s\r\n" % value.encode())
    elif cls is bytes:
        append(b"$%d\r\n%s\r\n" % (len(value), value))
    elif cls is int:
        append(b":%d\r\n" % value)
    elif value is None:
        append(b"_\r\n" if resp3 else b"$-1\r\n")
    elif cls is Pairs:
        append((b"%%%d\r\n" if resp3 else b"*%d\r\n") % (len(value) * (1 if resp3 else 2)))
        for k, v in value:
            _encode(k, resp3, append)
            _encode(v, resp3, append)
    else:
        append((b"~%d\r\n" if resp3 and cls is RSet else b"*%d\r\n") % len(value))
        for item in value:
            _encode(item, resp3, append)


# ---- COMMAND INFO ----------------------------------------------------------


def info_tree(cmd):
    """One COMMAND INFO entry (encode with encode_tree)."""
    subs = cmd.subcommands
    return [
        cmd.name.encode(),
        cmd.arity,
        RSet(visible_flags(cmd)),
        cmd.first_key,
        cmd.last_key,
        cmd.step,
        RSet("@" + c for c in acl_categories(cmd)),
        RSet(t.encode() for t in tips(cmd)),
        RSet(_spec_reply(s) for s in key_specs(cmd)),
        # Redis lists subcommands in its dict's order, seeded per process: any order is its.
        [info_tree(s) for s in subs.values()] if subs else RSet(),
    ]


# ---- COMMAND DOCS ----------------------------------------------------------


def docs_tree(cmd):
    """One COMMAND DOCS map (encode with encode_tree)."""
    known = REDIS.get(cmd.name)
    if known is not None:
        docs = known["docs"]
        summary, since, group = docs.get("summary"), docs.get("since"), docs["group"]
    else:
        docs = cmd.docs or {}
        summary, since, group = cmd.summary, cmd.since, group_name(cmd)
    out = Pairs()
    if summary:
        out.append((b"summary", summary.encode()))
    if since:
        out.append((b"since", since.encode()))
    out.append((b"group", group.encode()))
    if docs.get("complexity"):
        out.append((b"complexity", docs["complexity"].encode()))
    if docs.get("doc_flags"):
        out.append((b"doc_flags", RSet(docs["doc_flags"])))
    for field in ("deprecated_since", "replaced_by"):
        if docs.get(field):
            out.append((field.encode(), docs[field].encode()))
    if docs.get("history"):
        out.append((b"history", RSet([version.encode(), text.encode()] for version, text in docs["history"])))
    if docs.get("arguments"):
        out.append((b"arguments", [_argument(a) for a in docs["arguments"]]))
    if cmd.subcommands:
        out.append((b"subcommands", Pairs((s.name.encode(), docs_tree(s)) for s in cmd.subcommands.values())))
    return out


def _argument(arg):
    out = Pairs([(b"name", arg["name"].encode()), (b"type", arg["type"].encode())])
    if "key_spec_index" in arg:
        out.append((b"key_spec_index", arg["key_spec_index"]))
    for field in ("token", "summary", "since", "deprecated_since"):
        if arg.get(field):
            out.append((field.encode(), arg[field].encode()))
    if arg.get("flags"):
        out.append((b"flags", RSet(_ordered(arg["flags"], _ARG_FLAG_ORDER))))
    if arg["type"] in ("oneof", "block"):
        out.append((b"arguments", [_argument(a) for a in arg.get("arguments", ())]))
    return out


# ---- COMMAND GETKEYS ------------------------------------------------------


def _spec_keys(spec, argv):
    """Indexes one key spec selects in argv: None when argv does not fit the spec,
    [] when its keyword is absent (Redis's getKeysUsingKeySpecs)."""
    begin, find = spec["begin_search"], spec["find_keys"]
    n = len(argv)
    if begin["type"] == "index":
        first = begin["spec"]["index"]
    elif begin["type"] == "keyword":
        first = _after_keyword(argv, begin["spec"]["keyword"], begin["spec"]["startfrom"])
        if first is None:
            return []
    else:
        return None
    fk = find["spec"]
    if find["type"] == "range":
        step = fk["keystep"]
        if fk["lastkey"] >= 0:
            last = first + fk["lastkey"]
        elif not fk["limit"]:
            last = n + fk["lastkey"]
        else:
            last = first + ((n - first) // fk["limit"] + fk["lastkey"])
    elif find["type"] == "keynum":
        try:
            count = int(argv[first + fk["keynumidx"]])
        except (ValueError, IndexError):
            return None
        if count < 0:
            return None
        first += fk["firstkey"]
        last = first + count - 1
        step = fk["keystep"]
    else:
        return None
    if last >= n or last < first or first >= n:
        return None
    return list(range(first, last + 1, step))


def _after_keyword(argv, keyword, startfrom):
    """The index after `keyword`, searched from startfrom toward the end (or, when
    negative, from the end backwards), never at the far end itself, as Redis does."""
    word = keyword.encode().lower()
    n = len(argv)
    start = startfrom if startfrom > 0 else n + startfrom
    stop = n - 1 if startfrom > 0 else 1
    step = 1 if start <= stop else -1
    for i in range(start, stop, step):
        if i >= n or i < 1:
            break
        if argv[i].lower() == word:
            return i + 1
    return None


def keys_with_flags(cmd, argv):
    """[(index, key spec flags)] for argv's keys; None when argv does not fit the command.

    Redis's getKeysFromCommandWithSpecs: the key specs when they describe the keys
    completely and their flags do not depend on the arguments, else the command's
    own way of finding its keys."""
    specs = key_specs(cmd)
    if all(_describes(spec) for spec in specs):
        return _keys_by_specs(specs, argv)
    if cmd.name in KEYS_AND_FLAGS:
        return KEYS_AND_FLAGS[cmd.name](argv)
    if cmd.key_finder is None:
        return None
    try:
        indexes = cmd.key_finder(argv)
    except Exception:  # a key finder that cannot read argv: Redis's "invalid arguments"
        return None
    if indexes is None or any(i >= len(argv) or i < 1 for i in indexes):
        return None
    by_index = {}
    for spec in specs:
        if spec["begin_search"]["type"] != "unknown":
            for i in _spec_keys(spec, argv) or ():
                by_index.setdefault(i, spec["flags"])
    default = ["RO", "access"] if "readonly" in cmd.flags else ["RW", "access", "update"]
    return [(i, by_index.get(i, default)) for i in indexes]


def _describes(spec) -> bool:
    """Whether a key spec finds its keys and their flags by itself (else Redis asks the
    command's own key finder)."""
    flags = spec["flags"]
    return "incomplete" not in flags and "variable_flags" not in flags and spec["begin_search"]["type"] != "unknown"


def _keys_by_specs(specs, argv):
    """Redis's getKeysUsingKeySpecs: None when argv does not fit a spec."""
    out = []
    for spec in specs:
        if "not_key" in spec["flags"]:
            continue
        found = _spec_keys(spec, argv)
        if found is None:
            return None
        out.extend((i, spec["flags"]) for i in found)
    return out


def _set_key_flags(argv):
    """Redis's setGetKeys: with GET, SET reads the old value too."""
    for arg in argv[3:]:
        if arg.lower() == b"get":
            return [(1, ["RW", "access", "update"])]
    return [(1, ["OW", "update"])]


# Redis's getkeys procedures where its key specs cannot tell the keys' flags (a
# "variable_flags" spec, a keyword found anywhere): name -> fn(argv) -> [(index, flags)].
KEYS_AND_FLAGS = {"set": _set_key_flags}
