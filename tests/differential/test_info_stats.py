"""INFO counters compared with redis-server: keyspace_hits / keyspace_misses (which lookups
count) and commandstats for container commands.

Redis counts a read's lookup (lookupKeyRead, also the no-touch reads of EXISTS, TYPE,
TTL and OBJECT) and not a write's (lookupKeyWrite), except where a write command
reads a value back or reads its sources (SET ... GET, GETDEL, the STORE forms, COPY,
SORT). Each command runs on the same small dataset on both servers; the counters'
change must match.
"""

import pytest
import redis as redis_py

from tests.resp_wire import Conn

SETUP = [
    ("SET", "s", "5"),
    ("SET", "t", "7", "EX", "100"),
    ("RPUSH", "l", "3", "1", "2"),
    ("HSET", "h", "f", "1"),
    ("HSET", "w_3", "f", "9"),
    ("SADD", "S", "a", "b"),
    ("SADD", "S2", "b"),
    ("ZADD", "z", "1", "a", "2", "b"),
]

COMMANDS = """
GET s|GET nx|MGET s nx t|SET s 1|SET s 1 GET|SET nx 1 GET|SET nx 1 NX|SETNX s 1|GETSET s 2|GETDEL s|GETDEL nx|
GETEX s EX 10|MSET s 1 t 2|MSETNX s 1|INCR s|INCR t|INCRBY nx 2|DECR s|INCRBYFLOAT s 1.5|APPEND s x|APPEND nx x|
STRLEN s|GETRANGE s 0 1|SETRANGE s 1 x|SUBSTR s 0 1|LCS s t|
DEL s nx|UNLINK s|EXISTS s nx s|TYPE s|TYPE nx|KEYS *|SCAN 0|SCAN 0 TYPE list|SCAN 0 TYPE string MATCH s*|RANDOMKEY|RENAME s s9|RENAMENX s l|COPY s s8|COPY nx s8|MOVE s 1|
EXPIRE s 10|PEXPIRE nx 10|TTL s|TTL nx|PTTL t|EXPIRETIME s|PERSIST t|TOUCH s nx|OBJECT ENCODING s|OBJECT FREQ nx|
LPUSH l x|RPUSH nx x|LPUSHX nx x|LPOP l|RPOP nx|LRANGE l 0 -1|LLEN l|LINDEX l 0|LSET l 0 x|LREM l 0 1|LTRIM l 0 1|
LINSERT l BEFORE 1 x|LPOS l 2|LMOVE l l2 LEFT RIGHT|RPOPLPUSH l l|LMPOP 2 nx l LEFT|BLPOP nx l 1|
HSET h g 2|HSETNX h f 2|HGET h f|HGET nx f|HMGET h f g|HDEL h f|HLEN h|HEXISTS h f|HGETALL h|HKEYS nx|HVALS h|
HINCRBY h f 1|HINCRBYFLOAT h f 1|HSTRLEN h f|HRANDFIELD h|HSCAN h 0|
SADD S c|SREM S a|SISMEMBER S a|SMISMEMBER nx a|SMEMBERS S|SCARD S|SPOP S|SRANDMEMBER S|SMOVE S S2 a|SINTER S S2|
SINTERCARD 2 S nx|SUNION S S2|SDIFF S S2|SINTERSTORE d S S2|SUNIONSTORE d S nx|SDIFFSTORE d S S2|SSCAN S 0|
ZADD z 3 c|ZINCRBY z 1 a|ZREM z a|ZSCORE z a|ZMSCORE z a|ZCARD z|ZCOUNT z 0 5|ZLEXCOUNT z - +|ZRANGE z 0 -1|
ZRANGESTORE d z 0 -1|ZRANGESTORE d nx 0 -1|ZRANGEBYSCORE z 0 5|ZRANK z a|ZREMRANGEBYRANK z 0 0|ZPOPMIN z|ZPOPMAX nx|
ZUNIONSTORE d 2 z nx|ZINTERSTORE d 1 z|ZUNION 1 z|ZINTER 2 z S|ZDIFF 1 z|ZDIFFSTORE d 1 z|ZRANDMEMBER z|ZSCAN z 0|
BZPOPMIN nx z 1|SORT l|SORT l STORE d|SORT l BY w_* GET w_*->f|SORT l BY nosort STORE d|SORT_RO l
"""


def _commands():
    return [line.split() for line in COMMANDS.replace("\n", "").split("|") if line.strip()]


def _stats(client):
    info = client.info("stats")
    return info["keyspace_hits"], info["keyspace_misses"]


def _delta(server, argv, in_multi):
    client = redis_py.Redis(host=server.host, port=server.port, protocol=2, socket_timeout=10)
    try:
        client.flushall()
        for command in SETUP:
            client.execute_command(*command)
        before = _stats(client)
        try:
            if in_multi:
                pipe = client.pipeline(transaction=True)
                pipe.execute_command(*argv)
                pipe.execute(raise_on_error=False)
            else:
                client.execute_command(*argv)
        except redis_py.ResponseError:
            pass  # an error reply still counts the lookups made before it
        after = _stats(client)
        return after[0] - before[0], after[1] - before[1]
    finally:
        client.close()


