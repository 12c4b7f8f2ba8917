"""deploy/docker-compose.yml and deploy/Dockerfile, checked without Docker.

The compose file must be valid Compose (the specification's own JSON schema, before and
after interpolation), and carry what users rely on: every service healthchecked,
restarted, built from the one image, on DESIGN's ports published as-is, its data in a
named volume; the sentinels monitoring node1 with hostnames resolved and announced.
Each service's command is run with the programs replaced by recorders, to show the
config file it writes is one triokv-node loads, and that a restart keeps that file.
"""

import json
import re
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

from node.config import load as load_node_config
from tests.faults import compose

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SCHEMA = Path(__file__).with_name("compose-spec.json")
NODE_PORTS = {"node1": 7000, "node2": 7001, "node3": 7002}
SENTINEL_PORTS = {"sentinel1": 26379, "sentinel2": 26380, "sentinel3": 26381}
ALL_PORTS = {**NODE_PORTS, **SENTINEL_PORTS}
RECORDER = 'printf "%s\\n" "$0" "$@" > started.argv'


@pytest.fixture(scope="module")
def raw():
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services():
    """The services as `docker compose config` sees them with no variables set."""
    return compose.load(DEPLOY / "docker-compose.yml", {})["services"]


def test_schema_is_the_draft_07_compose_specification():
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    assert schema["title"] == "Compose Specification"


@pytest.mark.parametrize("variables", [{}, {"NODE1_ANNOUNCE": "db1.example.net", "PUBLISH_IP": "0.0.0.0", "DOWN_AFTER_MS": "1000"}])
def test_compose_file_is_valid_compose(raw, variables):
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))
    for document in (raw, compose.load(DEPLOY / "docker-compose.yml", variables)):
        errors = ["%s: %s" % ("/".join(map(str, e.absolute_path)), e.message) for e in validator.iter_errors(document)]
        assert errors == []


def test_the_services_are_designs_topology(services):
    assert set(services) == set(ALL_PORTS)
    for name, service in services.items():
        assert service["hostname"] == name


def test_every_service_is_built_from_the_one_image_and_restarted(services):
    for name, service in services.items():
        assert service["image"] == "triokv:local", name
        assert (DEPLOY / service["build"]["context"]).resolve() == ROOT, name
        assert service["build"]["dockerfile"] == "deploy/Dockerfile", name
        assert service["restart"] in ("always", "unless-stopped"), name


def test_every_service_has_a_healthcheck_on_its_own_port(services):
    for name, service in services.items():
        test = service["healthcheck"]["test"]
        assert test[0] == "CMD" and test[1] == "python", name
        assert "port=%d" % ALL_PORTS[name] in test[-1], name


def test_ports_are_published_as_they_are_inside(services):
    for name, service in services.items():
        port = ALL_PORTS[name]
        assert service["ports"] == ["127.0.0.1:%d:%d" % (port, port)], name
        assert re.search(r"^port %d$" % port, command_script(service), re.M), name


def test_every_service_keeps_its_data_in_a_named_volume_at_the_image_workdir(raw, services):
    workdir = compose.image_workdir(DEPLOY / "Dockerfile")
    assert workdir == "/data"
    for name, service in services.items():
        assert service["volumes"] == ["%s-data:%s" % (name, workdir)], name
        assert "%s-data" % name in raw["volumes"]


def test_start_order_waits_for_healthy_nodes(services):
    order = compose.start_order(services)
    assert order.index("node1") < min(order.index("node2"), order.index("node3"))
    assert services["node2"]["depends_on"] == {"node1": {"condition": "service_healthy"}}
    for name in SENTINEL_PORTS:
        assert services[name]["depends_on"] == {node: {"condition": "service_healthy"} for node in NODE_PORTS}


def command_script(service) -> str:
    argv = service["command"]
    assert argv[:2] == ["sh", "-ec"]
    return argv[2]


def test_sentinels_monitor_node1_by_name_and_announce_names(services):
    for name, service in services.items():
        if name in SENTINEL_PORTS:
            script = command_script(service)
            for line in ("sentinel resolve-hostnames yes", "sentinel announce-hostnames yes", "sentinel announce-ip %s" % name, "sentinel monitor mymaster node1 7000 2", "sentinel down-after-milliseconds mymaster 5000"):
                assert re.search("^%s$" % line, script, re.M), (name, line)
            assert script.rstrip().endswith("exec triokv-sentinel sentinel.conf")


def test_variables_reach_the_configs(tmp_path):
    services = compose.load(DEPLOY / "docker-compose.yml", {"NODE2_ANNOUNCE": "db2.example.net", "DOWN_AFTER_MS": "1000"})["services"]
    assert "replica-announce-ip db2.example.net" in command_script(services["node2"])
    assert services["node2"]["networks"]["default"]["aliases"] == ["db2.example.net"]
    assert "sentinel down-after-milliseconds mymaster 1000" in command_script(services["sentinel3"])


