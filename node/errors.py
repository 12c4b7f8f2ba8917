"""Error replies. A command raises CommandError; the dispatcher turns it into `-<text>\\r\\n`.

The texts are Redis 7's, byte for byte: clients match on them.
"""


class CommandError(Exception):
    """An error reply. `text` is the full message including its code (ERR, WRONGTYPE, ...)."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text


class ProtocolError(Exception):
    """The peer broke RESP: reply with the message and close the connection."""


WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INTEGER = "ERR value is not an integer or out of range"
NOT_FLOAT = "ERR value is not a valid float"
SYNTAX = "ERR syntax error"
NO_SUCH_KEY = "ERR no such key"
INDEX_OUT_OF_RANGE = "ERR index out of range"
OVERFLOW = "ERR increment or decrement would overflow"
NOAUTH = "NOAUTH Authentication required."
READONLY = "READONLY You can't write against a read only replica."
OOM = "OOM command not allowed when used memory > 'maxmemory'."
NOREPLICAS = "NOREPLICAS Not enough good replicas to write."
TIMEOUT_NEGATIVE = "ERR timeout is negative"
TIMEOUT_NOT_FLOAT = "ERR timeout is not a float or out of range"
DB_INDEX = "ERR DB index is out of range"
INVALID_EXPIRE = "ERR invalid expire time in '%s' command"
STRING_TOO_LONG = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"


def wrong_arity(name: str) -> CommandError:
    return CommandError("ERR wrong number of arguments for '%s' command" % name)


def wrongtype() -> CommandError:
    return CommandError(WRONGTYPE)
