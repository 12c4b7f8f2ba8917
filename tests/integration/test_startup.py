"""triokv-node as a process: config files (redis.conf and YAML), overrides, refusals, logs, pid file, signals."""

import os
import signal
import subprocess

import pytest
import redis

from tests.support import answers_ping, free_port, triokv_command, wait_until


def start(args, cwd):
    return subprocess.Popen([*triokv_command(), *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def run_to_exit(args, cwd, timeout=20):
    proc = start(args, cwd)
    try:
        out, _ = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, out.decode()


@pytest.fixture
def node_process(tmp_path):
    """Start a node with the given args; stop it by pid at teardown."""
    procs = []

    def make(*args, config=None):
        port = free_port()
        proc = start([*([config] if config else []), "--port", str(port), "--dir", str(tmp_path), *args], tmp_path)
        procs.append(proc)
        wait_until(lambda: answers_ping("127.0.0.1", port) or proc.poll() is not None, 20, "node answers PING")
        assert proc.poll() is None, proc.stdout.read().decode()
        return proc, port

    yield make
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize(
    "line, reason",
    [
        ("no-such-directive yes", "Bad directive or wrong number of arguments"),
        ("port seventy", "argument couldn't be parsed into an integer"),
        ("maxmemory lots", "argument must be a memory value"),
        ("appendfsync sometimes", "argument(s) must be one of the following"),
        ("save 60", "Invalid save parameters"),
    ],
)
def test_bad_redis_conf_line_names_file_line_and_reason(tmp_path, line, reason):
    conf = tmp_path / "node.conf"
    conf.write_text("# a comment\nport 7000\n%s\n" % line)
    code, out = run_to_exit([str(conf)], tmp_path)
    assert code == 1
    assert "%s:3" % conf in out and line in out and reason in out, out
    assert "Ready to accept connections" not in out


def test_bad_yaml_value_is_refused_with_its_line(tmp_path):
    conf = tmp_path / "node.yaml"
    conf.write_text("port: 7000\nmaxclients: many\n")
    code, out = run_to_exit([str(conf)], tmp_path)
    assert code == 1 and "%s:2" % conf in out and "maxclients" in out, out


def test_bad_override_on_the_command_line_is_refused(tmp_path):
    code, out = run_to_exit(["--port", str(free_port()), "--maxmemory-policy", "sometimes"], tmp_path)
    assert code == 1 and "maxmemory-policy" in out and "command line" in out, out


def test_yaml_config_and_overrides_apply(node_process, tmp_path):
    conf = tmp_path / "node.yaml"
    conf.write_text("maxmemory-policy: allkeys-lru\nrequirepass: secret\nsave: ''\n")
    _, port = node_process("--maxclients", "123", config=str(conf))
    r = redis.Redis(port=port, password="secret")
    assert r.config_get("maxmemory-policy") == {"maxmemory-policy": "allkeys-lru"}
    assert r.config_get("maxclients") == {"maxclients": "123"}
    assert r.config_get("save") == {"save": ""}
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=port).ping()


def test_redis_conf_with_quotes_and_multiword_directives(node_process, tmp_path):
    conf = tmp_path / "node.conf"
    conf.write_text('save 900 1 300 10\nclient-output-buffer-limit pubsub 1mb 512kb 30\ndbfilename "my dump.rdb"\n')
    _, port = node_process(config=str(conf))
    r = redis.Redis(port=port, decode_responses=True)
    assert r.config_get("save") == {"save": "900 1 300 10"}
    assert r.config_get("dbfilename") == {"dbfilename": "my dump.rdb"}
    assert "pubsub 1048576 524288 30" in r.config_get("client-output-buffer-limit")["client-output-buffer-limit"]


def test_replicaof_override_accepts_one_or_two_arguments(tmp_path):
    from node.config import load

    assert load(None, ["--replicaof", "127.0.0.1 7000"])["replicaof"] == "127.0.0.1 7000"
    assert load(None, ["--replicaof", "127.0.0.1", "7000"])["replicaof"] == "127.0.0.1 7000"


def test_logs_in_redis_format_to_logfile_and_writes_pidfile(node_process, tmp_path):
    logfile, pidfile = tmp_path / "node.log", tmp_path / "node.pid"
    proc, port = node_process("--logfile", str(logfile), "--pidfile", str(pidfile), "--save", "")
    assert int(pidfile.read_text()) == proc.pid
    # PING may be answered (-LOADING) a moment before the dataset is loaded and Ready is logged.
    wait_until(lambda: "Ready to accept connections" in logfile.read_text(), 20, "the Ready line in the log file")
    text = logfile.read_text()
    assert "%d:M " % proc.pid in text and "* Ready to accept connections" in text
    # Redis's layout: pid:role day month year time.ms level message
    line = [l for l in text.splitlines() if "Ready to accept" in l][0]
    pid_role, day, month, year, clock, level = line.split(" ")[:6]
    assert pid_role == "%d:M" % proc.pid and day.isdigit() and year.isdigit() and level == "*"
    assert len(clock.split(".")[1]) == 3


def test_sigterm_shuts_down_cleanly_and_removes_the_pidfile(node_process, tmp_path):
    pidfile = tmp_path / "node.pid"
    proc, port = node_process("--pidfile", str(pidfile), "--save", "")
    os.kill(proc.pid, signal.SIGTERM)
    assert proc.wait(timeout=15) == 0
    assert not pidfile.exists()
    out = proc.stdout.read().decode()
    assert "Received SIGTERM scheduling shutdown" in out and "ready to exit, bye bye" in out


def test_port_in_use_fails_with_a_message(node_process, tmp_path):
    _, port = node_process("--save", "")
    code, out = run_to_exit(["--port", str(port), "--dir", str(tmp_path)], tmp_path)
    assert code == 1 and "Failed listening on port %d" % port in out, out


def test_help_and_version(tmp_path):
    code, out = run_to_exit(["--version"], tmp_path)
    assert code == 0 and "7.0.15" in out
    code, out = run_to_exit(["--help"], tmp_path)
    assert code == 0 and "Usage: triokv-node" in out


def test_python_dash_m_node_runs_the_server(tmp_path):
    import sys

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "node", "--port", str(port), "--save", ""], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: answers_ping("127.0.0.1", port), 20, "python -m node answers PING")
    finally:
        proc.kill()
        proc.wait()
