"""Which sentinels and master name a command talks to: --sentinel, else --dir's cluster, else the defaults."""

import os

from . import layout as layouts

DEFAULT_SENTINELS = [("127.0.0.1", 26379), ("127.0.0.1", 26380), ("127.0.0.1", 26381)]
DEFAULT_MASTER = "mymaster"


def resolve(args) -> tuple:
    """(list of sentinel addresses, master name)."""
    name = getattr(args, "master", None)
    if args.sentinel:
        return list(args.sentinel), name or DEFAULT_MASTER
    if args.dir:
        layout = layouts.load(os.path.abspath(args.dir))
        return layout.sentinel_addrs, name or layout.master_name
    return list(DEFAULT_SENTINELS), name or DEFAULT_MASTER
