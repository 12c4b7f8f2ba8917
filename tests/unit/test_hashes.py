"""Hash family and the long double arithmetic. Expected replies were checked against a real Redis 7.0.15."""

from decimal import Decimal

import hiredis
import pytest
from hypothesis import given, settings, strategies as st

from node.commands.floats import format_long_double, incr_float, parse_long_double
from node.commands.hashes import format_long_double as reexported
from node.commands.table import COMMANDS
from node.errors import CommandError
from conftest import err

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INT = "ERR value is not an integer or out of range"
NOT_FLOAT = "ERR value is not a valid float"






# ---- set and get ----------------------------------------------------------


def test_hset_counts_new_fields_and_keeps_order(h):
    assert h.run("HSET", "h", "a", "1", "b", "2") == 2
    assert h.run("HSET", "h", "a", "10", "c", "3", "c", "4") == 1
    assert h.run("HGETALL", "h") == [b"a", b"10", b"b", b"2", b"c", b"4"]
    assert h.run("HKEYS", "h") == [b"a", b"b", b"c"]
    assert h.run("HVALS", "h") == [b"10", b"2", b"4"]


def test_hset_and_hmset_pairs(h):
    assert err(h.run("HSET", "h", "a", "1", "b")) == "ERR wrong number of arguments for 'hset' command"
    assert err(h.run("HMSET", "h", "a", "1", "b")) == "ERR wrong number of arguments for 'hmset' command"
    assert err(h.run("HSET", "h", "a")) == "ERR wrong number of arguments for 'hset' command"
    assert h.raw("HMSET", "h", "a", "1", "b", "2") == b"+OK\r\n"
    assert h.run("HLEN", "h") == 2


def test_hsetnx(h):
    assert h.run("HSETNX", "h", "f", "v") == 1
    assert h.run("HSETNX", "h", "f", "w") == 0
    assert h.run("HGET", "h", "f") == b"v"


def test_hget_hmget_missing(h):
    h.run("HSET", "h", "a", "1")
    assert h.raw("HGET", "h", "zz") == b"$-1\r\n"
    assert h.raw("HGET", "nokey", "a") == b"$-1\r\n"
    assert h.run("HMGET", "h", "a", "zz") == [b"1", None]
    assert h.raw("HMGET", "nokey", "a", "b") == b"*2\r\n$-1\r\n$-1\r\n"
    h.client.resp3 = True
    assert h.raw("HMGET", "nokey", "a", "b") == b"*2\r\n_\r\n_\r\n"


def test_hdel_removes_the_key_when_empty(h):
    h.run("HSET", "h", "a", "1", "b", "2")
    assert h.run("HDEL", "h", "a", "zz", "a") == 1
    assert h.run("HDEL", "nokey", "a") == 0
    assert h.run("HDEL", "h", "b", "c") == 1
    assert h.run("EXISTS", "h") == 0


def test_small_queries(h):
    h.run("HSET", "h", "a", "hello", "", "")
    assert h.run("HLEN", "h") == 2
    assert h.run("HLEN", "nokey") == 0
    assert h.run("HEXISTS", "h", "a") == 1
    assert h.run("HEXISTS", "h", "") == 1
    assert h.run("HEXISTS", "h", "zz") == 0
    assert h.run("HSTRLEN", "h", "a") == 5
    assert h.run("HSTRLEN", "h", "zz") == 0
    assert h.run("HSTRLEN", "nokey", "a") == 0


def test_hgetall_is_a_map_in_resp3(h):
    h.run("HSET", "h", "a", "1", "b", "2")
    assert h.raw("HGETALL", "h") == b"*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"
    assert h.raw("HGETALL", "nokey") == b"*0\r\n"
    h.client.resp3 = True
    assert h.raw("HGETALL", "h") == b"%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"
    assert h.raw("HGETALL", "nokey") == b"%0\r\n"
    assert h.raw("HKEYS", "nokey") == b"*0\r\n"
    assert h.raw("HVALS", "nokey") == b"*0\r\n"


