"""`triokv watch`: every sentinel's events, merged in time order, one line each, until Ctrl-C
(or --count events, or --timeout seconds)."""

import json
import sys
import time

from . import CliError, probe, target
from .events import LINK_CHANNELS, Watcher


def run(args, progress) -> int:
    sentinels, _ = target.resolve(args)
    if args.count is not None and args.count < 1:
        raise CliError("--count must be at least 1")
    progress.note("watching %s (Ctrl-C to stop)" % ", ".join(probe.fmt(a) for a in sentinels))
    end = time.monotonic() + args.timeout if args.timeout is not None else None
    with Watcher(sentinels) as watcher:
        try:
            follow(watcher, args, end)
        except KeyboardInterrupt:
            pass  # Ctrl-C is how a watch ends
    return 0


def follow(watcher, args, end):
    seen = shown = 0
    while args.count is None or shown < args.count:
        wait = 0.5 if end is None else end - time.monotonic()
        if wait <= 0:
            return
        batch = watcher.read_from(seen, min(wait, 0.5))
        seen += len(batch)
        for event in batch:
            show(event, args.json)
            # Our own link notes are shown but are not sentinel events: --count ignores them.
            shown += event.channel not in LINK_CHANNELS
            if args.count is not None and shown >= args.count:
                return


def show(event, as_json: bool):
    sys.stdout.write((json.dumps(event.as_json()) if as_json else event.line()) + "\n")
    sys.stdout.flush()
