"""triokv-sentinel CONFIG [--directive value ...]: behaves like `redis-sentinel` (and
`triokv-node --sentinel CONFIG`, like `redis-server CONFIG --sentinel`)."""

import os
import sys


from node import __version__
from node.__main__ import config_fail, parse_argv
from node.config import ConfigError
from node.log import Log
from node.process import enter_dir, informational, serve

from . import config as sentinel_config
from .server import build
from .state_file import ConfFileStore, StateFileStore

USAGE = """Usage: triokv-sentinel /path/to/sentinel.conf|sentinel.yaml [--directive value ...]
       triokv-node --sentinel /path/to/sentinel.conf [--directive value ...]

Examples:
       triokv-sentinel sentinel.conf
       triokv-sentinel sentinel.conf --port 26380
       triokv-sentinel sentinel.yaml --loglevel verbose
"""


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if informational(argv, USAGE, "triokv-sentinel", __version__):
        return 0
    path, overrides = parse_argv(argv)
    if not path:
        sys.stderr.write("Sentinel needs config file on disk to save state. Exiting...\n")
        return 1
    try:
        config = sentinel_config.load(path, overrides)
    except ConfigError as e:
        config_fail(e)
    return run(config)


def run(config):
    node_config = config.node_config
    log = Log(node_config["loglevel"], node_config["logfile"], role="X")
    if not os.access(config.path, os.W_OK):
        log.warning("Sentinel config file %s is not writable: %s. Exiting..." % (config.path, os.strerror(13)))
        return 1
    store = StateFileStore(config.path + ".state") if config.is_yaml else ConfFileStore(config.path)
    sentinel, node, server = build(config, log=log, store=store)
    try:
        sentinel_config.apply_statements(sentinel, config.statements)
        if config.is_yaml and os.path.exists(store.path):
            state = sentinel_config.load(store.path)
            sentinel_config.apply_statements(sentinel, state.statements, override=True)
        sentinel_config.propagate_periods(sentinel)
    except ConfigError as e:
        config_fail(e)
    log.warning("oO0OoO0OoO0Oo triokv is starting oO0OoO0OoO0Oo")
    log.warning("triokv version=%s, redis_version=7.0.15, bits=64, pid=%d, just started" % (__version__, os.getpid()))
    log.warning("Configuration loaded")
    if not enter_dir(node_config, log):
        return 1
    log.notice("Running mode=sentinel, port=%d." % node_config["port"])
    return serve(server, node_config, log)


if __name__ == "__main__":
    sys.exit(main())
