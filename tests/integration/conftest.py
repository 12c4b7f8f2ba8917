"""Fixtures for the integration suite: live servers from tests/support.py, plus clients.

The suite runs against triokv. Set TRIOKV_TEST_TARGET=redis to run the very
same tests against a real redis-server instead: that is how the expectations
written here were checked against Redis 7.0.15, and how to re-check them.
"""

import pytest
import redis as redis_py

from tests.integration.helpers import TARGET_KIND
from tests.support import (  # noqa: F401  (fixtures re-exported for this package)
    redis,
    redis_server,
    server_factory,
    triokv,
    triokv_server,
)



@pytest.fixture
def server(request):
    """The live server under test, emptied for this test (triokv unless TRIOKV_TEST_TARGET=redis)."""
    if TARGET_KIND == "redis":
        return request.getfixturevalue("redis")
    return request.getfixturevalue("triokv")


@pytest.fixture
def make_server(server_factory):  # noqa: F811
    """A dedicated server of the kind under test, started with extra directives; stopped at teardown."""

    def make(*extra_args):
        return server_factory(TARGET_KIND, *extra_args)

    return make


@pytest.fixture
def clients(server):
    """A factory for redis-py sync clients on the server; all are closed at teardown."""
    made = []

    def make(**kwargs):
        kwargs.setdefault("socket_timeout", 30)
        client = redis_py.Redis(host=server.host, port=server.port, **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()
