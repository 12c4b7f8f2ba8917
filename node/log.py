"""Logging in Redis's format: `<pid>:<role> <day> <mon> <year> <time>.<ms> <level> <message>`.

Tools and people that read Redis logs read ours. Level marks: '.' debug,
'-' verbose, '*' notice, '#' warning.
"""

import os
import sys
import time

_LEVELS = {"debug": 0, "verbose": 1, "notice": 2, "warning": 3, "nothing": 4}
_MARKS = ".-*#"


class Log:
    def __init__(self, level: str = "notice", path: str = "", role: str = "M"):
        self.level = _LEVELS.get(level, 2)
        self.role = role
        self.path = path
        self._file = open(path, "a", buffering=1, encoding="utf-8") if path else sys.stdout

    def set_level(self, level: str):
        self.level = _LEVELS.get(level, 2)

    def write(self, level: int, message: str):
        if level < self.level:
            return
        now = time.time()
        stamp = time.strftime("%d %b %Y %H:%M:%S", time.localtime(now))
        line = "%d:%s %s.%03d %s %s\n" % (os.getpid(), self.role, stamp, int(now * 1000) % 1000, _MARKS[level], message)
        try:
            self._file.write(line)
            self._file.flush()
        except (OSError, ValueError):
            pass

    def debug(self, message):
        self.write(0, message)

    def verbose(self, message):
        self.write(1, message)

    def notice(self, message):
        self.write(2, message)

    def warning(self, message):
        self.write(3, message)
