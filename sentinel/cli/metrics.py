"""What a drill measured, computed from its records alone (no I/O): event times, write outcomes,
the outage clients saw, and which acknowledged writes were lost.

All times are seconds relative to the moment the fault was injected (t0).
"""

from collections import Counter


def rel(event, t0):
    return None if event is None else round(event.t - t0, 3)


def detection(events, t0: float, master_name: str, target_kind: str, target_addr) -> dict:
    """First +sdown of the faulty instance, first +odown (masters only), first +switch-master,
    as any sentinel reported them after t0; and the new master's address if it switched."""

    def first(pred):
        return next((e for e in events if e.t >= t0 and pred(e)), None)

    sdown = first(lambda e: e.channel == "+sdown" and e.about(target_kind, target_addr))
    odown = first(lambda e: e.channel == "+odown" and e.about("master", target_addr)) if target_kind == "master" else None
    switch = first(lambda e: e.channel == "+switch-master" and e.payload.split()[:1] == [master_name])
    new_master = None
    if switch is not None:
        parts = switch.payload.split()
        new_master = "%s:%s" % (parts[3], parts[4])
    return {"sdown_s": rel(sdown, t0), "odown_s": rel(odown, t0), "switch_master_s": rel(switch, t0), "new_master": new_master}


def outage(writes, t0: float) -> dict:
    """When writes failed after the fault and when they succeeded again for good: the first
    acknowledged write that started after the last failed one."""
    after = [w for w in writes if w.start >= t0]
    failed = [w for w in after if w.outcome != "ok"]
    if not failed:
        return {"first_failure_s": None, "writes_resumed_s": None, "unavailable_s": 0.0}
    resumed = next((w for w in after if w.outcome == "ok" and w.start >= failed[-1].end), None)
    return {
        "first_failure_s": round(failed[0].start - t0, 3),
        "writes_resumed_s": None if resumed is None else round(resumed.end - t0, 3),
        "unavailable_s": None if resumed is None else round(resumed.end - failed[0].start, 3),
    }


def longest_gap(writes) -> float:
    """The longest time between two consecutive acknowledgements (the worst stall a client saw)."""
    ends = [w.end for w in writes if w.outcome == "ok"]
    return round(max((b - a for a, b in zip(ends, ends[1:])), default=0.0), 3)


def counts(writes) -> dict:
    by = Counter(w.outcome for w in writes)
    errors = Counter(w.error.split(":")[0] for w in writes if w.outcome != "ok")
    return {
        "attempted": len(writes),
        "acknowledged": by["ok"],
        "failed": by["error"] + by["timeout"],
        "timeouts": by["timeout"],
        "error_kinds": dict(errors.most_common(5)),
    }


def losses(writes, present: set) -> dict:
    """Acknowledged writes missing from the final master (lost), and failed ones that were
    applied anyway (a reply lost after the write happened: not a loss, but worth knowing)."""
    acked = {w.n for w in writes if w.outcome == "ok"}
    failed = {w.n for w in writes if w.outcome != "ok"}
    lost = sorted(acked - present)
    return {"lost": len(lost), "lost_sample": lost[:20], "failed_but_applied": len(failed & present)}
