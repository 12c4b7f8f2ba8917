"""Deliberate differences from Redis 7.0.15, kept visible: each is an xfail that must keep failing."""

import pytest

from .compare import Pair


@pytest.mark.xfail(strict=True, reason="triokv ships enable-debug-command yes; Redis 7 defaults to no and refuses DEBUG")
def test_debug_is_refused_by_default(server_factory, triokv):
    stock = server_factory("redis")
    pair = Pair(stock, triokv)
    try:
        pair.run(["DEBUG", "SLEEP", "0"])
        pair.assert_clean()
    finally:
        pair.close()


@pytest.mark.xfail(strict=True, reason="lex ranges over mixed scores are undefined in Redis; on a skiplist its answer depends on the random node levels, triokv walks members in order as Redis's listpack does")
def test_lex_range_over_mixed_scores(redis, triokv):
    # "z" first at score 0, then members below "[b" at score 1: walking in order stops at
    # "z", Redis's skiplist search jumps past it unless "z" happens to be the tallest node.
    members = [a for i in range(100) for a in ("1", "a%03d" % i)]
    pair = Pair(redis, triokv)
    try:
        for key in ("k1", "k2", "k3"):
            pair.run(["ZADD", key, "0", "z", "1", "x" * 70] + members)
            pair.run(["ZLEXCOUNT", key, "[b", "+"])
        pair.assert_clean()
    finally:
        pair.close()
