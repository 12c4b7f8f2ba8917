"""`triokv status`, `watch`, `failover` and every `drill` kind, end to end on one live cluster per
implementation. Every drill leaves the cluster healthy (it restarts what it killed and waits),
and waits for health before starting, so the tests do not depend on each other's outcome."""

import json
import signal
import subprocess
import sys
import threading

from tests.cli.conftest import ROOT, cli, cli_json
from tests.support import wait_until


def addr(port: int) -> str:
    return "127.0.0.1:%d" % port


def test_status_json_and_table(live_cluster):
    status = cli_json("status", *live_cluster.sentinel_args)
    nodes = {addr(p) for p in live_cluster.node_ports}
    assert status["master"]["address"] in nodes and status["master"]["flags"] == "master"
    assert {r["address"] for r in status["replicas"]} == nodes - {status["master"]["address"]}
    assert all(isinstance(r["lag"], int) and r["link"] == "ok" for r in status["replicas"])
    assert {s["address"] for s in status["sentinels"]} == {addr(p) for p in live_cluster.sentinel_ports}
    assert all(s["reachable"] and s["master"] == status["master"]["address"] for s in status["sentinels"])
    assert status["quorum"]["ok"] and status["quorum"]["reply"].startswith("OK 3 usable Sentinels")
    assert not (status["sdown"] or status["odown"] or status["failover_in_progress"]) and status["agree"]

    table = cli("status", *live_cluster.sentinel_args).stdout
    header = next(line for line in table.splitlines() if line.startswith("ROLE"))
    assert header.split() == ["ROLE", "ADDRESS", "FLAGS", "LINK", "OFFSET", "LAG", "EPOCH", "LAST-HELLO"]
    roles = [line.split()[0] for line in table.splitlines() if line.split()[:1] in (["master"], ["replica"], ["sentinel"])]
    assert roles.count("master") == 1 and roles.count("replica") == 2 and roles.count("sentinel") == 3
    assert "quorum 2: OK 3 usable Sentinels" in table


def drill(cluster, kind, *extra):
    done = cli("drill", kind, "--dir", cluster.dir, "--json", "--timeout", "60", *extra, check=False)
    assert done.stdout, done.stderr
    result = json.loads(done.stdout)
    assert done.returncode == (0 if result["healthy"] else 1)
    cluster.note_pids()
    return result, done.stderr


def check_common(result, kind, cluster):
    w = result["writes"]
    assert result["kind"] == kind and result["impl"] == cluster.impl
    assert result["healthy"], result["problems"]
    assert w["attempted"] == w["acknowledged"] + w["failed"] and w["acknowledged"] > 0
    assert 0 <= w["lost"] <= w["acknowledged"] and len(w["lost_sample"]) == min(w["lost"], 20)
    assert w["torn"] == 0 and w["replicas_agree"]
    assert result["master_after"] in {addr(p) for p in cluster.node_ports}


def check_failover(result):
    t = result["timings"]
    switches = [e["payload"].split() for e in result["events"] if e["event"] == "+switch-master"]
    targets = ["%s:%s" % (p[3], p[4]) for p in switches]
    assert t["new_master"] == targets[0] != result["master_before"]
    if result["impl"] == "triokv" or len(set(targets)) == 1:
        # One failover, as asked: a second one would be our sentinels' bug.
        assert result["master_after"] == t["new_master"]
    else:
        # Real Redis Sentinel, on a loaded machine, sometimes fails over a second time (back to
        # the restarted old master): the reference's behaviour, reported as it happened.
        assert result["master_after"] == targets[-1]
    assert 0 <= t["sdown_s"] <= t["odown_s"] <= t["switch_master_s"] <= t["healthy_s"]
    if result["master_after"] != result["master_before"]:
        # The old master is back, following the new one.
        assert result["target_role_after"] == "replica of %s (link up)" % result["master_after"]
    else:
        assert result["target_role_after"].startswith("master")
    assert result["writes"]["failed"] > 0 and t["writes_resumed_s"] is not None


def test_drill_kill_master_with_report(live_cluster, tmp_path):
    page = tmp_path / "drill.html"
    result, stderr = drill(live_cluster, "kill-master", "--report", page)
    check_common(result, "kill-master", live_cluster)
    check_failover(result)
    # The old master restarts following the master of that moment: the one the drill waited for
    # (real Redis Sentinel may fail over a second time later, back to the restarted node).
    switches = [e["payload"].split() for e in result["events"] if e["event"] == "+switch-master"]
    followed = {"as replica of %s:%s" % (p[3], p[4]) for p in switches}
    assert result["restarted"] and any(f in result["restarted"][0] for f in followed), result["restarted"]
    assert "waiting for +switch-master" in stderr
    html = page.read_text()
    assert "<svg" in html and "+switch-master" in html and "<script" not in html and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_drill_pause_master(live_cluster):
    result, _ = drill(live_cluster, "pause-master")
    check_common(result, "pause-master", live_cluster)
    check_failover(result)
    assert result["action"].startswith("DEBUG SLEEP") and not result["restarted"]