@pytest.mark.parametrize(
    "args",
    [
        ("HSET", "s", "a", "1"), ("HSETNX", "s", "a", "1"), ("HMSET", "s", "a", "1"), ("HGET", "s", "a"),
        ("HMGET", "s", "a"), ("HDEL", "s", "a"), ("HLEN", "s"), ("HEXISTS", "s", "a"), ("HSTRLEN", "s", "a"),
        ("HGETALL", "s"), ("HKEYS", "s"), ("HVALS", "s"), ("HINCRBY", "s", "a", "1"),
        ("HINCRBYFLOAT", "s", "a", "1"), ("HRANDFIELD", "s"), ("HRANDFIELD", "s", "0"), ("HSCAN", "s", "0"),
    ],
)
def test_wrongtype(h, args):
    h.run("SET", "s", "v")
    assert err(h.run(*args)) == WRONGTYPE
    assert h.run("GET", "s") == b"v"


# ---- HINCRBY ---------------------------------------------------------------


def test_hincrby(h):
    assert h.run("HINCRBY", "h", "n", 5) == 5
    assert h.run("HINCRBY", "h", "n", -12) == -7
    assert h.run("HGET", "h", "n") == b"-7"


def test_hincrby_errors(h):
    h.run("HSET", "h", "s", "abc", "sp", " 1", "z", "007", "neg0", "-0", "big", "9223372036854775807", "small", "-9223372036854775808")
    assert err(h.run("HINCRBY", "h", "n", "x")) == NOT_INT
    assert err(h.run("HINCRBY", "h", "n", "1.5")) == NOT_INT
    assert err(h.run("HINCRBY", "h", "n", "9223372036854775808")) == NOT_INT
    for field in ("s", "sp", "z", "neg0"):
        assert err(h.run("HINCRBY", "h", field, 1)) == "ERR hash value is not an integer"
    assert err(h.run("HINCRBY", "h", "big", 1)) == "ERR increment or decrement would overflow"
    assert err(h.run("HINCRBY", "h", "small", -1)) == "ERR increment or decrement would overflow"
    assert h.run("HINCRBY", "h", "big", 0) == 9223372036854775807
    assert h.run("HINCRBY", "h", "small", 9223372036854775807) == -1


def test_hincrby_error_creates_nothing(h):
    assert err(h.run("HINCRBY", "nokey", "f", "x")) == NOT_INT
    assert err(h.run("HINCRBYFLOAT", "nokey", "f", "x")) == NOT_FLOAT
    assert h.run("EXISTS", "nokey") == 0


# ---- HINCRBYFLOAT ----------------------------------------------------------


def test_hincrbyfloat(h):
    assert h.run("HINCRBYFLOAT", "h", "f", "10.50") == b"10.5"
    assert h.run("HINCRBYFLOAT", "h", "f", "0.1") == b"10.6"
    assert h.run("HINCRBYFLOAT", "h", "f", "-10.6") == b"0"
    assert h.run("HINCRBYFLOAT", "h", "g", "5.0e3") == b"5000"
    assert h.run("HINCRBYFLOAT", "h", "g", "2.0e2") == b"5200"
    assert h.run("HSET", "h", "i", "17") == 1
    assert h.run("HINCRBYFLOAT", "h", "i", "0x10") == b"33"
    assert h.run("HGET", "h", "g") == b"5200"


def test_hincrbyfloat_errors(h):
    h.run("HSET", "h", "s", "abc", "inf", "inf", "sp", "1 ")
    assert err(h.run("HINCRBYFLOAT", "h", "f", "x")) == NOT_FLOAT
    assert err(h.run("HINCRBYFLOAT", "h", "f", "nan")) == NOT_FLOAT
    assert err(h.run("HINCRBYFLOAT", "h", "f", "1e5000")) == NOT_FLOAT
    assert err(h.run("HINCRBYFLOAT", "h", "f", "inf")) == "ERR value is NaN or Infinity"
    assert err(h.run("HINCRBYFLOAT", "h", "f", "-inf")) == "ERR value is NaN or Infinity"
    assert err(h.run("HINCRBYFLOAT", "h", "s", "1")) == "ERR hash value is not a float"
    assert err(h.run("HINCRBYFLOAT", "h", "sp", "1")) == "ERR hash value is not a float"
    assert err(h.run("HINCRBYFLOAT", "h", "inf", "1")) == "ERR increment would produce NaN or Infinity"
    h.run("HINCRBYFLOAT", "h", "m", "1.18973149535723176502e+4932")
    assert err(h.run("HINCRBYFLOAT", "h", "m", "1.18973149535723176502e+4932")) == "ERR increment would produce NaN or Infinity"


