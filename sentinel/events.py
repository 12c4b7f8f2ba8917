"""Sentinel events: a log line and a message on the sentinel's own pub/sub, as Redis's
sentinelEvent. The channel is the event type (`+sdown`, `+switch-master`, ...).

A payload starting with "%@" names the instance: `<kind> <name> <ip> <port>`, and for
a replica or a sentinel ` @ <master name> <master ip> <master port>` after it.
"""

DEBUG, VERBOSE, NOTICE, WARNING = 0, 1, 2, 3


def announced(addr, settings) -> str:
    """How an address is shown to others: the host name with announce-hostnames, else the IP."""
    return addr.host if settings.announce_hostnames else addr.ip


def describe(ri, settings) -> str:
    """The "%@" part of an event."""
    text = "%s %s %s %d" % (ri.kind, ri.name, announced(ri.addr, settings), ri.addr.port)
    master = ri.master
    if master is not None:
        text += " @ %s %s %d" % (master.name, announced(master.addr, settings), master.addr.port)
    return text


def format_event(ri, fmt: str, args, settings) -> str:
    if fmt.startswith("%@"):
        rest = fmt[2:] % args if args else fmt[2:]
        return describe(ri, settings) + rest
    return fmt % args if args else fmt


class Events:
    """Writes events to the log and publishes them; listeners (tests, scripts) see them too."""

    def __init__(self, settings, log=None, publish=None):
        self.settings = settings
        self.log = log
        self.publish = publish  # (channel bytes, message bytes) -> None
        self.listeners = []  # called with (type, message, instance)

    def emit(self, level: int, type_: str, ri, fmt: str, *args):
        message = format_event(ri, fmt, args, self.settings) if ri is not None else (fmt % args if args else fmt)
        if self.log is not None:
            self.log.write(level, "%s %s" % (type_, message))
        if level != DEBUG and self.publish is not None:
            self.publish(type_.encode(), message.encode())
        for listener in self.listeners:
            listener(type_, message, ri)
        return message
