"""The PSYNC rules, both sides, without sockets."""

from replication import psync
from replication.backlog import Backlog

ME = "a" * 40
OLD = "b" * 40
OTHER = "c" * 40


def backlog(first, end):
    b = Backlog(1 << 20, end=first - 1)
    b.append(b"x" * (end - first + 1))
    return b


def decide(replid, offset, replid2=psync.NO_REPLID2, second=-1, log=None):
    return psync.decide(replid, offset, ME, replid2, second, log if log is not None else backlog(1, 100))


def test_continue_with_our_id_inside_the_backlog():
    assert decide(ME, 1).kind == psync.CONTINUE
    assert decide(ME, 101).kind == psync.CONTINUE  # up to date: nothing to send
    assert decide(ME.upper(), 50).kind == psync.CONTINUE  # IDs compare case-insensitively


def test_full_outside_the_backlog():
    assert decide(ME, 102) == psync.Decision(psync.FULL, "lack of backlog")
    assert decide(ME, 0).kind == psync.FULL
    assert decide(ME, 60, log=backlog(50, 100)).kind == psync.CONTINUE
    assert decide(ME, 49, log=backlog(50, 100)).kind == psync.FULL


def test_full_without_a_backlog():
    assert psync.decide(ME, 1, ME, psync.NO_REPLID2, -1, None).kind == psync.FULL


def test_question_mark_forces_a_full_resync():
    assert decide("?", -1) == psync.Decision(psync.FULL, "requested")


def test_unknown_id_is_a_mismatch():
    d = decide(OTHER, 10)
    assert d.kind == psync.FULL and d.reason.startswith("Replication ID mismatch")


def test_previous_id_is_valid_up_to_second_offset():
    assert decide(OLD, 80, replid2=OLD, second=81).kind == psync.CONTINUE
    assert decide(OLD, 81, replid2=OLD, second=81).kind == psync.CONTINUE
    d = decide(OLD, 82, replid2=OLD, second=81)
    assert d.kind == psync.FULL and "second ID" in d.reason


def test_zero_replid2_never_matches_a_real_request():
    assert decide(psync.NO_REPLID2, 5).kind == psync.FULL


def test_master_reply_lines():
    assert psync.continue_reply(ME, True) == b"+CONTINUE " + ME.encode() + b"\r\n"
    assert psync.continue_reply(ME, False) == b"+CONTINUE\r\n"
    assert psync.fullresync_reply(ME, 42) == b"+FULLRESYNC " + ME.encode() + b" 42\r\n"


def test_reading_psync_replies():
    assert psync.read_psync_reply(b"") == psync.PsyncReply(psync.WAIT)
    full = psync.read_psync_reply(b"+FULLRESYNC " + ME.encode() + b" 77")
    assert (full.kind, full.replid, full.offset) == (psync.FULL, ME, 77)
    bad = psync.read_psync_reply(b"+FULLRESYNC short 1")
    assert (bad.kind, bad.replid) == (psync.FULL, None)
    assert psync.read_psync_reply(b"+CONTINUE " + OTHER.encode()).replid == OTHER
    assert psync.read_psync_reply(b"+CONTINUE").replid is None
    assert psync.read_psync_reply(b"-NOMASTERLINK Can't SYNC").kind == psync.TRY_LATER
    assert psync.read_psync_reply(b"-LOADING Redis is loading").kind == psync.TRY_LATER
    assert psync.read_psync_reply(b"-ERR unknown command 'PSYNC'").kind == psync.NOT_SUPPORTED


def test_reading_bulk_headers():
    assert psync.read_bulk_header(b"").kind == "keepalive"
    assert psync.read_bulk_header(b"$123") == psync.BulkHeader("size", 123)
    mark = b"m" * 40
    assert psync.read_bulk_header(b"$EOF:" + mark) == psync.BulkHeader("eof", mark=mark)
    assert psync.read_bulk_header(b"-ERR no").kind == "error"
    assert psync.read_bulk_header(b"+OK").kind == "bad"
    assert psync.read_bulk_header(b"$x").kind == "bad"


def test_finding_the_eof_mark_across_chunks():
    mark = b"0123456789" * 4
    tail = b"abc" + mark[:37]  # 40 bytes seen, the mark's first 37 among them
    assert psync.find_eof_mark(tail[-39:], mark[37:] + b"rest", mark) == 3
    assert psync.find_eof_mark(b"", b"data" + mark, mark) == 44
    assert psync.find_eof_mark(b"", b"data" + mark[:-1], mark) == -1
