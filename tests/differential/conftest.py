"""Differential tests: every test here talks to a real redis-server and a triokv-node."""

import pytest

from tests.support import redis, redis_server, triokv, triokv_server  # noqa: F401  (fixtures)

from .compare import Pair


def pytest_collection_modifyitems(items):
    for item in items:
        if "/differential/" in str(item.fspath):
            item.add_marker(pytest.mark.redis)


@pytest.fixture(params=[False, True], ids=["resp2", "resp3"])
def resp3(request):
    return request.param


@pytest.fixture
def pair(redis, triokv, resp3):
    """Both servers emptied, connections opened lazily in the protocol of the run."""
    p = Pair(redis, triokv, resp3=resp3)
    yield p
    p.close()
