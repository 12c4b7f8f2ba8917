"""Pub/Sub: SUBSCRIBE and friends, PUBLISH, PUBSUB introspection; shard channels too.

The node keeps the registries (node.channels, node.patterns, node.shard_channels:
name -> set of clients); each client keeps its own subscriptions as ordered sets
(dicts), so UNSUBSCRIBE/PUNSUBSCRIBE without arguments answer in subscription
order. A client with any subscription is of kind "pubsub": in RESP2 it may then
only run the subscribe-context commands (node.core enforces that).

Every (un)subscription is confirmed by its own message, a push in RESP3 and an
array in RESP2, so a command subscribing to several channels replies with
several messages, pre-encoded here for the client's protocol.
"""

from .. import resp
from ..errors import CommandError
from ..glob import matches
from .table import command, subcommand

_PUSH3 = b">3\r\n"
_ARRAY3 = b"*3\r\n"


def _bulk(data: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(data), data)


_SUBSCRIBE = _bulk(b"subscribe")
_UNSUBSCRIBE = _bulk(b"unsubscribe")
_PSUBSCRIBE = _bulk(b"psubscribe")
_PUNSUBSCRIBE = _bulk(b"punsubscribe")
_SSUBSCRIBE = _bulk(b"ssubscribe")
_SUNSUBSCRIBE = _bulk(b"sunsubscribe")
_MESSAGE = _bulk(b"message")
_PMESSAGE = _bulk(b"pmessage")
_SMESSAGE = _bulk(b"smessage")


def _confirm(c, kind: bytes, name, count: int) -> bytes:
    """One (un)subscribe confirmation: [kind, name or nil, subscription count]."""
    if name is None:
        shown = b"_\r\n" if c.resp3 else b"$-1\r\n"
    else:
        shown = _bulk(name)
    return (_PUSH3 if c.resp3 else _ARRAY3) + kind + shown + b":%d\r\n" % count


def _shard_count(c) -> int:
    return len(c.shard_channels)


def _count(c) -> int:
    # Channels and patterns count together; shard channels on their own.
    return len(c.channels) + len(c.patterns)


def _settle_kind(c):
    """The pubsub state lasts while any subscription, shard ones included, remains."""
    if c.channels or c.patterns or c.shard_channels:
        if c.kind == "normal":
            c.kind = "pubsub"
    elif c.kind == "pubsub":
        c.kind = "normal"


def _subscribe(c, registry, mine, names, kind, count):
    out = []
    for name in names:
        if name not in mine:
            mine[name] = None
            subs = registry.get(name)
            if subs is None:
                subs = registry[name] = set()
            subs.add(c)
        out.append(_confirm(c, kind, name, count(c)))
    _settle_kind(c)
    return resp.Raw(b"".join(out))


def _unsubscribe(c, registry, mine, names, kind, count):
    """Drop the named subscriptions, or all of them when none is named. With
    nothing to drop, one confirmation with a nil name still answers."""
    if not names:
        names = list(mine)
        if not names:
            return resp.Raw(_confirm(c, kind, None, count(c)))
    out = []
    for name in names:
        if name in mine:
            del mine[name]
            subs = registry.get(name)
            if subs is not None:
                subs.discard(c)
                if not subs:
                    del registry[name]
        out.append(_confirm(c, kind, name, count(c)))
    _settle_kind(c)
    return resp.Raw(b"".join(out))


@command("subscribe", -2, "pubsub noscript loading stale", group="pubsub", summary="Listen for messages published to the given channels", since="2.0.0")
def subscribe(c, argv):
    return _subscribe(c, c.node.channels, c.channels, argv[1:], _SUBSCRIBE, _count)


@command("unsubscribe", -1, "pubsub noscript loading stale", group="pubsub", summary="Stop listening for messages posted to the given channels", since="2.0.0")
def unsubscribe(c, argv):
    return _unsubscribe(c, c.node.channels, c.channels, argv[1:], _UNSUBSCRIBE, _count)


@command("psubscribe", -2, "pubsub noscript loading stale", group="pubsub", summary="Listen for messages published to channels matching the given patterns", since="2.0.0")
def psubscribe(c, argv):
    return _subscribe(c, c.node.patterns, c.patterns, argv[1:], _PSUBSCRIBE, _count)


@command("punsubscribe", -1, "pubsub noscript loading stale", group="pubsub", summary="Stop listening for messages posted to channels matching the given patterns", since="2.0.0")
def punsubscribe(c, argv):
    return _unsubscribe(c, c.node.patterns, c.patterns, argv[1:], _PUNSUBSCRIBE, _count)


@command("ssubscribe", -2, "pubsub noscript loading stale", 1, -1, 1, group="pubsub", summary="Listen for messages published to the given shard channels", since="7.0.0")
def ssubscribe(c, argv):
    # EXEC runs with Redis's deny-blocking flag, which SUBSCRIBE waives inside
    # MULTI for backward compatibility but SSUBSCRIBE does not.
    if c.in_exec:
        raise CommandError("ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client")
    return _subscribe(c, c.node.shard_channels, c.shard_channels, argv[1:], _SSUBSCRIBE, _shard_count)


