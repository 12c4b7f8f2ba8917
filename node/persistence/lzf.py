"""LZF, the compression Redis uses for strings in RDB files (liblzf's format).

python-lzf (liblzf in C) does the work when it is installed: compressing in
Python would cost more than the whole rest of a save. Without it, dumps are
still read (a decompressor in Python, slower on large compressed values) and
written uncompressed, which Redis loads as well.
"""

import importlib


class LZFError(ValueError):
    pass


try:
    _c = importlib.import_module("lzf")  # the python-lzf C extension, not this module
except ImportError:  # pragma: no cover - depends on the installation
    _c = None

AVAILABLE = _c is not None
_c_decompress = _c.decompress if _c is not None else None

# The longest output a block can expand to: a back reference of at most 264
# bytes costs at least 2 input bytes (liblzf's own bound is the same order).
_MAX_RATIO = 132


def compress(data: bytes):
    """The LZF block for data when it saves at least 4 bytes (Redis's rule), else None."""
    if _c is None or len(data) <= 4:
        return None
    return _c.compress(data, len(data) - 4)


def decompress(data: bytes, expected_len: int) -> bytes:
    """Expand an LZF block to exactly expected_len bytes; LZFError if it is malformed."""
    if _c is None or expected_len > len(data) * _MAX_RATIO + 64:
        return _decompress_py(data, expected_len)
    try:
        out = _c_decompress(data, expected_len) if expected_len else b""
    except (ValueError, SystemError) as e:
        raise LZFError("malformed LZF block (%s)" % e) from None
    if out is None or len(out) != expected_len:
        raise LZFError("malformed LZF block or wrong declared length %d" % expected_len)
    return out


def fast_decompress(data: bytes, expected_len: int):
    """decompress for the hot path: the bytes, or None when the C library is missing or the
    block is not exactly expected_len bytes of a sane size (decompress then says why)."""
    if _c is None or not 0 < expected_len <= len(data) * _MAX_RATIO:
        return None
    try:
        out = _c_decompress(data, expected_len)
    except (ValueError, SystemError):
        return None
    return out if out is not None and len(out) == expected_len else None


def _decompress_py(data: bytes, expected_len: int) -> bytes:
    if expected_len > len(data) * _MAX_RATIO + 64:
        raise LZFError("declared length %d is impossible for %d compressed bytes" % (expected_len, len(data)))
    out = bytearray()
    i, n = 0, len(data)
    while i < n:
        ctrl = data[i]
        i += 1
        if ctrl < 32:
            # A literal run of ctrl + 1 bytes.
            length = ctrl + 1
            if i + length > n:
                raise LZFError("literal run past the end of the input")
            out += data[i : i + length]
            i += length
        else:
            # A back reference: length in the top 3 bits (7 = one more byte follows).
            length = ctrl >> 5
            if length == 7:
                if i >= n:
                    raise LZFError("truncated back reference")
                length += data[i]
                i += 1
            if i >= n:
                raise LZFError("truncated back reference")
            ref = len(out) - ((ctrl & 0x1F) << 8) - data[i] - 1
            i += 1
            if ref < 0:
                raise LZFError("back reference before the start of the output")
            length += 2
            if ref + length <= len(out):
                out += out[ref : ref + length]
            else:
                for k in range(length):
                    out.append(out[ref + k])
        if len(out) > expected_len:
            raise LZFError("output longer than declared")
    if len(out) != expected_len:
        raise LZFError("output length %d, expected %d" % (len(out), expected_len))
    return bytes(out)
