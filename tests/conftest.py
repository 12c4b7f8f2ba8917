"""Shared by every suite: say loudly when tests were skipped for want of real Redis."""

from tests.support import SKIP_REASONS


def pytest_terminal_summary(terminalreporter):
    for reason in sorted(SKIP_REASONS):
        terminalreporter.write_line("SKIPPED for a missing tool: " + reason, yellow=True, bold=True)