def test_hincrbyfloat_propagates_as_hset(h, feed):
    h.run("HINCRBYFLOAT", "h", "f", "1.5")
    h.run("HINCRBYFLOAT", "h", "f", "x")
    h.run("HINCRBY", "h", "n", "2")
    assert feed == [[b"HSET", b"h", b"f", b"1.5"], [b"HINCRBY", b"h", b"n", b"2"]]


def test_hincrbyfloat_leaves_no_rewrite_without_listeners(h):
    h.run("HINCRBYFLOAT", "h", "f", "1.5")
    assert h.client.propagate_as is None


# ---- long double arithmetic (shared with INCRBYFLOAT) ----------------------


@pytest.mark.parametrize(
    "old, incr, result",
    [
        (b"10.5", b"0.1", b"10.6"),
        # 1e20 + 0.1 is 1e20 in a 64-bit significand: decimal arithmetic would say ...0.1.
        (b"1e20", b"0.1", b"100000000000000000000"),
        (b"0", b"1e20", b"100000000000000000000"),
        (b"0", b"0.1", b"0.1"),
        (b"0.1", b"0.2", b"0.3"),
        # Exact ties at the 17th decimal round half to even, as glibc's printf.
        (b"0", b"0.000003814697265625", b"0.00000381469726562"),
        (b"0", b"0.000011444091796875", b"0.00001144409179688"),
        (b"0", b"-0.000000000000000001", b"0"),
        (b"-5", b"5", b"0"),
        (b"0", b"3e-4951", b"0"),
        (b"0", b"0x1p-3", b"0.125"),
        (b"+1.", b".5", b"1.5"),
        (b"0", b"-1.5E2", b"-150"),
        (b"9223372036854775807", b"1", b"9223372036854775808"),
    ],
)
def test_incr_float_matches_redis(old, incr, result):
    assert incr_float(old, incr) == result


def test_incr_float_huge_values():
    text = incr_float(b"0", b"1e400")
    assert len(text) == 401 and text.startswith(b"1000000000000000000028188068394758651458")
    assert text.endswith(b"309734806343732497430221946880")
    # 0.125 vanishes next to 1e400.
    assert incr_float(text, b"0x1p-3") == text
    assert len(incr_float(b"0", b"1.18973149535723176502e+4932")) == 4933


@pytest.mark.parametrize("bad", [b"", b" 1", b"1 ", b"1\x00", b"abc", b"nan", b"1e", b"0x", b".", b"1e-4952", b"1.7e4932", b"1" * 5120])
def test_incr_float_refuses_what_string2ld_refuses(bad):
    with pytest.raises(CommandError) as e:
        incr_float(bad, b"1")
    assert e.value.text == NOT_FLOAT
    with pytest.raises(CommandError) as e:
        incr_float(b"1", bad)
    assert e.value.text == NOT_FLOAT


def test_incr_float_non_finite():
    for old, incr in ((b"inf", b"1"), (b"1", b"-infinity"), (b"inf", b"-inf")):
        with pytest.raises(CommandError) as e:
            incr_float(old, incr)
        assert e.value.text == "ERR increment would produce NaN or Infinity"


def test_parse_accepts_long_inputs_and_zero_exponents():
    assert parse_long_double(b"0e99999999999999999999") == (0, 0)
    assert parse_long_double(b"1e" + b"0" * 5000) == (1 << 63, -63)
    assert parse_long_double(b"2" + b"0" * 5000) is None  # above LDBL_MAX
    assert parse_long_double(b"2" + b"0" * 4500)[1] == 14886


