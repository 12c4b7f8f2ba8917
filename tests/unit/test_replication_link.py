"""Replica-side pieces over in-memory streams: the RESP client, receiving a snapshot
(keepalives, sized and EOF-marked payloads, the stream that follows)."""

import hiredis
import pytest
import trio
import trio.testing

from replication.receive import Transfer, TransferError
from replication.resp_client import RespClient, RespTimeout

MARK = b"0123456789abcdef0123456789abcdef01234567"


async def _feed(stream, pieces):
    for piece in pieces:
        await stream.send_all(piece)
        await trio.sleep(0.01)  # separate reads on the other side


async def _receive(pieces):
    ours, theirs = trio.testing.memory_stream_pair()
    conn = RespClient(ours, timeout=5)
    transfer = Transfer(lambda: 0.0, lambda text: None)
    result = []
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_feed, theirs, pieces)
        try:
            result.append(await transfer.receive(conn, 5))
        except TransferError as e:  # raised out here, not as a nursery's exception group
            result.append(e)
    if isinstance(result[0], Exception):
        raise result[0]
    return bytes(result[0]), transfer, conn


async def test_sized_payload_after_keepalives_leaves_the_stream(autojump_clock):
    data, transfer, conn = await _receive([b"\n", b"\n$10\r\n0123", b"456789*1\r\n$4\r\nPING\r\n"])
    assert data == b"0123456789"
    assert (transfer.size, transfer.read, transfer.eof_marked) == (10, 10, False)
    assert await conn.read_some() == b"*1\r\n$4\r\nPING\r\n"


async def test_eof_marked_payload_with_the_mark_split_across_reads(autojump_clock):
    data, transfer, conn = await _receive([b"$EOF:" + MARK + b"\r\n", b"payload-" + MARK[:25], MARK[25:] + b"after"])
    assert data == b"payload-"
    assert transfer.eof_marked and transfer.read == len(b"payload-")
    assert await conn.read_some() == b"after"


async def test_an_error_instead_of_a_snapshot(autojump_clock):
    with pytest.raises(TransferError, match="MASTER aborted replication with an error: ERR BGSAVE failed"):
        await _receive([b"-ERR BGSAVE failed, replication can't continue\r\n"])
    with pytest.raises(TransferError, match="Bad protocol from MASTER"):
        await _receive([b"+OK\r\n"])


async def test_resp_client_calls_and_lines(autojump_clock):
    ours, theirs = trio.testing.memory_stream_pair()
    conn = RespClient(ours, timeout=1)
    await theirs.send_all(b"+PONG\r\n")
    assert await conn.read_line() == b"+PONG"
    await theirs.send_all(b"-ERR nope\r\n*2\r\n$1\r\na\r\n:5\r\n")
    error = await conn.call("GET", "x")
    assert isinstance(error, hiredis.ReplyError) and str(error) == "ERR nope"
    assert await conn.read_reply() == [b"a", 5]
    assert await theirs.receive_some(100) == b"*2\r\n$3\r\nGET\r\n$1\r\nx\r\n"
    with pytest.raises(RespTimeout):
        await conn.read_reply()  # nothing comes: the deadline answers
