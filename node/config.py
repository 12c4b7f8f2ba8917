"""Every node directive: name, type, default, check; the redis.conf and YAML readers.

Names and meanings are Redis's. A value is parsed by its directive's type and
kept in its Python form (int, bool, str, list); `format_value` renders it the way
CONFIG GET and CONFIG REWRITE show it.
"""

import os
import re
import shlex

import yaml


class ConfigError(Exception):
    """A bad directive or value. `where` names the file and line when known."""

    def __init__(self, message: str, where: str = ""):
        super().__init__(message)
        self.message = message
        self.where = where


_MEMORY_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2, "g": 1000**3, "gb": 1024**3}


def parse_memory(text: str) -> int:
    m = re.fullmatch(r"(-?\d+)([a-z]*)", text.strip().lower())
    if not m or m.group(2) not in _MEMORY_UNITS:
        raise ConfigError("argument must be a memory value")
    if m.group(1).startswith("-"):
        raise ConfigError("argument must be a memory value")
    return int(m.group(1)) * _MEMORY_UNITS[m.group(2)]


def parse_bool(text: str) -> bool:
    low = text.strip().lower()
    if low in ("yes", "true", "1"):
        return True
    if low in ("no", "false", "0"):
        return False
    raise ConfigError("argument must be 'yes' or 'no'")


INT_MAX = 2**31 - 1
LLONG_MAX = 2**63 - 1


class Directive:
    """kind: int | memory | memory% (a memory value or a percentage) | bool | str | enum |
    save | list | obuf | replicaof"""

    def __init__(self, name, kind, default, lo=None, hi=None, choices=None, immutable=False, alias=None):
        self.name = name
        self.kind = kind
        if hi is None and kind in ("int", "memory", "memory%"):
            # Redis's bounds when a directive names none: INT_MAX, or LLONG_MAX for sizes.
            hi = INT_MAX if kind == "int" else LLONG_MAX
        self.lo, self.hi = lo, hi
        self.choices = choices
        self.immutable = immutable
        self.alias = alias
        self.default = self.parse(default) if isinstance(default, str) else default

    def parse(self, text):
        """Parse a value from its config-file form; raises ConfigError with Redis's reason."""
        if isinstance(text, (list, tuple)):
            text = " ".join(str(t) for t in text)
        text = str(text)
        kind = self.kind
        if kind == "int":
            # Redis's string2ll: no spaces, no '+', no leading zeros, 64 bits.
            if not _INTEGER.fullmatch(text) or not -LLONG_MAX - 1 <= int(text) <= LLONG_MAX:
                raise ConfigError("argument couldn't be parsed into an integer")
            return self._check_range(int(text))
        if kind == "memory":
            return self._check_range(parse_memory(text))
        if kind == "memory%":
            return self._check_range(_parse_memory_or_percent(text))
        if kind == "bool":
            return parse_bool(text)
        if kind == "enum":
            low = text.lower()
            if low not in self.choices:
                raise ConfigError("argument(s) must be one of the following: %s" % ", ".join(self.choices))
            return low
        if kind == "save":
            return parse_save(text)
        if kind == "obuf":
            return parse_obuf(text)
        if kind == "replicaof":
            parts = text.split()
            if not parts or (len(parts) == 2 and parts[0].lower() == "no" and parts[1].lower() == "one"):
                return ""
            if len(parts) != 2 or not parts[1].isdigit():
                raise ConfigError("wrong number of arguments")
            return "%s %s" % (parts[0], parts[1])
        if kind == "list":
            return text.split()
        return text

    def _check_range(self, value):
        if self.kind == "memory%" and value < 0:
            # A percentage, kept negative as Redis does.
            if value < self.lo:
                raise ConfigError("percentage argument must be less or equal to 100")
            return value
        if (self.lo is not None and value < self.lo) or (self.hi is not None and value > self.hi):
            raise ConfigError("argument must be between %s and %s inclusive" % (self.lo, self.hi))
        return value

    def format(self, value) -> str:
        kind = self.kind
        if kind == "bool":
            return "yes" if value else "no"
        if kind == "save":
            return " ".join("%d %d" % pair for pair in value)
        if kind == "obuf":
            return " ".join("%s %d %d %d" % (cls, *value[cls]) for cls in ("normal", "slave", "pubsub"))
        if kind == "list":
            return " ".join(value)
        if kind == "memory%" and value < 0:
            return "%d%%" % -value
        return str(value)


_INTEGER = re.compile(r"-?(0|[1-9][0-9]*)")


def _parse_memory_or_percent(text: str) -> int:
    """A memory value, or "N%" (stored as -N): maxmemory-clients."""
    try:
        return parse_memory(text)
    except ConfigError:
        pass
    if len(text) > 1 and text.endswith("%") and _INTEGER.fullmatch(text[:-1]) and int(text[:-1]) >= 0:
        return -int(text[:-1])
    raise ConfigError("argument must be a memory or percent value")


