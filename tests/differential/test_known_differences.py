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
