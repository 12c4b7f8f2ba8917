"""Run a docker-compose file's services as plain processes in a Network (tests/faults/netns.py).

What a container gives a service and how it is reproduced here:
  its hostname and the other services' names   a namespace per service, /etc/hosts
  the image's working dir and its volumes      a directory per volume under the test's workdir
                                               (absolute volume paths in commands are rewritten)
  the image's programs                         PATH: optional substitutes, then this venv's bin
  `environment`, `command`, `healthcheck`      the same argv and variables
  `depends_on` (service_started/healthy)       start order, waiting on the healthcheck
Compose's own interpolation (${VAR}, ${VAR:-default}, ${VAR-default}, $$) is applied
with the variables the test gives, as `docker compose` applies the shell's.

Substitutes let the very same file run real Redis instead of triokv, for comparison
runs: REDIS_NODE maps `triokv-node` to `redis-server`, REDIS_SENTINEL maps
`triokv-sentinel CONF` to `redis-server CONF --sentinel` (REDIS_SUBSTITUTES: both), as
scripts put first on PATH.
"""

import re
import shlex
import sys
import time
from pathlib import Path

import yaml

BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
HEALTH_INTERVAL = 0.2
HEALTH_TIMEOUT = 10.0

REDIS_NODE = {"triokv-node": 'exec redis-server "$@"'}
REDIS_SENTINEL = {"triokv-sentinel": 'conf="$1"; shift; exec redis-server "$conf" --sentinel "$@"'}
REDIS_SUBSTITUTES = {**REDIS_NODE, **REDIS_SENTINEL}

