"""`triokv`: the operator CLI. argv in, one command run, exit status out (0 ok, 1 error, 130 Ctrl-C)."""

import argparse
import sys

from . import CliError, cluster, drill, failover, status, target, watch
from .layout import IMPLS
from .probe import parse_addr
from .progress import Progress

DEFAULT_SENTINELS = " ".join("%s:%d" % a for a in target.DEFAULT_SENTINELS)


class Parser(argparse.ArgumentParser):
    """argparse with usage errors as exit status 1, like every other error of the CLI."""

    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(1, "%s: error: %s\n" % (self.prog, message))


def address(text: str) -> tuple:
    try:
        return parse_addr(text)
    except ValueError:
        raise argparse.ArgumentTypeError("not HOST:PORT: %r" % text)


def add_target(p, master=True):
    """Which sentinels to talk to: --sentinel (repeatable), else the cluster in --dir, else the defaults."""
    p.add_argument("--sentinel", action="extend", nargs="+", type=address, metavar="HOST:PORT", help="sentinels to ask (default: the cluster in --dir if given, else %s)" % DEFAULT_SENTINELS)
    p.add_argument("--dir", help="take the sentinels and master name from the cluster in this directory")
    if master:
        p.add_argument("--master", help="the master name (default: mymaster)")


def add_cluster(sub):
    p = sub.add_parser("cluster", help="a local 3-node, 3-sentinel cluster: up, down, status", description="Start, stop and inspect a local cluster: nodes 127.0.0.1:7000 (master), 7001, 7002; sentinels 26379-26381; master name mymaster, quorum 2.")
    csub = p.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=Parser)
    d = "the cluster's directory: configs, data, logs, pid files (default ./triokv-cluster)"
    up = csub.add_parser("up", help="start the cluster and wait until it is ready", description="Start the cluster detached and wait until replicas are in sync and every sentinel knows the master, both replicas and the other sentinels. Over a stopped cluster in the same --dir, restart it as it was (--fresh replaces it).")
    up.add_argument("--dir", default="triokv-cluster", help=d)
    up.add_argument("--impl", choices=IMPLS, help="triokv (triokv-node + triokv-sentinel, the default) or redis (redis-server + redis-server --sentinel)")
    up.add_argument("--port-base", type=int, help="first node port (default 7000; nodes use 3 ports from it)")
    up.add_argument("--sentinel-port-base", type=int, help="first sentinel port (default 26379; sentinels use 3 ports from it)")
    up.add_argument("--down-after-ms", type=int, help="sentinel down-after-milliseconds (default 5000)")
    up.add_argument("--failover-timeout-ms", type=int, help="sentinel failover-timeout (default 15000)")
    up.add_argument("--fresh", action="store_true", help="replace a stopped cluster in --dir (deletes its data) instead of restarting it")
    up.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the cluster to be ready (default 60)")
    up.set_defaults(func=cluster.up)
    down = csub.add_parser("down", help="stop the processes the cluster started", description="Stop exactly the processes `cluster up` started (pid files; SIGTERM, then SIGKILL).")
    down.add_argument("--dir", default="triokv-cluster", help=d)
    down.set_defaults(func=cluster.down)
    st = csub.add_parser("status", help="each process: pid, alive, role", description="Each process of the cluster: pid, whether it runs, the role it reports.")
    st.add_argument("--dir", default="triokv-cluster", help=d)
    st.add_argument("--json", action="store_true", help="print one JSON object")
    st.set_defaults(func=cluster.status)


def add_commands(sub):
    p = sub.add_parser("status", help="master, replicas, sentinels, flags and quorum in one table", description="One table of the master, its replicas (offset, lag, link) and the sentinels (epoch, last hello), the flags (sdown, odown, failover in progress) and SENTINEL CKQUORUM.")
    add_target(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=status.run)

    p = sub.add_parser("watch", help="the live event stream of all sentinels", description="PSUBSCRIBE * on every sentinel; events merged in time order: time, sentinel, event, payload. Ctrl-C stops.")
    add_target(p, master=False)
    p.add_argument("--count", type=int, help="exit after this many events")
    p.add_argument("--timeout", type=float, help="exit after this many seconds")
    p.add_argument("--json", action="store_true", help="one JSON object per event")
    p.set_defaults(func=watch.run)

    p = sub.add_parser("failover", help="force a failover and wait for +switch-master", description="SENTINEL FAILOVER through a sentinel; waits for +switch-master (subscribed before asking) and reports the new master and how long it took.")
    add_target(p)
    p.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for +switch-master (default 60)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=failover.run)

    p = sub.add_parser("drill", help="inject a fault under write load and measure the failover", description=drill.DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("kind", choices=drill.KINDS, help="the fault")
    p.add_argument("--dir", default="triokv-cluster", help="the cluster's directory (default ./triokv-cluster)")
    p.add_argument("--inject", metavar="CMD", help="inject the fault with this shell command instead (env: TRIOKV_TARGET_NAME/HOST/PORT/PID, TRIOKV_MASTER_HOST/PORT, TRIOKV_DIR)")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    p.add_argument("--report", metavar="FILE.html", help="write a self-contained HTML report with a timeline")
    p.add_argument("--interval-ms", type=float, default=5.0, help="pause between writes (default 5)")
    p.add_argument("--pause-ms", type=int, help="pause-master: how long the master freezes (default 3 x down-after + 2000)")
    p.add_argument("--pause-with", choices=("debug-sleep", "client-pause"), default="debug-sleep", help="pause-master: DEBUG SLEEP (the whole server stops) or CLIENT PAUSE ALL")
    p.add_argument("--warmup", type=float, default=1.0, help="seconds of writes before the fault (default 1)")
    p.add_argument("--timeout", type=float, default=90.0, help="seconds to wait for each stage (default 90)")
    p.set_defaults(func=drill.run)


def build_parser() -> Parser:
    parser = Parser(prog="triokv", description="Operate a triokv (or Redis) cluster watched by sentinels: start a local one, look at it, fail it over, drill faults.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=Parser)
    add_cluster(sub)
    add_commands(sub)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    progress = Progress()
    try:
        return args.func(args, progress)
    except CliError as e:
        sys.stderr.write("triokv: error: %s\n" % e)
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("triokv: interrupted\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
