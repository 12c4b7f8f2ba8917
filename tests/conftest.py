"""Shared by every suite: say loudly when tests were skipped for want of real Redis."""

import os

from hypothesis import settings

from tests.support import SKIP_REASONS

# CI replays the same examples every run (a red CI must mean a regression, not a new draw);
# runs elsewhere explore fresh examples each time, and `python -m tests.differential.survey`
# explores at length.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


def pytest_terminal_summary(terminalreporter):
    for reason in sorted(SKIP_REASONS):
        terminalreporter.write_line("SKIPPED for a missing tool: " + reason, yellow=True, bold=True)