@pytest.mark.parametrize("in_multi", [False, True], ids=["plain", "in-multi"])
def test_keyspace_hits_and_misses_count_as_in_redis(redis, triokv, in_multi):
    differ = []
    for argv in _commands():
        if in_multi and argv[0].startswith("B"):
            continue  # a blocking command inside MULTI does not block: covered by the plain run
        expected = _delta(redis, argv, in_multi)
        got = _delta(triokv, argv, in_multi)
        if got != expected:
            differ.append("%s: redis %s, triokv %s" % (" ".join(argv), expected, got))
    assert not differ, "keyspace hits/misses differ:\n" + "\n".join(differ)


CONTAINER_CALLS = [
    "OBJECT", "CONFIG", "CLIENT", "OBJECT foo", "OBJECT ENCODING", "OBJECT ENCODING nx", "OBJECT FREQ s",
    "CONFIG GET maxmemory", "CLIENT ID", "MEMORY USAGE nx", "MEMORY", "GET", "GET s", "NOSUCHCOMMAND",
]


def _commandstats(server):
    client = redis_py.Redis(host=server.host, port=server.port, protocol=2, socket_timeout=10)
    try:
        client.flushall()
        client.set("s", "5")
        client.config_resetstat()
        for line in CONTAINER_CALLS:
            try:
                client.execute_command(*line.split())
            except redis_py.ResponseError:
                pass
        processed = client.info("stats")["total_commands_processed"]
        stats = client.info("commandstats")
        stats.pop("cmdstat_info", None)
        stats.pop("cmdstat_config|resetstat", None)
        # Times differ; the counts must not.
        counts = {name: (v["calls"], v["rejected_calls"], v["failed_calls"]) for name, v in stats.items()}
        return counts, client.info("errorstats"), processed
    finally:
        client.close()


def test_commandstats_of_containers_and_their_subcommands_as_in_redis(redis, triokv):
    """A container (OBJECT, CONFIG, CLIENT, MEMORY) is counted only when refused for want of a
    subcommand; its subcommands have their own lines; an unknown subcommand counts nowhere
    but in errorstats. Refused calls are not in total_commands_processed."""
    assert _commandstats(triokv) == _commandstats(redis)


# Redis looks a container's subcommand up with the command itself (lookupCommand): an unknown
# subcommand or a subcommand's arity is refused before NOAUTH, MULTI queueing and the RESP2
# subscribe context, and counted as such.
STATE_CALLS = CONTAINER_CALLS + ["CLIENT SET=AME fz", "CLIENT KILL", "CONFIG GET", "OBJECT HELP", "SET s 1", "PING"]


def _in_state(server, state):
    """The raw replies to STATE_CALLS from a client in `state`, and the counters' change."""
    admin = redis_py.Redis(host=server.host, port=server.port, protocol=2, socket_timeout=10)
    try:
        admin.flushall()
        admin.set("s", "5")
        if state == "unauthenticated":
            admin.config_set("requirepass", "pw")
        admin.config_resetstat()
        with Conn(server.host, server.port) as conn:
            if state == "multi":
                conn.call("MULTI")
            elif state == "subscribed":
                conn.call("SUBSCRIBE", "ch")
            replies = [conn.call(*line.split()).raw for line in STATE_CALLS]
            if state == "multi":
                replies.append(conn.call("EXEC").raw)
        if state == "unauthenticated":
            admin.execute_command("AUTH", "pw")
            admin.config_set("requirepass", "")
        stats = admin.info("commandstats")
        for name in ("cmdstat_info", "cmdstat_config|resetstat", "cmdstat_config|set", "cmdstat_auth", "cmdstat_subscribe", "cmdstat_multi"):
            stats.pop(name, None)
        counts = {name: (v["calls"], v["rejected_calls"], v["failed_calls"]) for name, v in stats.items()}
        return replies, counts, admin.info("errorstats")
    finally:
        admin.close()


@pytest.mark.parametrize("state", ["multi", "subscribed", "unauthenticated"])
def test_container_refusals_come_first_in_every_client_state(redis, triokv, state):
    assert _in_state(triokv, state) == _in_state(redis, state)


def _subscribed_replica_replies(server):
    with Conn(server.host, server.port) as admin, Conn(server.host, server.port) as conn:
        admin.call("REPLICAOF", "127.0.0.1", "1")  # nothing listens there: a replica, unsynced
        try:
            conn.call("SUBSCRIBE", "ch")
            return [conn.call("SET", "a", "1").raw, conn.call("GET", "a").raw]
        finally:
            admin.call("REPLICAOF", "NO", "ONE")


def test_write_rules_come_before_the_subscribe_context(redis, triokv):
    assert _subscribed_replica_replies(triokv) == _subscribed_replica_replies(redis)