@command("sunsubscribe", -1, "pubsub noscript loading stale", 1, -1, 1, group="pubsub", summary="Stop listening for messages posted to the given shard channels", since="7.0.0")
def sunsubscribe(c, argv):
    return _unsubscribe(c, c.node.shard_channels, c.shard_channels, argv[1:], _SUNSUBSCRIBE, _shard_count)


# ---- publishing --------------------------------------------------------


def publish_message(node, channel: bytes, message: bytes, shard: bool = False) -> int:
    """Deliver a message to the channel's subscribers and, unless shard, to every
    client whose pattern matches; returns how many deliveries were made (a client
    matching by channel and by two patterns counts three times)."""
    node.stats["pubsub_messages"] += 1
    receivers = 0
    subs = (node.shard_channels if shard else node.channels).get(channel)
    if subs:
        body = (_SMESSAGE if shard else _MESSAGE) + _bulk(channel) + _bulk(message)
        receivers += _deliver(subs, b">3\r\n" + body, b"*3\r\n" + body)
    if not shard and node.patterns:
        tail = _bulk(channel) + _bulk(message)
        for pattern, clients in list(node.patterns.items()):
            if matches(pattern, channel):
                body = _PMESSAGE + _bulk(pattern) + tail
                receivers += _deliver(clients, b">4\r\n" + body, b"*4\r\n" + body)
    return receivers


def _deliver(clients, as_push: bytes, as_array: bytes) -> int:
    # A copy: a push over its output limit may disconnect the client, which
    # removes it from the registry being walked.
    targets = list(clients)
    for client in targets:
        client.push(as_push if client.resp3 else as_array)
    return len(targets)


@command("publish", 3, "pubsub loading stale fast", group="pubsub", summary="Post a message to a channel", since="2.0.0")
def publish(c, argv):
    node = c.node
    receivers = publish_message(node, argv[1], argv[2])
    # Redis forwards PUBLISH to replicas (not to the AOF), so their subscribers hear it too.
    if node.repl_listeners:
        node.emit(c.dbnum, argv, repl_only=True)
    return receivers


@command("spublish", 3, "pubsub loading stale fast", 1, 1, 1, group="pubsub", summary="Post a message to a shard channel", since="7.0.0")
def spublish(c, argv):
    node = c.node
    receivers = publish_message(node, argv[1], argv[2], shard=True)
    if node.repl_listeners:
        node.emit(c.dbnum, argv, repl_only=True)
    return receivers


# ---- PUBSUB ------------------------------------------------------------

_HELP = [
    "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
    "HELP",
    "    Prints this help.",
]
_HELP_REPLY = resp.Raw(b"*%d\r\n" % len(_HELP) + b"".join(resp.simple(line) for line in _HELP))


def _channels(registry, argv, name):
    if len(argv) > 3:
        raise _bad_subcommand(name)
    if len(argv) == 2:
        return list(registry)
    pattern = argv[2]
    return [channel for channel in registry if matches(pattern, channel)]


def _numsub(registry, argv):
    # A flat [channel, count, ...] array in RESP3 as well, as Redis 7.0 replies.
    out = []
    for channel in argv[2:]:
        out.append(channel)
        out.append(len(registry.get(channel, ())))
    return out


def _bad_subcommand(name: str) -> CommandError:
    return CommandError("ERR unknown subcommand or wrong number of arguments for '%s'. Try PUBSUB HELP." % name)


def _arity_error(sub: str) -> CommandError:
    return CommandError("ERR wrong number of arguments for 'pubsub|%s' command" % sub)


@command("pubsub", -2, "", group="pubsub", summary="A container for Pub/Sub commands", since="2.8.0")
def pubsub(c, argv):
    sub = argv[1].lower()
    node = c.node
    if sub == b"channels":
        return _channels(node.channels, argv, "CHANNELS")
    if sub == b"numsub":
        return _numsub(node.channels, argv)
    if sub == b"numpat":
        if len(argv) != 2:
            raise _arity_error("numpat")
        return len(node.patterns)
    if sub == b"shardchannels":
        return _channels(node.shard_channels, argv, "SHARDCHANNELS")
    if sub == b"shardnumsub":
        return _numsub(node.shard_channels, argv)
    if sub == b"help":
        if len(argv) != 2:
            raise _arity_error("help")
        return _HELP_REPLY
    raise CommandError("ERR unknown subcommand '%s'. Try PUBSUB HELP." % argv[1].decode("utf-8", "replace"))


subcommand("pubsub", "channels", -2, "pubsub loading stale", summary="List active channels")
subcommand("pubsub", "numpat", 2, "pubsub loading stale", summary="Get the count of unique patterns pattern subscriptions")
subcommand("pubsub", "numsub", -2, "pubsub loading stale", summary="Get the count of subscribers for channels")
subcommand("pubsub", "help", 2, "loading stale", summary="Show helpful text about the different subcommands")
subcommand("pubsub", "shardchannels", -2, "pubsub loading stale", summary="List active shard channels")
subcommand("pubsub", "shardnumsub", -2, "pubsub loading stale", summary="Get the count of subscribers for shard channels")
