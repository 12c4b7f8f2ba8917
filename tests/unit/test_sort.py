"""SORT and SORT_RO: Redis 7.0's orders, patterns, LIMIT, STORE and errors."""
from conftest import err




def test_sort_numbers_and_strings(h):
    h.run("RPUSH", "l", "3", "1", "2", "10", "", "-inf", "0x10")
    assert h.run("SORT", "l") == [b"-inf", b"", b"1", b"2", b"3", b"10", b"0x10"]
    assert h.run("SORT", "l", "DESC", "LIMIT", "1", "2") == [b"10", b"3"]
    assert h.run("SORT", "l", "ALPHA") == [b"", b"-inf", b"0x10", b"1", b"10", b"2", b"3"]
    h.run("RPUSH", "w", "b", "a")
    assert err(h.run("SORT", "w")) == "ERR One or more scores can't be converted into double"
    h.run("RPUSH", "n", "1", "nan")
    assert err(h.run("SORT", "n")) == "ERR One or more scores can't be converted into double"


def test_sort_limit_edges(h):
    h.run("RPUSH", "l", "3", "1", "2")
    assert h.run("SORT", "l", "LIMIT", "-5", "2") == [b"1", b"2"]
    assert h.run("SORT", "l", "LIMIT", "1", "-1") == [b"2", b"3"]
    assert h.run("SORT", "l", "LIMIT", "3", "1") == []
    assert h.run("SORT", "l", "LIMIT", "0", "0") == []
    assert err(h.run("SORT", "l", "LIMIT", "a", "1")) == "ERR value is not an integer or out of range"
    assert err(h.run("SORT", "l", "LIMIT", "1")) == "ERR syntax error"


def test_sort_by_and_get_patterns(h):
    h.run("RPUSH", "ids", "3", "1", "2")
    h.run("MSET", "w_1", "30", "w_2", "10", "w_3", "20")
    h.run("HSET", "h_1", "f", "b")
    h.run("HSET", "h_2", "f", "a")
    assert h.run("SORT", "ids", "BY", "w_*") == [b"2", b"3", b"1"]
    assert h.run("SORT", "ids", "BY", "h_*->f", "ALPHA") == [b"3", b"2", b"1"]  # a missing value sorts first
    assert h.run("SORT", "ids", "BY", "nosort", "DESC") == [b"2", b"1", b"3"]
    assert h.run("SORT", "ids", "BY", "w_*", "GET", "#", "GET", "h_*->f", "GET", "nostar") == [b"2", b"a", None, b"3", None, None, b"1", b"b", None]


def test_sort_store(h):
    h.run("RPUSH", "ids", "2", "1")
    assert h.run("SORT", "ids", "GET", "nosuch_*", "STORE", "out") == 2
    assert h.run("LRANGE", "out", "0", "-1") == [b"", b""]
    assert h.run("SORT", "ids", "LIMIT", "5", "5", "STORE", "out") == 0
    assert h.run("EXISTS", "out") == 0
    h.run("SADD", "s", "b", "a", "c")
    assert h.run("SORT", "s", "BY", "nosort", "STORE", "out") == 3  # a stored set is sorted ALPHA
    assert h.run("LRANGE", "out", "0", "-1") == [b"a", b"b", b"c"]


def test_sort_types_and_readonly_variant(h):
    h.run("ZADD", "z", "3", "a", "1", "b", "2", "c")
    assert h.run("SORT", "z", "BY", "nosort", "DESC", "LIMIT", "1", "5") == [b"c", b"b"]
    assert h.run("SORT", "missing") == []
    h.run("SET", "str", "x")
    assert err(h.run("SORT", "str")).startswith("WRONGTYPE")
    assert err(h.run("SORT", "str", "FOO")) == "ERR syntax error"  # options first
    assert err(h.run("SORT_RO", "z", "STORE", "x")) == "ERR syntax error"


def test_sort_keys(h):
    assert h.run("COMMAND", "GETKEYS", "sort", "a", "STORE", "b", "BY", "x", "STORE", "c") == [b"a", b"c"]
    assert h.run("COMMAND", "GETKEYSANDFLAGS", "sort", "a", "STORE", "b") == [[b"a", [b"RO", b"access"]], [b"b", [b"OW", b"update"]]]