def test_format_long_double_accepts_numbers():
    assert format_long_double(2.5) == b"2.5"
    assert format_long_double(-3) == b"-3"
    assert format_long_double(float("inf")) == b"inf"
    assert reexported is format_long_double


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=-(10**18) + 1, max_value=10**18 - 1))
def test_short_decimals_survive_the_round_trip(digits):
    # Below 10 with at most 17 decimals, the long double error (< 2**-60) is far
    # under half a unit of the 17th decimal, so Redis prints the number back.
    value = Decimal(digits).scaleb(-17)
    text = str(value).encode()
    expected = format(value.normalize(), "f")
    expected = "0" if Decimal(expected) == 0 else expected
    assert incr_float(b"0", text) == expected.encode()


# ---- HRANDFIELD ------------------------------------------------------------


def test_hrandfield_missing_key(h):
    assert h.raw("HRANDFIELD", "nokey") == b"$-1\r\n"
    assert h.raw("HRANDFIELD", "nokey", 3) == b"*0\r\n"
    assert h.raw("HRANDFIELD", "nokey", 3, "WITHVALUES") == b"*0\r\n"
    h.client.resp3 = True
    assert h.raw("HRANDFIELD", "nokey") == b"_\r\n"
    assert h.raw("HRANDFIELD", "nokey", 3) == b"*0\r\n"


def test_hrandfield_counts(h):
    h.run("HSET", "h", "a", "1", "b", "2", "c", "3")
    assert h.run("HRANDFIELD", "h") in (b"a", b"b", b"c")
    assert h.run("HRANDFIELD", "h", 0) == []
    # count >= size: every field, in the hash's order.
    assert h.run("HRANDFIELD", "h", 100) == [b"a", b"b", b"c"]
    assert h.run("HRANDFIELD", "h", 100, "withvalues") == [b"a", b"1", b"b", b"2", b"c", b"3"]
    two = h.run("HRANDFIELD", "h", 2)
    assert len(set(two)) == 2 and set(two) <= {b"a", b"b", b"c"}
    # A negative count may repeat fields.
    many = h.run("HRANDFIELD", "h", -50)
    assert len(many) == 50 and set(many) <= {b"a", b"b", b"c"} and len(set(many)) > 1


def test_hrandfield_withvalues_shapes(h):
    h.run("HSET", "h", "a", "1")
    assert h.run("HRANDFIELD", "h", -2, "WITHVALUES") == [b"a", b"1", b"a", b"1"]
    h.client.resp3 = True
    assert h.raw("HRANDFIELD", "h", -2, "WITHVALUES") == b"*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"
    assert h.raw("HRANDFIELD", "h", 1) == b"*1\r\n$1\r\na\r\n"


def test_hrandfield_errors(h):
    h.run("HSET", "h", "a", "1")
    assert err(h.run("HRANDFIELD", "h", "x")) == NOT_INT
    assert err(h.run("HRANDFIELD", "h", 1, "withvalue")) == "ERR syntax error"
    assert err(h.run("HRANDFIELD", "h", 1, "withvalues", "x")) == "ERR syntax error"
    assert err(h.run("HRANDFIELD", "h", "-9223372036854775808")) == (
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
    )
    assert err(h.run("HRANDFIELD", "h", "4611686018427387904", "withvalues")) == "ERR value is out of range"
    assert err(h.run("HRANDFIELD", "h", "-4611686018427387904", "withvalues")) == "ERR value is out of range"
    assert h.run("HRANDFIELD", "nokey", "-4611686018427387903", "withvalues") == []
    # The count is checked before the key's type.
    h.run("SET", "s", "v")
    assert err(h.run("HRANDFIELD", "s", "x")) == NOT_INT


# ---- HSCAN -----------------------------------------------------------------