_VARIABLE = re.compile(r"\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


def interpolate(text: str, variables: dict) -> str:
    """Compose's substitution: $$ is a dollar, ${X:-d} is d when X is unset or empty,
    ${X-d} only when unset, ${X} and $X are X or empty."""

    def one(match):
        dollar, name, operator, default, bare = match.groups()
        if dollar:
            return "$"
        name = name or bare
        value = variables.get(name)
        if operator == ":-" and not value:
            return default
        if operator == "-" and value is None:
            return default
        return value or ""

    return _VARIABLE.sub(one, text)


def _interpolate_tree(node, variables):
    if isinstance(node, str):
        return interpolate(node, variables)
    if isinstance(node, list):
        return [_interpolate_tree(item, variables) for item in node]
    if isinstance(node, dict):
        return {key: _interpolate_tree(value, variables) for key, value in node.items()}
    return node


def load(path, variables: dict) -> dict:
    """The compose file as `docker compose config` would see it: YAML (anchors and merge
    keys resolved), then interpolated with `variables`."""
    return _interpolate_tree(yaml.safe_load(Path(path).read_text()), variables)


def image_workdir(dockerfile) -> str:
    """The image's final WORKDIR (where a service's relative paths point)."""
    found = [line.split(None, 1)[1].strip() for line in Path(dockerfile).read_text().splitlines() if line.upper().startswith("WORKDIR ")]
    return found[-1] if found else "/"


def write_substitutes(directory, substitutes: dict) -> Path:
    """One executable sh script per program name; put `directory` first on PATH."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name, body in substitutes.items():
        script = directory / name
        script.write_text("#!/bin/sh\n%s\n" % body)
        script.chmod(0o755)
    return directory


def start_order(services: dict) -> list:
    """Service names, each after everything it depends on (compose's depends_on)."""
    order, visiting = [], set()

    def visit(name):
        if name in order:
            return
        if name in visiting:
            raise ValueError("depends_on cycle through %s" % name)
        visiting.add(name)
        for dependency in _depends_on(services[name]):
            visit(dependency)
        order.append(name)

    for name in services:
        visit(name)
    return order


def _depends_on(service: dict) -> dict:
    """depends_on as {name: condition}, from either of its two compose forms."""
    value = service.get("depends_on") or {}
    if isinstance(value, list):
        return {name: "service_started" for name in value}
    return {name: (spec or {}).get("condition", "service_started") for name, spec in value.items()}


def _argv(value) -> list:
    """A compose command: a list as is, a string split as a shell would (compose does that)."""
    return [str(v) for v in value] if isinstance(value, list) else shlex.split(value)


def _health_argv(test) -> list:
    """A healthcheck `test` as argv: ["CMD", ...], ["CMD-SHELL", "..."] or a shell string."""
    if isinstance(test, str):
        return ["sh", "-c", test]
    if test[0] == "CMD":
        return [str(v) for v in test[1:]]
    if test[0] == "CMD-SHELL":
        return ["sh", "-c", " ".join(test[1:])]
    raise ValueError("healthcheck test %r cannot run (NONE disables it)" % (test,))


class ComposeRun:
    """The services of one compose file started in `net`, one namespace per service name."""

    def __init__(self, net, compose: dict, workdir_in_image: str, substitutes_dir=None):
        self.net = net
        self.services = compose["services"]
        self.workdir_in_image = workdir_in_image
        path = [str(substitutes_dir)] if substitutes_dir else []
        self.path = ":".join(path + [str(Path(sys.executable).parent), BASE_PATH])
        self.processes = {}
        self._was_healthy = set()  # compose checks a service_healthy dependency once

    def volume_dirs(self, name: str) -> dict:
        """Container path -> host directory, for the service's volumes and its working dir."""
        service, base = self.services[name], self.net.workdir / name
        mounts = {}
        for volume in service.get("volumes", []):
            if isinstance(volume, str):
                parts = volume.split(":")
                source, target = (parts[0], parts[1]) if len(parts) > 1 else ("anonymous" + parts[0], parts[0])
            else:
                source, target = volume.get("source", "anonymous" + volume["target"]), volume["target"]
            mounts[target] = base / "volumes" / Path(source).name
        workdir = service.get("working_dir", self.workdir_in_image)
        mounts.setdefault(workdir, base / "workdir")
        for directory in mounts.values():
            directory.mkdir(parents=True, exist_ok=True)
        return mounts

    def _localize(self, name: str, argv: list) -> list:
        """Container paths in argv rewritten to the service's directories, longest first."""
        mounts = sorted(self.volume_dirs(name).items(), key=lambda item: -len(item[0]))
        localized = []
        for arg in argv:
            for target, directory in mounts:
                arg = re.sub(r"(?<![\w/.])%s(?=/|\b|$)" % re.escape(target.rstrip("/")), str(directory), arg)
            localized.append(arg)
        return localized

    def environment(self, name: str) -> dict:
        env = {"PATH": self.path, "HOME": str(self.net.workdir / name), "LANG": "C.UTF-8"}
        declared = self.services[name].get("environment") or {}
        if isinstance(declared, list):
            declared = dict(item.split("=", 1) for item in declared)
        env.update({key: str(value) for key, value in declared.items()})
        return env

    def cwd(self, name: str) -> Path:
        service = self.services[name]
        return self.volume_dirs(name)[service.get("working_dir", self.workdir_in_image)]

    def start(self, name: str):
        """Start one service's command in its namespace (no dependency checks)."""
        argv = self._localize(name, _argv(self.services[name]["command"]))
        self.processes[name] = self.net.spawn(name, argv, cwd=self.cwd(name), env=self.environment(name), log_name="service")
        return self.processes[name]

    def restart(self, name: str):
        """Start a service again after kill(): cable back in, same command, same volumes."""
        self.net.rejoin(name)
        return self.start(name)

    def healthy(self, name: str) -> bool:
        """The service's own healthcheck, run in its namespace, passed."""
        test = self.services[name]["healthcheck"]["test"]
        argv = self._localize(name, _health_argv(test))
        done = self.net.run(name, argv, timeout=HEALTH_TIMEOUT, cwd=self.cwd(name), env=self.environment(name))
        return done.returncode == 0

    def wait_healthy(self, name: str, deadline: float):
        end = time.monotonic() + deadline
        while not self.healthy(name):
            process = self.processes.get(name)
            if process is not None and not process.alive():
                raise AssertionError("%s exited (%s); log:\n%s" % (name, process.popen.returncode, process.log_tail()))
            if time.monotonic() >= end:
                tail = process.log_tail() if process else "(not started)"
                raise AssertionError("%s not healthy after %.0fs; log:\n%s" % (name, deadline, tail))
            time.sleep(HEALTH_INTERVAL)

    def up(self, deadline: float):
        """Start every service in dependency order, waiting for service_healthy dependencies
        to pass their healthchecks, as `docker compose up` does."""
        for name in start_order(self.services):
            for dependency, condition in _depends_on(self.services[name]).items():
                if condition == "service_healthy" and dependency not in self._was_healthy:
                    self.wait_healthy(dependency, deadline)
                    self._was_healthy.add(dependency)
            self.start(name)

    def assert_running(self, *except_for):
        """Fail with the log if a started service exited (a crash, a refused config)."""
        for name, process in self.processes.items():
            if name not in except_for and not process.alive():
                raise AssertionError("%s exited (%s); log:\n%s" % (name, process.popen.returncode, process.log_tail()))
        return True

    def logs(self) -> str:
        return "\n".join("---- %s\n%s" % (name, process.log_tail()) for name, process in self.processes.items())
