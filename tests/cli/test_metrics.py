"""The drill's arithmetic and its report page, from made-up records (no processes, no sockets)."""

import re

from sentinel.cli import metrics, report
from sentinel.cli.events import Event
from sentinel.cli.writer import Write

T0 = 100.0
MASTER = ("127.0.0.1", 7000)


def ev(t, channel, payload, sentinel="127.0.0.1:26379"):
    return Event(T0 + t, 1_700_000_000 + t, sentinel, channel, payload)


def w(n, start, took, outcome="ok", error=""):
    return Write(n, T0 + start, T0 + start + took, outcome, error)


EVENTS = [
    ev(-0.5, "+sdown", "slave 127.0.0.1:7001 127.0.0.1 7001 @ mymaster 127.0.0.1 7000"),  # before the fault
    ev(1.0, "+sdown", "slave 127.0.0.1:7001 127.0.0.1 7001 @ mymaster 127.0.0.1 7000"),  # another instance
    ev(1.1, "+sdown", "master mymaster 127.0.0.1 7000", "127.0.0.1:26380"),
    ev(1.2, "+sdown", "master mymaster 127.0.0.1 7000"),
    ev(1.3, "+odown", "master mymaster 127.0.0.1 7000 #quorum 2/2"),
    ev(2.5, "+switch-master", "other 127.0.0.1 9000 127.0.0.1 9001"),  # another master name
    ev(2.6, "+switch-master", "mymaster 127.0.0.1 7000 127.0.0.1 7002"),
]
WRITES = [
    w(1, -0.2, 0.001),
    w(2, 0.1, 0.5, "timeout", "TimeoutError: Timeout reading from socket"),
    w(3, 0.7, 0.001, "error", "MasterNotFoundError: No master found"),
    w(4, 2.0, 0.001),  # an acknowledgement between failures: writes have not resumed for good
    w(5, 2.3, 0.001, "error", "ConnectionError: refused"),
    w(6, 2.7, 0.002),
    w(7, 2.8, 0.001),
]


def test_detection_takes_the_first_matching_event_after_the_fault():
    d = metrics.detection(EVENTS, T0, "mymaster", "master", MASTER)
    assert d == {"sdown_s": 1.1, "odown_s": 1.3, "switch_master_s": 2.6, "new_master": "127.0.0.1:7002"}
    replica = metrics.detection(EVENTS, T0, "mymaster", "slave", ("127.0.0.1", 7001))
    assert replica["sdown_s"] == 1.0 and replica["odown_s"] is None


def test_outage_ends_with_the_first_ack_after_the_last_failure():
    o = metrics.outage(WRITES, T0)
    assert o == {"first_failure_s": 0.1, "writes_resumed_s": 2.702, "unavailable_s": 2.602}
    assert metrics.outage(WRITES[:1] + WRITES[5:], T0) == {"first_failure_s": None, "writes_resumed_s": None, "unavailable_s": 0.0}
    assert metrics.outage(WRITES[:5], T0)["writes_resumed_s"] is None  # never resumed


def test_counts_gaps_and_losses():
    c = metrics.counts(WRITES)
    assert (c["attempted"], c["acknowledged"], c["failed"], c["timeouts"]) == (7, 4, 3, 1)
    assert c["error_kinds"] == {"TimeoutError": 1, "MasterNotFoundError": 1, "ConnectionError": 1}
    assert metrics.longest_gap(WRITES) == round((T0 + 2.001) - (T0 - 0.199), 3)
    # 4 acknowledged but missing: lost; 3 failed but present: applied without a reply.
    assert metrics.losses(WRITES, {1, 3, 6, 7}) == {"lost": 1, "lost_sample": [4], "failed_but_applied": 1}


def result_for(events, writes):
    timings = metrics.detection(events, T0, "mymaster", "master", MASTER)
    timings.update(metrics.outage(writes, T0), longest_gap_s=metrics.longest_gap(writes), healthy_s=4.0)
    counted = metrics.counts(writes)
    counted.update(metrics.losses(writes, {1, 4, 6, 7}))
    return {
        "kind": "kill-master", "impl": "redis", "master_name": "mymaster", "action": "SIGKILL node-7000 <pid>",
        "master_before": "127.0.0.1:7000", "master_after": "127.0.0.1:7002", "fault_at": 1_700_000_000.0,
        "timings": timings, "writes": counted, "healthy": True, "problems": [],
        "events": [e.as_json(T0) for e in events],
    }


def test_report_is_one_self_contained_page_with_a_timeline():
    page = report.page(result_for(EVENTS, WRITES), WRITES, T0)
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") == 1
    assert not re.search(r"(src|href)=", page) and "<script" not in page
    assert "SIGKILL node-7000 &lt;pid&gt;" in page  # escaped
    svg = page[page.index("<svg") : page.index("</svg>")]
    for label in ("fault 0.00s", "+sdown 1.10s", "+odown 1.30s", "+switch-master 2.60s", "writes resumed 2.70s", "healthy 4.00s"):
        assert label in svg
    assert svg.count("<circle") == 4  # one dot per acknowledged write
    assert svg.count(report.COLORS["error"]) == 2 and svg.count(report.COLORS["timeout"]) == 1


def test_report_without_failures_or_events():
    writes = [w(1, 0.0, 0.001), w(2, 0.1, 0.001)]
    page = report.page(result_for([], writes), writes, T0)
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert "fault 0.00s" in svg and "healthy 4.00s" in svg and "+switch-master" not in svg
    assert svg.count("<circle") == 2 and report.COLORS["error"] not in svg
