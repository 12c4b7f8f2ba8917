"""What the CLI is waiting for, and for how long, on stderr.

On a terminal one line is rewritten in place (`waiting for ... 3.1s / 20s`); elsewhere (logs,
CI, tests) a line when the wait starts and one when it ends, so the output stays readable.
stdout is left to results (tables, JSON).
"""

import sys
import time

import redis

from . import CliError


class NotYet(Exception):
    """Raised by a wait condition to say why it is not met yet (shown if the wait times out)."""


# Failures a condition may hit while the cluster settles: they mean "not yet", not "give up".
TRANSIENT = (NotYet, redis.RedisError, OSError)


class Progress:
    def __init__(self, stream=None, quiet: bool = False):
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.live = not quiet and self.stream.isatty()

    def note(self, text: str):
        if not self.quiet:
            self._clear()
            self.stream.write(text + "\n")
            self.stream.flush()

    def _clear(self):
        if self.live:
            self.stream.write("\r\033[K")

    def _show(self, what: str, elapsed: float, timeout: float):
        if self.live:
            self.stream.write("\r\033[K... %s  %.1fs / %.0fs" % (what, elapsed, timeout))
            self.stream.flush()

    def wait_until(self, what: str, condition, timeout: float, interval: float = 0.1, check=None):
        """Poll condition() until it returns something truthy, which is returned.

        `check()`, if given, raises CliError when waiting longer is pointless (a process died).
        A transient failure of the condition counts as "not yet"; the last reason is named
        if the wait times out, as a CliError.
        """
        start = time.monotonic()
        if not self.live:
            self.note("waiting for %s (up to %.0fs)" % (what, timeout))
        last = ""
        while True:
            if check is not None:
                check()
            try:
                value = condition()
            except TRANSIENT as e:
                value, last = None, str(e) or type(e).__name__
            elapsed = time.monotonic() - start
            if value:
                self.note("  %s: ok after %.1fs" % (what, elapsed))
                return value
            if elapsed >= timeout:
                self._clear()
                raise CliError("timed out after %.0fs waiting for %s%s" % (timeout, what, " (%s)" % last if last else ""))
            self._show(what, elapsed, timeout)
            time.sleep(interval)
