"""Differential tests: every test here talks to a real redis-server and a triokv-node."""

import pytest

from tests.support import ServerProcess, need_binary, redis, server_factory, triokv, triokv_server  # noqa: F401  (fixtures)

from .compare import Pair


def pytest_collection_modifyitems(items):
    for item in items:
        if "/differential/" in str(item.fspath):
            item.add_marker(pytest.mark.redis)


# triokv enables DEBUG by default (its own tests and tools use DEBUG SLEEP and friends);
# Redis 7 refuses it unless told. The reference is told, so that what DEBUG does
# is compared; the default itself is listed in test_known_differences.py.
# hz 100: Redis times out blocked clients on its cron tick, 100 ms at the default
# hz 10, which would make every generated BLPOP timeout cost a tenth of a second.
REDIS_ARGS = ["--enable-debug-command", "yes", "--hz", "100"]


@pytest.fixture(scope="session")
def redis_server():
    """The reference redis-server for this suite (overrides tests.support's stock one)."""
    need_binary("redis-server")
    with ServerProcess("redis", REDIS_ARGS, name="redis-server") as server:
        yield server


@pytest.fixture(params=[False, True], ids=["resp2", "resp3"])
def resp3(request):
    return request.param


@pytest.fixture
def pair(redis, triokv, resp3):
    """Both servers emptied, connections opened lazily in the protocol of the run."""
    p = Pair(redis, triokv, resp3=resp3)
    yield p
    p.close()
