"""Reading an instance's INFO reply: the facts a sentinel acts on (sentinelRefreshInstanceInfo's
parsing half). Pure: text in, an InfoFacts out."""

from .instances import LINK_DOWN, LINK_UP, MASTER, SLAVE


class InfoFacts:
    __slots__ = ("run_id", "role", "replicas", "master_link_down_time", "master_host", "master_port",
                 "link_status", "slave_priority", "slave_repl_offset", "replica_announced", "master_repl_offset")

    def __init__(self):
        self.run_id = None
        self.role = 0  # MASTER, SLAVE, or 0 when INFO names no role
        self.replicas = []  # (ip, port) from a master's slaveN lines
        self.master_link_down_time = 0  # ms; 0 when the field is absent
        self.master_host = None
        self.master_port = None
        self.link_status = None  # LINK_UP / LINK_DOWN when reported
        self.slave_priority = None
        self.slave_repl_offset = None
        self.replica_announced = None
        self.master_repl_offset = None


def parse_info(text: str) -> InfoFacts:
    facts = InfoFacts()
    for line in text.split("\r\n"):
        field, sep, value = line.partition(":")
        if not sep:
            continue
        if field == "run_id" and len(value) >= 40:
            facts.run_id = value[:40]
        elif field == "role":
            facts.role = MASTER if value.startswith("master") else SLAVE if value.startswith("slave") else facts.role
        elif field.startswith("slave") and field[5:].isdigit():
            replica = _replica_line(value)
            if replica is not None:
                facts.replicas.append(replica)
        elif field == "master_link_down_since_seconds":
            facts.master_link_down_time = _int(value) * 1000
        elif field == "master_repl_offset":
            facts.master_repl_offset = _int(value)
        else:
            _replica_field(facts, field, value)
    return facts


def _replica_field(facts, field, value):
    """The fields a replica reports about its own link (read when the role is slave)."""
    if field == "master_host":
        facts.master_host = value
    elif field == "master_port":
        facts.master_port = _int(value)
    elif field == "master_link_status":
        facts.link_status = LINK_UP if value.lower() == "up" else LINK_DOWN
    elif field == "slave_priority":
        facts.slave_priority = _int(value)
    elif field == "slave_repl_offset":
        facts.slave_repl_offset = _int(value)
    elif field == "replica_announced":
        facts.replica_announced = _int(value)


def _replica_line(value: str):
    """`ip=1.2.3.4,port=6380,state=online,...` (or the old `ip,port,state`) -> (ip, port)."""
    if "ip=" not in value:
        parts = value.split(",")
        return (parts[0], _int(parts[1])) if len(parts) >= 2 else None
    fields = dict(item.partition("=")[::2] for item in value.split(","))
    if "ip" not in fields or "port" not in fields:
        return None
    return fields["ip"], _int(fields["port"])


def _int(text: str) -> int:
    """C's atoi/strtoll: the leading integer, 0 when there is none."""
    text = text.strip()
    end = 1 if text[:1] in ("-", "+") else 0
    while end < len(text) and text[end].isdigit():
        end += 1
    try:
        return int(text[:end])
    except ValueError:
        return 0
