"""Mutations of protocol frames, for the property tests of bad input (the live fuzz tests in
tests/integration/test_bad_input.py, the reader's own in tests/unit/test_request_reader.py)."""

from hypothesis import strategies as st

KINDS = ("flip", "insert", "delete", "truncate", "number", "duplicate")


def mutate(draw, frame: bytes, flips: bytes, numbers=(b"-1", b"0", b"abc")) -> bytes:
    """frame with one to four mutations drawn: a byte replaced by one of `flips`, random bytes
    inserted, bytes deleted, the tail cut, a digit replaced by one of `numbers`, a piece doubled."""
    frame = bytearray(frame)
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(frame)))
        kind = draw(st.sampled_from(KINDS))
        if kind == "flip" and pos < len(frame):
            frame[pos] = draw(st.sampled_from(flips))
        elif kind == "insert":
            frame[pos:pos] = draw(st.binary(max_size=8))
        elif kind == "delete":
            del frame[pos : pos + draw(st.integers(1, 6))]
        elif kind == "truncate":
            del frame[pos:]
        elif kind == "number":
            digits = [i for i in range(len(frame)) if frame[i : i + 1].isdigit()]
            if digits:
                at = draw(st.sampled_from(digits))
                frame[at : at + 1] = draw(st.sampled_from(numbers))
        elif kind == "duplicate":
            frame[pos:pos] = frame[pos : pos + draw(st.integers(1, 16))]
    return bytes(frame)