def run_command(service, directory, bin_dir):
    """The service's command with its program replaced by a recorder of its argv."""
    env = {"PATH": "%s:/usr/bin:/bin" % bin_dir}
    done = subprocess.run(service["command"], cwd=directory, env=env, capture_output=True, text=True, timeout=10)
    assert done.returncode == 0, done.stderr
    return (directory / "started.argv").read_text().split("\n")[:-1]


@pytest.mark.parametrize("name", list(NODE_PORTS))
def test_node_command_writes_a_config_triokv_loads_once(services, tmp_path, name):
    bin_dir = compose.write_substitutes(tmp_path / "bin", {"triokv-node": RECORDER})
    data = tmp_path / "data"
    data.mkdir()
    argv = run_command(services[name], data, bin_dir)
    assert argv[1:] == ["node.conf"]
    config = load_node_config(str(data / "node.conf"))
    assert config["port"] == NODE_PORTS[name]
    assert config["replica-announce-ip"] == name
    assert config["protected-mode"] is False and "0.0.0.0" in config["bind"]
    assert config["replicaof"] == ("" if name == "node1" else "node1 7000")
    # A restart keeps the file (and the roles a failover wrote into it).
    (data / "node.conf").write_text("port %d\n# rewritten\n" % NODE_PORTS[name])
    run_command(services[name], data, bin_dir)
    assert (data / "node.conf").read_text().endswith("# rewritten\n")


def test_sentinel_command_writes_its_config_once(services, tmp_path):
    bin_dir = compose.write_substitutes(tmp_path / "bin", {"triokv-sentinel": RECORDER})
    argv = run_command(services["sentinel2"], tmp_path, bin_dir)
    assert argv[1:] == ["sentinel.conf"]
    lines = (tmp_path / "sentinel.conf").read_text().splitlines()
    # Reachable by the other sentinels and by clients, whatever the sentinel's default bind.
    assert lines[:3] == ["port 26380", "bind 0.0.0.0", "protected-mode no"]
    # Redis reads hostnames only after resolve-hostnames: it must come before monitor.
    assert lines.index("sentinel resolve-hostnames yes") < lines.index("sentinel monitor mymaster node1 7000 2")
    (tmp_path / "sentinel.conf").write_text("port 26380\nsentinel myid abc\n")
    run_command(services["sentinel2"], tmp_path, bin_dir)
    assert (tmp_path / "sentinel.conf").read_text() == "port 26380\nsentinel myid abc\n"


def dockerfile_stages() -> list:
    """The Dockerfile's stages, each a list of [INSTRUCTION, arguments] (comments and
    continuation lines joined)."""
    text = re.sub(r"\\\n\s*", " ", (DEPLOY / "Dockerfile").read_text())
    stages = []
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            instruction = line.split(None, 1)
            if instruction[0] == "FROM":
                stages.append([])
            stages[-1].append(instruction)
    return stages


def test_dockerfile_builds_wheels_then_runs_the_installed_package_as_a_user():
    build, image = dockerfile_stages()
    assert build[0] == ["FROM", "python:3.11-slim AS wheels"]
    assert any(i[0] == "RUN" and "pip wheel --no-cache-dir --wheel-dir /wheels ." in i[1] for i in build)
    assert image[0] == ["FROM", "python:3.11-slim"]
    assert not any("gcc" in i[1] for i in image)  # the compiler stays in the build stage
    assert any(i[0] == "RUN" and "pip install --no-cache-dir --no-index /wheels/*.whl" in i[1] for i in image)
    keys = [i[0] for i in image]
    user = [i[1] for i in image if i[0] == "USER"]
    assert user and user[-1] not in ("root", "0")
    assert keys.index("USER") < keys.index("CMD")
    assert [i[1] for i in image if i[0] == "WORKDIR"][-1] == compose.image_workdir(DEPLOY / "Dockerfile")
    assert json.loads(image[keys.index("CMD")][1])[0] == "triokv-node"


def test_build_context_sends_what_the_dockerfile_copies():
    """Every COPY source is let through deploy/Dockerfile.dockerignore (it excludes the rest)."""
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    allowed = [line[1:].rstrip("/*") for line in ignore if line.startswith("!")]
    copied = [i[1].split()[:-1] for stage in dockerfile_stages() for i in stage if i[0] == "COPY" and "--from" not in i[1]]
    for sources in copied:
        for source in sources:
            assert source in allowed, source
            assert (ROOT / source).exists(), source