def test_drill_kill_replica(live_cluster):
    result, _ = drill(live_cluster, "kill-replica")
    check_common(result, "kill-replica", live_cluster)
    t = result["timings"]
    assert t["sdown_s"] is not None and t["switch_master_s"] is None and t["odown_s"] is None
    assert result["master_after"] == result["master_before"]
    assert result["target_role_after"] == "replica of %s (link up)" % result["master_before"]
    assert result["restarted"]


def test_drill_kill_sentinel(live_cluster):
    result, _ = drill(live_cluster, "kill-sentinel")
    check_common(result, "kill-sentinel", live_cluster)
    assert result["timings"]["sdown_s"] is not None and result["timings"]["switch_master_s"] is None
    assert result["target"] == "sentinel-%d" % live_cluster.sentinel_ports[-1] and result["target_role_after"] == "sentinel"
    # The watcher lost the killed sentinel and found it again after the restart.
    lost = [e for e in result["events"] if e["event"] == "watch:lost"]
    assert lost and lost[0]["sentinel"] == addr(live_cluster.sentinel_ports[-1])


def test_drill_restart_master(live_cluster):
    result, _ = drill(live_cluster, "restart-master")
    check_common(result, "restart-master", live_cluster)
    assert result["action"].startswith("SIGTERM") and "restarted" in result["action"]
    assert result["target_role_after"] in ("master", "replica of %s (link up)" % result["master_after"])


def test_drill_custom_injection_is_healed(live_cluster):
    result, _ = drill(live_cluster, "kill-replica", "--inject", 'kill -9 "$TRIOKV_TARGET_PID"')
    check_common(result, "kill-replica", live_cluster)
    assert result["action"].startswith("ran: kill -9") and result["restarted"]
    assert result["timings"]["sdown_s"] is not None


def test_example_app_writes_on_the_master_and_reads_a_replica(live_cluster):
    sentinels = [a for p in live_cluster.sentinel_ports for a in ("--sentinel", addr(p))]
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "sentinel_app.py"), *sentinels, "--count", "5", "--interval", "0.05"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    rounds = done.stdout.splitlines()
    assert len(rounds) == 5 and all(" wrote " in line and "failed" not in line for line in rounds)
    master = cli_json("status", *live_cluster.sentinel_args)["master"]["address"]
    assert all(" on %s, replica has " % master in line for line in rounds)


class Lines:
    """A running process's output, line by line, read by a thread (so waits keep their deadline)."""

    def __init__(self, stream):
        self.lines = []
        threading.Thread(target=lambda: self.lines.extend(iter(stream.readline, "")), daemon=True).start()

    def wait(self, pred, what, deadline=30):
        return wait_until(lambda: [line for line in self.lines if pred(line)], deadline, what)


def test_drill_interrupted_restarts_what_it_killed(live_cluster):
    argv = [sys.executable, "-m", "sentinel.cli", "drill", "kill-replica", "--dir", str(live_cluster.dir), "--timeout", "60"]
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        stderr = Lines(proc.stderr)
        stderr.wait(lambda line: line.startswith("fault injected: SIGKILL"), "the drill to kill a replica")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stderr.wait(lambda line: line.startswith("triokv: interrupted"), "the drill's last words")
    assert any(line.startswith("restarted node-") for line in stderr.lines)
    status = cli_json("cluster", "status", "--dir", live_cluster.dir)
    assert all(p["alive"] for p in status["processes"])
    live_cluster.note_pids()


def test_watch_and_failover(live_cluster):
    """Last in the module: a forced failover leaves Redis's old master to be converted 10 s later."""
    watch = subprocess.Popen([sys.executable, "-m", "sentinel.cli", "watch", *live_cluster.sentinel_args, "--timeout", "120"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = Lines(watch.stdout)
        lines.wait(lambda line: line.count("watch:subscribed") == 1 and len([x for x in lines.lines if "watch:subscribed" in x]) == 3, "watch to subscribe to 3 sentinels")
        result = cli_json("failover", *live_cluster.sentinel_args)
        assert result["new_master"] != result["old_master"] and result["seconds"] > 0
        switches = lines.wait(lambda line: "+switch-master" in line, "watch to show +switch-master")
        fields = switches[0].split()
        assert fields[1] in {addr(p) for p in live_cluster.sentinel_ports}
        assert fields[3:] == ["mymaster", *result["old_master"].split(":"), *result["new_master"].split(":")]
        watch.send_signal(signal.SIGINT)
        assert watch.wait(timeout=10) == 0
        assert "Traceback" not in watch.stderr.read()
    finally:
        if watch.poll() is None:
            watch.kill()
            watch.wait()