def parse_save(text: str):
    parts = text.split()
    if not parts or parts == ['""'] or parts == ["''"]:
        return []
    if len(parts) % 2:
        raise ConfigError("Invalid save parameters")
    pairs = []
    for i in range(0, len(parts), 2):
        try:
            seconds, changes = int(parts[i]), int(parts[i + 1])
        except ValueError:
            raise ConfigError("Invalid save parameters") from None
        if seconds < 1 or changes < 0:
            raise ConfigError("Invalid save parameters")
        pairs.append((seconds, changes))
    return pairs


_OBUF_CLASSES = {"normal": "normal", "slave": "slave", "replica": "slave", "pubsub": "pubsub"}


def parse_obuf(text: str, current=None):
    parts = text.split()
    if not parts or len(parts) % 4:
        raise ConfigError("Wrong number of arguments in buffer limit configuration.")
    result = dict(current or {})
    for i in range(0, len(parts), 4):
        cls = _OBUF_CLASSES.get(parts[i].lower())
        if cls is None:
            raise ConfigError("Invalid client class specified in buffer limit configuration.")
        try:
            hard, soft, seconds = parse_memory(parts[i + 1]), parse_memory(parts[i + 2]), int(parts[i + 3])
        except (ConfigError, ValueError):
            raise ConfigError("Error in hard, soft or soft_seconds setting in buffer limit configuration.") from None
        if hard < 0 or soft < 0 or seconds < 0:
            raise ConfigError("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
        result[cls] = (hard, soft, seconds)
    return result


_OBUF_DEFAULT = {"normal": (0, 0, 0), "slave": (256 * 1024**2, 64 * 1024**2, 60), "pubsub": (32 * 1024**2, 8 * 1024**2, 60)}
_POLICIES = ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"]

_DIRECTIVES = [
    Directive("port", "int", 6379, 0, 65535),
    Directive("bind", "list", ["127.0.0.1"]),
    Directive("dir", "str", "."),
    Directive("dbfilename", "str", "dump.rdb"),
    Directive("databases", "int", 16, 1, 1 << 20, immutable=True),
    Directive("save", "save", "3600 1 300 100 60 10000"),
    Directive("appendonly", "bool", False),
    Directive("appendfilename", "str", "appendonly.aof", immutable=True),
    Directive("appenddirname", "str", "appendonlydir", immutable=True),
    Directive("appendfsync", "enum", "everysec", choices=["everysec", "always", "no"]),
    Directive("aof-load-truncated", "bool", True),
    Directive("aof-use-rdb-preamble", "bool", True),
    Directive("auto-aof-rewrite-percentage", "int", 100, 0),
    Directive("auto-aof-rewrite-min-size", "memory", 64 * 1024 * 1024, 0),
    Directive("rdbcompression", "bool", True),
    Directive("rdbchecksum", "bool", True),
    Directive("replicaof", "replicaof", "", alias="slaveof"),
    Directive("masterauth", "str", ""),
    Directive("masteruser", "str", ""),
    Directive("requirepass", "str", ""),
    Directive("protected-mode", "bool", True),
    Directive("maxclients", "int", 10000, 1, 1 << 30),
    Directive("maxmemory", "memory", 0, 0),
    Directive("maxmemory-policy", "enum", "noeviction", choices=_POLICIES),
    Directive("maxmemory-samples", "int", 5, 1),
    Directive("maxmemory-eviction-tenacity", "int", 10, 0, 100),
    # Client eviction is not implemented: accepted (0 = off, Redis's default) and shown.
    Directive("maxmemory-clients", "memory%", 0, -100),
    Directive("replica-ignore-maxmemory", "bool", True, alias="slave-ignore-maxmemory"),
    Directive("lfu-log-factor", "int", 10, 0),
    Directive("lfu-decay-time", "int", 1, 0),
    Directive("timeout", "int", 0, 0),
    Directive("tcp-keepalive", "int", 300, 0),
    Directive("tcp-backlog", "int", 511, 0, immutable=True),
    Directive("proto-max-bulk-len", "memory", 512 * 1024**2, 1024 * 1024),
    Directive("client-query-buffer-limit", "memory", 1024**3, 1024 * 1024),
    Directive("client-output-buffer-limit", "obuf", dict(_OBUF_DEFAULT)),
    Directive("repl-backlog-size", "memory", 1024 * 1024, 1),
    Directive("repl-backlog-ttl", "int", 3600, 0),
    Directive("repl-timeout", "int", 60, 1),
    Directive("repl-ping-replica-period", "int", 10, 1, alias="repl-ping-slave-period"),
    Directive("repl-diskless-sync", "bool", True),
    Directive("repl-diskless-sync-delay", "int", 5, 0),
    Directive("repl-diskless-load", "enum", "disabled", choices=["disabled", "on-empty-db", "swapdb"]),
    Directive("replica-read-only", "bool", True, alias="slave-read-only"),
    Directive("replica-serve-stale-data", "bool", True, alias="slave-serve-stale-data"),
    Directive("replica-priority", "int", 100, 0, alias="slave-priority"),
    Directive("replica-announce-ip", "str", "", alias="slave-announce-ip"),
    Directive("replica-announce-port", "int", 0, 0, 65535, alias="slave-announce-port"),
    Directive("replica-announced", "bool", True),
    Directive("min-replicas-to-write", "int", 0, 0, alias="min-slaves-to-write"),
    Directive("min-replicas-max-lag", "int", 10, 0, alias="min-slaves-max-lag"),
    Directive("synchronous-replicas", "int", 0, 0),
    Directive("synchronous-replicas-timeout", "int", 5000, 1),
    Directive("loglevel", "enum", "notice", choices=["debug", "verbose", "notice", "warning", "nothing"]),
    Directive("logfile", "str", "", immutable=True),
    Directive("pidfile", "str", "", immutable=True),
    Directive("daemonize", "bool", False, immutable=True),
    Directive("supervised", "enum", "no", choices=["upstart", "systemd", "auto", "no"], immutable=True),
    Directive("slowlog-log-slower-than", "int", 10000, -1, LLONG_MAX),
    Directive("slowlog-max-len", "int", 128, 0, LLONG_MAX),
    Directive("latency-monitor-threshold", "int", 0, 0, LLONG_MAX),
    Directive("hz", "int", 10, 1, 500),
    Directive("notify-keyspace-events", "str", ""),
    Directive("io-threads", "int", 1, 1, 128, immutable=True),
    Directive("lazyfree-lazy-eviction", "bool", False),
    Directive("lazyfree-lazy-expire", "bool", False),
    Directive("lazyfree-lazy-server-del", "bool", False),
    Directive("lazyfree-lazy-user-del", "bool", False),
    Directive("lazyfree-lazy-user-flush", "bool", False),
    Directive("list-max-listpack-size", "int", -2, alias="list-max-ziplist-size"),
    Directive("list-compress-depth", "int", 0, 0),
    Directive("hash-max-listpack-entries", "int", 512, 0, LLONG_MAX, alias="hash-max-ziplist-entries"),
    Directive("hash-max-listpack-value", "int", 64, 0, LLONG_MAX, alias="hash-max-ziplist-value"),
    Directive("set-max-intset-entries", "int", 512, 0, LLONG_MAX),
    Directive("zset-max-listpack-entries", "int", 128, 0, LLONG_MAX, alias="zset-max-ziplist-entries"),
    Directive("zset-max-listpack-value", "int", 64, 0, LLONG_MAX, alias="zset-max-ziplist-value"),
    # Settings of data types and subsystems this server does not have: accepted and
    # shown as Redis does, with no effect (there is nothing for them to tune).
    Directive("hll-sparse-max-bytes", "memory", 3000, 0, LLONG_MAX),
    Directive("stream-node-max-bytes", "memory", 4096, 0, LLONG_MAX),
    Directive("stream-node-max-entries", "int", 100, 0, LLONG_MAX),
    Directive("busy-reply-threshold", "int", 5000, 0, LLONG_MAX, alias="lua-time-limit"),
    Directive("acllog-max-len", "int", 128, 0, LLONG_MAX),
    Directive("jemalloc-bg-thread", "bool", True),
    Directive("disable-thp", "bool", True, immutable=True),
    Directive("activerehashing", "bool", True),
    Directive("stop-writes-on-bgsave-error", "bool", True),
    Directive("always-show-logo", "bool", False),
    Directive("set-proc-title", "bool", True),
    Directive("enable-debug-command", "enum", "yes", choices=["yes", "no", "local"], immutable=True),
    Directive("enable-protected-configs", "enum", "no", choices=["yes", "no", "local"], immutable=True),
    Directive("sentinel-mode", "bool", False, immutable=True),
]

DIRECTIVES = {d.name: d for d in _DIRECTIVES}
ALIASES = {d.alias: d.name for d in _DIRECTIVES if d.alias}


def canonical(name: str) -> str:
    low = name.lower()
    return ALIASES.get(low, low)


class Config:
    """Current values by directive name, plus where they came from (for CONFIG REWRITE)."""

    def __init__(self):
        self.values = {name: _copy(d.default) for name, d in DIRECTIVES.items()}
        self.path = None  # the config file, if any
        self.listeners = []  # called with (name, value) after a successful set

    def __getitem__(self, name):
        return self.values[name]

    def set(self, name: str, text, where: str = "", startup: bool = False):
        """Parse and store one directive; ConfigError on a bad name or value."""
        key = canonical(name)
        directive = DIRECTIVES.get(key)
        if directive is None:
            raise ConfigError("Bad directive or wrong number of arguments", where)
        if directive.immutable and not startup:
            raise ConfigError("can't set immutable config", where)
        if directive.kind == "obuf":
            value = parse_obuf(" ".join(text) if isinstance(text, (list, tuple)) else str(text), self.values[key])
        else:
            value = directive.parse(text)
        self.values[key] = value
        for listener in self.listeners:
            listener(key, value)
        return value

    def format(self, name: str) -> str:
        return DIRECTIVES[name].format(self.values[name])

    def absolute_dir(self) -> str:
        return os.path.abspath(self.values["dir"])


def _copy(value):
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    return value


def split_line(line: str):
    """Split a redis.conf line like sdssplitargs: quotes and escapes allowed."""
    try:
        lexer = shlex.shlex(line, posix=True)
        lexer.whitespace_split = True
        lexer.commenters = ""
        return list(lexer)
    except ValueError:
        raise ConfigError("Unbalanced quotes in configuration line") from None


def read_redis_conf(text: str, filename: str):
    """Yield (name, args, where) for each directive line of a redis.conf."""
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        where = "%s:%d: '%s'" % (filename, lineno, stripped)
        try:
            parts = split_line(stripped)
        except ConfigError as e:
            e.where = where
            raise
        if not parts:
            continue
        yield parts[0], parts[1:], where


def yaml_mapping(text: str, filename: str):
    """Yield (name, value, where) from a YAML mapping, `where` naming the file and line."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = ":%d" % (mark.line + 1) if mark else ""
        raise ConfigError("invalid YAML: %s" % e, "%s%s" % (filename, line)) from None
    if data is None:
        return
    if not isinstance(data, dict):
        raise ConfigError("a YAML config must be a mapping of directive to value", filename)
    lines = text.splitlines()
    for name, value in data.items():
        lineno = next((i for i, l in enumerate(lines, 1) if l.lstrip().startswith(str(name) + ":")), 0)
        yield str(name), value, "%s:%d: '%s'" % (filename, lineno, name)


def yaml_scalar(value) -> str:
    """A YAML value as a directive's text: booleans as yes/no, lists as words."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value)


def read_yaml(text: str, filename: str):
    """Yield (name, args, where) from a YAML mapping of directive to value."""
    for name, value, where in yaml_mapping(text, filename):
        yield name, [yaml_scalar(value)], where


def parse_cli_overrides(args):
    """`--name v1 v2 --other v` -> [(name, [values])]. A lone value may hold several words."""
    result = []
    for arg in args:
        if arg.startswith("--") and len(arg) > 2:
            result.append((arg[2:], []))
        elif result:
            result[-1][1].append(arg)
        else:
            raise ConfigError("unexpected argument '%s' (expected --directive value)" % arg, "command line")
    return result


def read_config_file(path) -> str:
    """A config file's text; ConfigError naming the file when it cannot be read."""
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as e:
        raise ConfigError("can't open config file: %s" % e.strerror, path) from None


def load(config_path=None, overrides=(), directive_table=None) -> Config:
    """Build a Config from a file and command-line overrides. ConfigError names the line."""
    config = Config()
    entries = []
    if config_path:
        text = read_config_file(config_path)
        reader = read_yaml if config_path.endswith((".yaml", ".yml")) else read_redis_conf
        entries.extend(reader(text, config_path))
        config.path = os.path.abspath(config_path)
    for name, values in parse_cli_overrides(list(overrides)):
        entries.append((name, values, "command line: '--%s %s'" % (name, " ".join(values))))
    save_points = None
    for name, args, where in entries:
        is_save = canonical(name) == "save"
        # Each save line adds to the save points of the lines before it (save "" clears), as in Redis.
        if is_save and save_points and args and args not in ([""], ['""']):
            args = save_points + list(args)
        apply_entry(config, name, args, where)
        if is_save:
            save_points = [str(n) for pair in config.values["save"] for n in pair]
    return config


def apply_entry(config: Config, name: str, args, where: str):
    key = canonical(name)
    if key in ("include", "rename-command", "user", "loadmodule"):
        raise ConfigError("directive '%s' is not supported" % name, where)
    if key not in DIRECTIVES:
        raise ConfigError("Bad directive or wrong number of arguments", where)
    directive = DIRECTIVES[key]
    if directive.kind not in ("save", "list", "obuf", "replicaof") and len(args) != 1:
        if not (directive.kind == "str" and len(args) == 0):
            raise ConfigError("wrong number of arguments", where)
    try:
        config.set(key, args if len(args) != 1 else args[0], where, startup=True)
    except ConfigError as e:
        raise ConfigError(e.message, where) from None