def test_hscan_small_hash_is_whole(h):
    h.run("HSET", "h", "b", "1", "a", "2", "c", "3")
    assert h.run("HSCAN", "h", 0, "COUNT", 1) == [b"0", [b"b", b"1", b"a", b"2", b"c", b"3"]]
    assert h.run("HSCAN", "h", 12345) == [b"0", [b"b", b"1", b"a", b"2", b"c", b"3"]]
    assert h.run("HSCAN", "h", 0, "MATCH", "[ab]") == [b"0", [b"b", b"1", b"a", b"2"]]
    assert h.run("HSCAN", "nokey", 0) == [b"0", []]


def test_hscan_errors(h):
    h.run("HSET", "h", "a", "1")
    assert err(h.run("HSCAN", "h", "x")) == "ERR invalid cursor"
    assert err(h.run("HSCAN", "h", " 1")) == "ERR invalid cursor"
    assert err(h.run("HSCAN", "h", "18446744073709551616")) == "ERR invalid cursor"
    assert h.run("HSCAN", "h", "-1")[0] == b"0"
    for opts in (("COUNT", 0), ("COUNT", -1), ("MATCH",), ("TYPE", "string"), ("NOVALUES",), ("foo", "bar")):
        assert err(h.run("HSCAN", "h", 0, *opts)) == "ERR syntax error"
    assert err(h.run("HSCAN", "h", 0, "COUNT", "x")) == NOT_INT
    # A missing key answers before the options are read.
    assert h.run("HSCAN", "nokey", 0, "COUNT", 0) == [b"0", []]
    assert err(h.run("HSCAN", "nokey", "x")) == "ERR invalid cursor"


def _full_hscan(h, key, count):
    cursor, seen, calls = b"0", {}, 0
    while True:
        cursor, batch = h.run("HSCAN", key, cursor, "COUNT", count)
        calls += 1
        for i in range(0, len(batch), 2):
            seen[batch[i]] = batch[i + 1]
        if cursor == b"0":
            return seen, calls


def test_hscan_iterates_a_big_hash(h):
    for i in range(600):
        h.run("HSET", "big", "f%d" % i, "v%d" % i)
    seen, calls = _full_hscan(h, "big", 50)
    assert seen == {b"f%d" % i: b"v%d" % i for i in range(600)}
    assert calls > 1


def test_hscan_listpack_limits(h):
    for i in range(512):
        h.run("HSET", "lp", "f%d" % i, "v")
    assert len(h.run("HSCAN", "lp", 0)[1]) == 1024
    h.run("HSET", "lp", "one-more", "v")
    assert len(h.run("HSCAN", "lp", 0)[1]) == 20
    h.run("HSET", "long", "a", "1", "b", "x" * 65)
    cursor, batch = h.run("HSCAN", "long", 0, "COUNT", 1)
    assert cursor != b"0" and len(batch) == 2


# ---- command table -----------------------------------------------------------


@pytest.mark.parametrize(
    "name, arity, flags",
    [
        ("hset", -4, {"write", "denyoom", "fast"}), ("hsetnx", 4, {"write", "denyoom", "fast"}),
        ("hmset", -4, {"write", "denyoom", "fast"}), ("hget", 3, {"readonly", "fast"}),
        ("hmget", -3, {"readonly", "fast"}), ("hdel", -3, {"write", "fast"}), ("hlen", 2, {"readonly", "fast"}),
        ("hexists", 3, {"readonly", "fast"}), ("hstrlen", 3, {"readonly", "fast"}), ("hgetall", 2, {"readonly"}),
        ("hkeys", 2, {"readonly"}), ("hvals", 2, {"readonly"}), ("hincrby", 4, {"write", "denyoom", "fast"}),
        ("hincrbyfloat", 4, {"write", "denyoom", "fast"}), ("hrandfield", -2, {"readonly"}), ("hscan", -3, {"readonly"}),
    ],
)
def test_command_table_entries(name, arity, flags):
    cmd = COMMANDS[name]
    assert (cmd.arity, set(cmd.flags), cmd.first_key, cmd.last_key, cmd.step, cmd.group) == (arity, flags, 1, 1, 1, "hash")
