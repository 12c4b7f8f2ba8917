"""LZF, the compression Redis uses for strings in RDB files (liblzf's format).

Decompression is needed to read every dump Redis writes with rdbcompression on.
The writer stores strings uncompressed, which Redis loads as well.
"""


class LZFError(ValueError):
    pass


def decompress(data: bytes, expected_len: int) -> bytes:
    """Expand an LZF block to exactly expected_len bytes; LZFError if it is malformed."""
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
