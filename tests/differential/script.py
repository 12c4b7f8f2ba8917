"""The format of the table-driven cases (cases/*.txt) and how a case is played.

A file holds cases separated by blank lines; a case's first line may be
`# name`. Every other line is one step:

    SET k v                a command on connection 1: send, read one reply, compare
    @2 GET k               the same on connection 2 (opened on first use; in
                           RESP3 runs it starts with HELLO 3 like connection 1)
    >BLPOP l 0             send only (a reply that comes later, or several replies)
    <                      read one more reply on that connection and compare
    .raw "PING\r\n"        send bytes as they are (Python escapes); read with `<`
    .closed                both servers close the connection; compare what came first
    .silent 0.1            neither server sends anything for 0.1 s
    .sleep 0.2             wait (for blocking timeouts to expire)
    .drop                  close the connection on both sides
    # comment              ignored

Arguments are split like a shell line; inside double quotes `\\xHH` is a byte.
"""

import ast
import re
import shlex
import time
from pathlib import Path

_HEX = re.compile(r"\\x([0-9a-fA-F]{2})")
CASES_DIR = Path(__file__).parent / "cases"


def parse_line(line: str):
    """-> (connection index, mode, args) where mode is run/send/read or an op name."""
    index = 1
    if line.startswith("@"):
        head, _, line = line.partition(" ")
        index = int(head[1:])
        line = line.strip()
    if line == "<":
        return index, "read", []
    if line.startswith("."):
        op, _, rest = line.partition(" ")
        return index, op[1:], rest.strip()
    mode = "run"
    if line.startswith(">"):
        mode, line = "send", line[1:]
    args = [_HEX.sub(lambda m: chr(int(m.group(1), 16)), a).encode("latin-1") for a in shlex.split(line)]
    return index, mode, args


def parse_cases(body: str, family: str):
    """[(name, [line, ...])] for one file."""
    cases = []
    for block in re.split(r"\n\s*\n", body.strip("\n")):
        lines = [l.strip() for l in block.strip().splitlines() if l.strip()]
        if not lines:
            continue
        name = "%s-%d" % (family, len(cases) + 1)
        if lines[0].startswith("#"):
            name = "%s: %s" % (family, lines[0].lstrip("# "))
            lines = lines[1:]
        lines = [l for l in lines if not l.startswith("#")]
        if lines:
            cases.append((name, lines))
    return cases


def load_all():
    """Every case of every file, in file order: [(name, lines)]."""
    cases = []
    for path in sorted(CASES_DIR.glob("*.txt")):
        cases += parse_cases(path.read_text(), path.stem)
    return cases


def play(pair, lines):
    """Run the steps of one case on a Pair; mismatches accumulate in the pair."""
    for line in lines:
        index, mode, arg = parse_line(line)
        if mode == "run":
            pair.run(arg, index)
        elif mode == "send":
            pair.send(arg, index)
        elif mode == "read":
            pair.read(index)
        elif mode == "raw":
            pair.send_raw(ast.literal_eval("b" + arg), index)
        elif mode == "closed":
            pair.expect_closed(index)
        elif mode == "silent":
            pair.expect_silence(index, float(arg or 0.1))
        elif mode == "sleep":
            time.sleep(float(arg))
        elif mode == "drop":
            pair.drop(index)
        else:
            raise ValueError("unknown step %r" % line)
