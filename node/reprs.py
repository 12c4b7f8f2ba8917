"""Redis's sdscatrepr: how Redis shows bytes in MONITOR lines and rewritten config files."""

_ESCAPES = {ord("\\"): "\\\\", ord('"'): '\\"', ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t", ord("\a"): "\\a", ord("\b"): "\\b"}


def sds_repr(data: bytes) -> str:
    """A double-quoted string: C escapes, printable ASCII as is, other bytes as \\xHH."""
    out = ['"']
    for b in data:
        escaped = _ESCAPES.get(b)
        if escaped is not None:
            out.append(escaped)
        elif 32 <= b < 127:
            out.append(chr(b))
        else:
            out.append("\\x%02x" % b)
    out.append('"')
    return "".join(out)
