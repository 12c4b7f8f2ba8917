"""The long randomized drill schedule (issue 7), outside CI: many nemesis rounds against a
cluster in network namespaces, for triokv in both modes and for real Redis 7 + Sentinel.

    sudo python bench/durability.py                     # 27 rounds each, a random seed
    sudo python bench/durability.py --rounds 100 --seed 1234 --targets triokv/durable

Targets: triokv/default (synchronous-replicas 0), triokv/durable (synchronous-replicas 1),
redis/default (redis-server and redis-server --sentinel; Redis has no synchronous mode). Each
target gets the same schedule from the seed: round by round the same nemesis (each one once
per 9 rounds, in a shuffled order) with the same random choices (which replica, which
sentinels, how long: faults of 1-6 s, 2-4 flaps of 0.5-2 s, a replica held back 0.2-1.5 s; a
third of the partitions of the master with a replica heal as soon as the failover leader
starts choosing a replica), against a cluster that stays up across rounds (tests/durability:
each round starts from a healthy cluster in sync, settles, reads everything back and checks
it). A round whose cluster does not settle is counted as failed and the cluster is rebuilt.

Prints one line per round and a summary per target: rounds, failed rounds, writes attempted,
acknowledged, acknowledged-but-lost, unacknowledged-but-present, duplicates, and the losses
per nemesis. Needs root (network namespaces), iproute2 and iptables; redis-server for Redis.
"""

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.durability import nemesis  # noqa: E402
from tests.durability.cluster import HOSTS, Cluster  # noqa: E402
from tests.durability.drill import Timing, run_drill  # noqa: E402
from tests.faults.netns import Network, missing_tools  # noqa: E402

TARGETS = ("triokv/default", "triokv/durable", "redis/default")
# Faults of up to 6 s and flaps of up to 4 x 4 s need more than the tests' 30 s per drill.
TIMING = Timing(budget=60.0)
COUNTS = ("attempted", "acknowledged", "acknowledged_lost", "unacknowledged_present", "duplicates", "unknown_present")


def random_plan(rng: random.Random) -> nemesis.Plan:
    """Durations drawn around down-after (1 s): some faults end before a failover, most after."""
    return nemesis.Plan(
        fault=rng.uniform(1.0, 6.0),
        flaps=rng.randint(2, 4),
        flap_cut=rng.uniform(0.5, 2.0),
        flap_heal=rng.uniform(0.5, 2.0),
        lag=rng.uniform(0.2, 1.5),
        heal_on=rng.choice([None, None, ("+failover-state-select-slave",)]),
        rng=random.Random(rng.random()),
    )


class Target:
    """One implementation and mode: its cluster (rebuilt after a failed round) and its tally."""

    def __init__(self, name: str, workdir: Path):
        self.name = name
        self.implementation, self.mode = name.split("/")
        self.workdir = workdir
        self.net = self.cluster = None
        self.builds = 0
        self.totals = dict.fromkeys(COUNTS, 0)
        self.rounds = self.failed = 0
        self.lost_by_nemesis = defaultdict(int)
        self.rounds_by_nemesis = defaultdict(int)

    def cluster_up(self):
        self.close()
        self.builds += 1
        self.net = Network(HOSTS, self.workdir / ("cluster%d" % self.builds)).__enter__()
        self.cluster = Cluster(self.net, self.implementation, self.mode).start()

    def round(self, number: int, name: str, plan: nemesis.Plan):
        if self.cluster is None:
            self.cluster_up()
        self.rounds += 1
        self.rounds_by_nemesis[name] += 1
        try:
            result = run_drill(self.cluster, nemesis.ALL[name], name, plan, TIMING)
        except AssertionError as exc:
            self.failed += 1
            print("%-15s round %3d %-38s FAILED: %s" % (self.name, number, name, str(exc).splitlines()[0][:200]), flush=True)
            self.close()  # the next round gets a new cluster
            return
        for count in COUNTS:
            self.totals[count] += getattr(result.verdict, count)
        self.lost_by_nemesis[name] += result.verdict.acknowledged_lost
        print("%-15s round %3d %s" % (self.name, number, result.summary().split(" ", 1)[1]), flush=True)
        if result.verdict.acknowledged_lost and self.mode == "durable":
            print(result.explain(), flush=True)

    def close(self):
        if self.net is not None:
            self.net.teardown()
        self.net = self.cluster = None

    def summary(self) -> str:
        t = self.totals
        lines = ["%-15s rounds %d (failed %d)  attempted %d  acknowledged %d  lost %d  unacknowledged-present %d  duplicates %d  unknown %d" % (
            self.name, self.rounds, self.failed, t["attempted"], t["acknowledged"], t["acknowledged_lost"],
            t["unacknowledged_present"], t["duplicates"], t["unknown_present"])]
        for name in nemesis.ALL:
            if self.rounds_by_nemesis[name]:
                lines.append("    %-38s rounds %2d  lost %d" % (name, self.rounds_by_nemesis[name], self.lost_by_nemesis[name]))
        return "\n".join(lines)


def schedule(seed: int, rounds: int) -> list:
    """[(nemesis name, Plan)], the same for every target: the nemeses in a shuffled order, each
    once per len(nemesis.ALL) rounds, so every one gets its share of a short run."""
    rng = random.Random(seed)
    names = []
    while len(names) < rounds:
        names += rng.sample(list(nemesis.ALL), len(nemesis.ALL))
    return [(name, random_plan(rng)) for name in names[:rounds]]


def run_target(name: str, seed: int, rounds: int, workdir: Path) -> Target:
    target = Target(name, workdir / name.replace("/", "-"))
    started = time.monotonic()
    try:
        for number, (nemesis_name, plan) in enumerate(schedule(seed, rounds), 1):
            target.round(number, nemesis_name, plan)
    finally:
        target.close()
    print("%s: %d rounds in %.0fs" % (name, rounds, time.monotonic() - started), flush=True)
    return target


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=27, help="nemesis rounds per target (default 27: 3 of each nemesis)")
    parser.add_argument("--seed", type=int, default=None, help="schedule seed (default: random, printed)")
    parser.add_argument("--targets", default=",".join(TARGETS), help="comma-separated, from %s" % ", ".join(TARGETS))
    parser.add_argument("--workdir", default=None, help="where logs and data go (default: a new temp dir, kept)")
    args = parser.parse_args(argv)
    problems = missing_tools()
    if problems:
        parser.error("cannot build namespaced networks: " + "; ".join(problems))
    targets = [t for t in args.targets.split(",") if t]
    unknown = [t for t in targets if t not in TARGETS]
    if unknown:
        parser.error("unknown target(s) %s; choose from %s" % (", ".join(unknown), ", ".join(TARGETS)))
    if any(t.startswith("redis/") for t in targets) and not shutil.which("redis-server"):
        parser.error("redis-server not found on PATH (needed for the redis target)")
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 32)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="triokv-durability-"))
    print("seed %d, %d rounds per target, logs under %s" % (seed, args.rounds, workdir), flush=True)
    done = [run_target(name, seed, args.rounds, workdir) for name in targets]
    print("\nsummary (seed %d)" % seed)
    for target in done:
        print(target.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
