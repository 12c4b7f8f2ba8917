"""CRC-64/Jones as Redis computes it for RDB trailers and DUMP payloads.

anycrc (a C implementation of the crcany catalogue, which names this exact
model CRC64-REDIS) runs at memory speed; a table-driven loop in Python would
take seconds for a large snapshot.
"""

import anycrc

_MODEL = anycrc.Model("CRC64-REDIS")


def crc64(data, crc: int = 0) -> int:
    """CRC of data, continuing from a previous crc (0 to start)."""
    return _MODEL.calc(data, crc)
