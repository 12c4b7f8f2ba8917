"""Smoke tests with Redis's own command-line tools (Debian's redis-tools).

Without redis-cli / redis-benchmark these tests skip, or fail when CI is set.
Outputs were recorded from the tools talking to Redis 7.0.15.
"""

import re
import subprocess

from tests.resp_wire import encode_command
from tests.support import need_binary

TOOL_DEADLINE = 60


def cli(server, *args, stdin: bytes = None, resp3: bool = False) -> subprocess.CompletedProcess:
    argv = [need_binary("redis-cli"), "-h", server.host, "-p", str(server.port)]
    if resp3:
        argv.append("-3")
    return subprocess.run(argv + [str(a) for a in args], input=stdin, capture_output=True, timeout=TOOL_DEADLINE)


def out(server, *args, **kwargs) -> str:
    """stdout of a redis-cli run that must succeed."""
    done = cli(server, *args, **kwargs)
    assert done.returncode == 0, "redis-cli %s exited %d: %r" % (args, done.returncode, done.stderr)
    return done.stdout.decode()


# ---- redis-cli ------------------------------------------------------------------


def test_cli_ping(server):
    assert out(server, "ping") == "PONG\n"


def test_cli_set_get(server):
    assert out(server, "set", "greeting", "hello world") == "OK\n"
    assert out(server, "get", "greeting") == "hello world\n"
    assert out(server, "--no-raw", "get", "greeting") == '"hello world"\n'
    assert out(server, "--no-raw", "get", "nothing") == "(nil)\n"


def test_cli_raw_and_formatted_output(server):
    assert out(server, "set", "nl", "x\ny") == "OK\n"
    assert out(server, "--raw", "get", "nl") == "x\ny\n"
    assert out(server, "--no-raw", "get", "nl") == '"x\\ny"\n'
    assert out(server, "--no-raw", "incr", "cnt") == "(integer) 1\n"
    assert out(server, "--no-raw", "rpush", "l", "a", "b c") == "(integer) 2\n"
    assert out(server, "--no-raw", "lrange", "l", 0, -1) == '1) "a"\n2) "b c"\n'
    assert out(server, "--raw", "lrange", "l", 0, -1) == "a\nb c\n"
    assert out(server, "--no-raw", "lpush", "cnt", "x") == "(error) WRONGTYPE Operation against a key holding the wrong kind of value\n"


def test_cli_info_server(server):
    text = out(server, "INFO", "server")
    assert text.startswith("# Server\r\n")
    assert "redis_version:7.0.15\r\n" in text
    assert "redis_mode:standalone\r\n" in text
    assert "tcp_port:%d\r\n" % server.port in text


def test_cli_resp3_mode(server):
    out(server, "hset", "h", "f", "v")
    out(server, "zadd", "z", "1.5", "m")
    assert out(server, "--no-raw", "hgetall", "h", resp3=True) == '1# "f" => "v"\n'
    assert out(server, "--no-raw", "zscore", "z", "m", resp3=True) == "(double) 1.5\n"
    assert out(server, "--no-raw", "zrange", "z", 0, -1, "withscores", resp3=True) == '1) 1) "m"\n   2) (double) 1.5\n'
    assert out(server, "--no-raw", "get", "nothing", resp3=True) == "(nil)\n"
    hello = out(server, "--no-raw", "hello", "3", resp3=True).splitlines()
    assert hello[:3] == ['1# "server" => "redis"', '2# "version" => "7.0.15"', '3# "proto" => (integer) 3']
    assert hello[4:] == ['5# "mode" => "standalone"', '6# "role" => "master"', '7# "modules" => (empty array)']


def test_cli_commands_from_stdin(server):
    assert out(server, stdin=b"SET a 1\nINCR a\nGET a\n") == "OK\n2\n2\n"
    done = cli(server, stdin=b"LPUSH\nPING\n")
    assert done.stdout.decode() == "ERR wrong number of arguments for 'lpush' command\n\nPONG\n"


def test_cli_pipe_mode(server):
    payload = b"".join(encode_command(["SET", "p:%d" % i, i]) for i in range(1000)) + encode_command(["INCR", "p:1"])
    text = out(server, "--pipe", stdin=payload)
    assert "All data transferred. Waiting for the last reply..." in text
    assert "errors: 0, replies: 1001" in text
    assert out(server, "get", "p:1") == "2\n"
    assert out(server, "dbsize") == "1000\n"


def test_cli_repeat_and_scan(server):
    assert out(server, "-r", 3, "incr", "c") == "1\n2\n3\n"
    out(server, "mset", *[x for i in range(50) for x in ("scan:%d" % i, i)])
    listed = out(server, "--scan", "--pattern", "scan:*").split()
    assert sorted(listed) == sorted("scan:%d" % i for i in range(50))


def test_cli_bigkeys(server):
    out(server, "rpush", "biglist", *range(100))
    out(server, "set", "s", "x" * 300)
    text = out(server, "--bigkeys")
    assert "Biggest   list found '\"biglist\"' has 100 items" in text, text
    assert "Biggest string found '\"s\"' has 300 bytes" in text, text
    assert "1 lists with 100 items (50.00% of keys, avg size 100.00)" in text, text


# ---- redis-benchmark ------------------------------------------------------------------

BENCH_TESTS = "set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,lrange,mset"
BENCH_NAMES = [
    "SET", "GET", "INCR", "LPUSH", "RPUSH", "LPOP", "RPOP", "SADD", "HSET", "SPOP", "ZADD", "ZPOPMIN",
    "LPUSH (needed to benchmark LRANGE)",
    "LRANGE_100 (first 100 elements)", "LRANGE_300 (first 300 elements)",
    "LRANGE_500 (first 500 elements)", "LRANGE_600 (first 600 elements)",
    "MSET (10 keys)",
]  # fmt: skip


def test_redis_benchmark_smoke(server):
    argv = [need_binary("redis-benchmark"), "-h", server.host, "-p", str(server.port), "-n", "2000", "-c", "10", "-q", "-t", BENCH_TESTS]
    done = subprocess.run(argv, capture_output=True, timeout=TOOL_DEADLINE * 2)
    text = done.stdout.decode(errors="replace")
    assert done.returncode == 0, "redis-benchmark exited %d; stderr %r; stdout tail %r" % (done.returncode, done.stderr[-500:], text[-500:])
    lines = [line.strip() for line in re.split(r"[\r\n]", text) if "requests per second" in line]
    finished = {}
    for line in lines:
        m = re.match(r"^(.+?): ([0-9.]+) requests per second", line)
        if m:
            finished[m.group(1)] = float(m.group(2))
    missing = [name for name in BENCH_NAMES if name not in finished]
    assert not missing, "no requests-per-second line for %r; output %r" % (missing, text[-2000:])
    assert "ERR" not in text and "Error" not in text and not done.stderr, (text[-1000:], done.stderr[-500:])
