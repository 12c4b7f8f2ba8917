"""`triokv status`: the master, its replicas and the sentinels in one table, flags and quorum.

Each sentinel is asked for its own view (master address, flags, epoch, CKQUORUM); the first
that answers also gives the replicas and the other sentinels as it sees them. Offsets come from
the nodes' own INFO when they answer; lag is the master's offset minus the replica's, in bytes.
"""

import json

import redis

from . import CliError, probe, target
from .table import render


def sentinel_view(addr, name: str) -> dict:
    """One sentinel's own view of the master: where it is, its flags, epoch and quorum check."""
    view = {"address": probe.fmt(addr), "reachable": False}
    try:
        m = probe.sentinel_master(addr, name)
    except (redis.RedisError, OSError) as e:
        view["error"] = str(e) or type(e).__name__
        return view
    view.update(reachable=True, master="%s:%s" % (m["ip"], m["port"]), flags=m["flags"], config_epoch=int(m["config-epoch"]), quorum=int(m["quorum"]), num_slaves=int(m["num-slaves"]), num_other_sentinels=int(m["num-other-sentinels"]))
    try:
        view["ckquorum"] = str(probe.call(addr, "SENTINEL", "CKQUORUM", name))
        view["quorum_ok"] = True
    except redis.ResponseError as e:
        view["ckquorum"], view["quorum_ok"] = str(e), False
    except (redis.RedisError, OSError) as e:
        view["ckquorum"], view["quorum_ok"] = "no answer: %s" % e, False
    return view


def master_offset(addr):
    try:
        return probe.info(addr)["master_repl_offset"]
    except (redis.RedisError, OSError, KeyError):
        return None


def gather(sentinels, name: str) -> dict:
    views = [sentinel_view(a, name) for a in sentinels]
    asked = next((v for v in views if v["reachable"]), None)
    if asked is None:
        raise CliError("no sentinel answered for %r: %s" % (name, "; ".join("%s %s" % (v["address"], v.get("error")) for v in views)))
    addr = probe.parse_addr(asked["address"])
    flags = asked["flags"].split(",")
    offset = master_offset(probe.parse_addr(asked["master"]))
    replicas = [replica_row(r, offset) for r in probe.sentinel_list(addr, "REPLICAS", name)]
    others = {"%s:%s" % (s["ip"], s["port"]): s for s in probe.sentinel_list(addr, "SENTINELS", name)}
    return {
        "master_name": name,
        "asked": asked["address"],
        "master": {"address": asked["master"], "flags": asked["flags"], "offset": offset, "reachable": offset is not None, "config_epoch": asked["config_epoch"]},
        "replicas": replicas,
        "sentinels": sentinel_rows(views, others, asked["address"]),
        "sdown": "s_down" in flags,
        "odown": "o_down" in flags,
        "failover_in_progress": any(f.startswith("failover") for f in flags),
        "quorum": {"ok": asked["quorum_ok"], "reply": asked["ckquorum"], "quorum": asked["quorum"]},
        "agree": len({v["master"] for v in views if v["reachable"]}) == 1,
    }


def replica_row(r: dict, master_off) -> dict:
    """A replica as the sentinel lists it, with its offset from its own INFO when it answers
    (the sentinel's copy is refreshed only every 10 s)."""
    addr = (r["ip"], int(r["port"]))
    try:
        offset = probe.info(addr).get("slave_repl_offset")
    except (redis.RedisError, OSError):
        offset = None
    if offset is None:
        offset = int(r.get("slave-repl-offset", 0))
    return {
        "address": probe.fmt(addr),
        "flags": r["flags"],
        "link": r.get("master-link-status"),
        "offset": offset,
        "lag": None if master_off is None else max(master_off - offset, 0),
    }


def sentinel_rows(views, others: dict, asked: str) -> list:
    """The configured sentinels (their own answers) plus any others the asked one knows of."""
    rows = []
    for v in views + [{"address": a, "reachable": None} for a in others if a not in {v["address"] for v in views}]:
        seen = others.get(v["address"], {})
        hello = seen.get("last-hello-message")
        rows.append({
            "address": v["address"],
            "reachable": v["reachable"],
            "flags": "(asked)" if v["address"] == asked else seen.get("flags", "unknown to %s" % asked),
            "config_epoch": v.get("config_epoch"),
            "master": v.get("master"),
            "last_hello_ms": int(hello) if hello is not None else None,
        })
    return rows


def table(status: dict) -> str:
    m = status["master"]
    rows = [["master", m["address"], m["flags"], "up" if m["reachable"] else "unreachable", m["offset"], None, m["config_epoch"], None]]
    for r in status["replicas"]:
        rows.append(["replica", r["address"], r["flags"], r["link"], r["offset"], r["lag"], None, None])
    for s in status["sentinels"]:
        link = {True: "up", False: "unreachable", None: "not asked"}[s["reachable"]]
        hello = None if s["last_hello_ms"] is None else "%.1fs ago" % (s["last_hello_ms"] / 1000)
        rows.append(["sentinel", s["address"], s["flags"], link, None, None, s["config_epoch"], hello])
    yesno = lambda b: "yes" if b else "no"  # noqa: E731
    lines = [
        "%s (as %s sees it)" % (status["master_name"], status["asked"]),
        render(["ROLE", "ADDRESS", "FLAGS", "LINK", "OFFSET", "LAG", "EPOCH", "LAST-HELLO"], rows),
        "",
        "sdown: %s   odown: %s   failover in progress: %s   sentinels agree on the master: %s" % (yesno(status["sdown"]), yesno(status["odown"]), yesno(status["failover_in_progress"]), yesno(status["agree"])),
        "quorum %d: %s" % (status["quorum"]["quorum"], status["quorum"]["reply"]),
    ]
    return "\n".join(lines)


def run(args, progress) -> int:
    sentinels, name = target.resolve(args)
    status = gather(sentinels, name)
    print(json.dumps(status) if args.json else table(status))
    return 0
