"""COMMAND INFO and COMMAND DOCS of every command triokv has, against Redis's own.

Containers' subcommands are compared as a set: Redis lists them in the order of
a dict seeded per process, so two Redis processes disagree on it too. A
subcommand Redis does not have (CLIENT SETINFO is 7.2's) is left out.
"""

import pytest

from node.commands.table import COMMANDS, TRIOKV_ONLY
from tests.resp_wire import Conn

NAMES = sorted(set(COMMANDS) - TRIOKV_ONLY)


def _conns(server, resp3):
    conn = Conn(server.host, server.port)
    if resp3:
        conn.call(b"HELLO", b"3")
    return conn


def _split(entry, docs):
    """(everything but the subcommands, {subcommand name: raw entry}) of one command."""
    kids = entry.value
    if not docs:
        return [k.raw for k in kids[:9]], {sub.value[0].value: sub.raw for sub in kids[9].value}
    rest, subs = [], {}
    for i in range(0, len(kids), 2):
        if kids[i].value == b"subcommands":
            pairs = kids[i + 1].value
            subs = {pairs[j].value: pairs[j].raw + pairs[j + 1].raw for j in range(0, len(pairs), 2)}
        else:
            rest.append(kids[i].raw + kids[i + 1].raw)
    return rest, subs


@pytest.mark.parametrize("what", ["INFO", "DOCS"])
def test_every_command_is_described_as_redis_does(redis, triokv, resp3, what):
    docs = what == "DOCS"
    r, t = _conns(redis, resp3), _conns(triokv, resp3)
    wrong = []
    try:
        for name in NAMES:
            a = r.call(b"COMMAND", what.encode(), name.encode())
            b = t.call(b"COMMAND", what.encode(), name.encode())
            if a.raw == b.raw:
                continue
            # INFO's array holds the command's entry; DOCS's map its name, then its docs.
            rest_a, subs_a = _split(a.value[1] if docs else a.value[0], docs)
            rest_b, subs_b = _split(b.value[1] if docs else b.value[0], docs)
            subs_b = {k: v for k, v in subs_b.items() if k in subs_a}
            if rest_a != rest_b or subs_a != subs_b:
                wrong.append("%s %s\n  redis : %r\n  triokv: %r" % (what, name, a.raw[:400], b.raw[:400]))
    finally:
        r.close()
        t.close()
    assert not wrong, "\n".join(wrong)
