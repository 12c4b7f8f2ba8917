"""COMMAND DOCS and key-spec metadata of the generic key commands, as Redis 7.0 reports it."""

from .meta import range_spec


def key(name="key", multiple=False, index=0):
    arg = {"name": name, "type": "key", "key_spec_index": index}
    if multiple:
        arg["flags"] = ["multiple"]
    return arg


def docs(complexity, *arguments, history=()):
    return {"complexity": complexity, "history": list(history), "arguments": list(arguments)}


_CONDITION = {
    "name": "condition",
    "type": "oneof",
    "since": "7.0.0",
    "flags": ["optional"],
    "arguments": [{"name": t.lower(), "type": "pure-token", "token": t} for t in ("NX", "XX", "GT", "LT")],
}
_EXPIRE_HISTORY = [("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`.")]
_TTL_HISTORY = [("2.8.0", "Added the -2 reply.")]
_ONE_KEY = docs("O(1)", key())

DOCS = {
    "del": docs(
        "O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, "
        "the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. "
        "Removing a single key that holds a string value is O(1).",
        key(multiple=True),
    ),
    "unlink": docs(
        "O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to "
        "reclaim memory, where N is the number of allocations the deleted objects where composed of.",
        key(multiple=True),
    ),
    "exists": docs("O(N) where N is the number of keys to check.", key(multiple=True), history=[("3.0.3", "Accepts multiple `key` arguments.")]),
    "touch": docs("O(N) where N is the number of keys that will be touched.", key(multiple=True)),
    "type": _ONE_KEY,
    "keys": docs(
        "O(N) with N being the number of keys in the database, under the assumption that the key names in the database "
        "and the given pattern have limited length.",
        {"name": "pattern", "type": "pattern"},
    ),
    "scan": docs(
        "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back "
        "to 0. N is the number of elements inside the collection.",
        {"name": "cursor", "type": "integer"},
        {"name": "pattern", "type": "pattern", "token": "MATCH", "flags": ["optional"]},
        {"name": "count", "type": "integer", "token": "COUNT", "flags": ["optional"]},
        {"name": "type", "type": "string", "token": "TYPE", "since": "6.0.0", "flags": ["optional"]},
        history=[("6.0.0", "Added the `TYPE` subcommand.")],
    ),
    "randomkey": docs("O(1)"),
    "rename": docs("O(1)", key(), key("newkey", index=1)),
    "renamenx": docs(
        "O(1)",
        key(),
        key("newkey", index=1),
        history=[("3.2.0", "The command no longer returns an error when source and destination names are the same.")],
    ),
    "copy": docs(
        "O(N) worst case for collections, where N is the number of nested items. O(1) for string values.",
        key("source"),
        key("destination", index=1),
        {"name": "destination-db", "type": "integer", "token": "DB", "flags": ["optional"]},
        {"name": "replace", "type": "pure-token", "token": "REPLACE", "flags": ["optional"]},
    ),
    "move": docs("O(1)", key(), {"name": "db", "type": "integer"}),
    "expire": docs("O(1)", key(), {"name": "seconds", "type": "integer"}, _CONDITION, history=_EXPIRE_HISTORY),
    "pexpire": docs("O(1)", key(), {"name": "milliseconds", "type": "integer"}, _CONDITION, history=_EXPIRE_HISTORY),
    "expireat": docs("O(1)", key(), {"name": "unix-time-seconds", "type": "unix-time"}, _CONDITION, history=_EXPIRE_HISTORY),
    "pexpireat": docs("O(1)", key(), {"name": "unix-time-milliseconds", "type": "unix-time"}, _CONDITION, history=_EXPIRE_HISTORY),
    "ttl": docs("O(1)", key(), history=_TTL_HISTORY),
    "pttl": docs("O(1)", key(), history=_TTL_HISTORY),
    "expiretime": _ONE_KEY,
    "pexpiretime": _ONE_KEY,
    "persist": _ONE_KEY,
    "object": docs("Depends on subcommand."),
    "object|help": docs("O(1)"),
    "object|key": _ONE_KEY,
}

# Commands whose keys play different roles (source read or deleted, destination written).
KEY_SPECS = {
    "rename": [range_spec("RW access delete", 1), range_spec("OW update", 2)],
    "renamenx": [range_spec("RW access delete", 1), range_spec("OW insert", 2)],
    "copy": [range_spec("RO access", 1), range_spec("OW update", 2)],
}

MULTI_KEY_TIPS = "request_policy:multi_shard response_policy:agg_sum"
