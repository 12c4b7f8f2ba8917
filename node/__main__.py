"""triokv-node: argv and config in, server out. Behaves like redis-server."""

import os
import sys

from . import __version__
from .config import ConfigError, load
from .core import Node
from .log import Log
from .persistence.manager import Persistence
from .process import enter_dir, informational, serve
from .server import Server

USAGE = """Usage: triokv-node [/path/to/redis.conf|config.yaml] [--directive value ...]
       triokv-node --sentinel /path/to/sentinel.conf [--directive value ...]
       triokv-node -v | --version
       triokv-node -h | --help

Examples:
       triokv-node (run the server with default config: 127.0.0.1:6379)
       triokv-node /etc/redis/6379.conf
       triokv-node --port 7777
       triokv-node --port 7777 --replicaof 127.0.0.1 8888
       triokv-node node.yaml --loglevel verbose
"""


def config_fail(error: ConfigError):
    """Print the offending file, line and reason, as redis-server does, and exit 1."""
    sys.stderr.write("\n*** FATAL CONFIG FILE ERROR (triokv %s) ***\n" % __version__)
    if error.where:
        sys.stderr.write("Reading the configuration: %s\n" % error.where)
    sys.stderr.write("%s\n" % error.message)
    sys.exit(1)


def parse_argv(argv):
    """Split argv into (config path or None, overrides)."""
    path = None
    if argv and not argv[0].startswith("--"):
        path, argv = argv[0], argv[1:]
    if path == "-":
        path = None
    return path, argv


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if informational(argv, USAGE, "triokv-node", __version__):
        return 0
    if "--sentinel" in argv:
        argv.remove("--sentinel")
        from sentinel.__main__ import main as sentinel_main

        return sentinel_main(argv)
    path, overrides = parse_argv(argv)
    try:
        config = load(path, overrides)
    except ConfigError as e:
        config_fail(e)
    return run(config)


def run(config):
    log = Log(config["loglevel"], config["logfile"], role="M")
    log.notice("oO0OoO0OoO0Oo triokv is starting oO0OoO0OoO0Oo")
    log.notice("triokv version=%s, redis_version=7.0.15, bits=64, pid=%d, just started" % (__version__, os.getpid()))
    if config.path is None:
        log.warning("Warning: no config file specified, using the default config.")
    else:
        log.notice("Configuration loaded")
    if not enter_dir(config, log):
        return 1
    node = Node(config, log=log)
    Persistence(node, log)
    server = Server(node, log)
    log.notice("Server initialized")
    return serve(server, config, log)


if __name__ == "__main__":
    sys.exit(main())
