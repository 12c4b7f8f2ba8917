"""Reading a sentinel's configuration: sentinel.conf syntax or YAML, plus `--directive value`.

Lines starting with `sentinel` are the sentinel's (Redis's sentinelHandleConfiguration:
`sentinel monitor mymaster 127.0.0.1 7000 2`, `sentinel down-after-milliseconds
mymaster 1000`, and the state lines a sentinel writes itself: `sentinel myid`,
`sentinel current-epoch`, `sentinel known-replica`, ...). Every other line is a
server directive (port, bind, dir, logfile, requirepass, ...) read by node.config,
with a sentinel's defaults (port 26379).

In YAML, `sentinel:` holds a list of such lines without the leading word, or a
mapping of sub-directive to value (or to a list of values):

    port: 26379
    sentinel:
      - monitor mymaster 127.0.0.1 7000 2
      - down-after-milliseconds mymaster 1000

Any error raises node.config.ConfigError naming the file and line.
"""

import os


from node.config import Config, ConfigError, apply_entry, parse_cli_overrides, read_config_file, read_redis_conf, yaml_mapping, yaml_scalar

from .instances import SENTINEL, SLAVE, SentinelError

# Lines Redis writes into a sentinel.conf on its own: accepted so that a file from a real
# sentinel drops in (with the default user only; ACL users are not implemented).
_IGNORED = {"latency-tracking-info-percentiles", "latency-tracking"}
_DEFAULT_USER = ["default", "on", "nopass", "~*", "&*", "+@all"]


class SentinelConfig:
    def __init__(self):
        self.node_config = Config()
        self.node_config.values["port"] = 26379
        self.node_config.values["sentinel-mode"] = True
        self.statements = []  # (args after "sentinel", where)
        self.path = None
        self.is_yaml = False


def load(path, overrides=()) -> SentinelConfig:
    config = SentinelConfig()
    entries = []
    if path:
        text = read_config_file(path)
        config.path = os.path.abspath(path)
        config.is_yaml = path.endswith((".yaml", ".yml"))
        entries = list(_read_yaml(text, path) if config.is_yaml else read_redis_conf(text, path))
    for name, values in parse_cli_overrides(list(overrides)):
        entries.append((name, values, "command line: '--%s %s'" % (name, " ".join(values))))
    for name, args, where in entries:
        _take(config, name, args, where)
    config.node_config.path = config.path
    return config


def _take(config, name, args, where):
    low = name.lower()
    if low == "sentinel":
        if not args:
            raise ConfigError("Unrecognized sentinel configuration statement.", where)
        config.statements.append((args, where))
    elif low in _IGNORED:
        return
    elif low == "user":
        if args != _DEFAULT_USER:
            raise ConfigError("directive 'user' is not supported (only '%s')" % " ".join(["user", *_DEFAULT_USER]), where)
    else:
        apply_entry(config.node_config, name, args, where)


def _read_yaml(text, filename):
    """(name, args, where) from a YAML mapping; `sentinel` may hold a list or a mapping."""
    for name, value, where in yaml_mapping(text, filename):
        if name.lower() == "sentinel":
            for args in _yaml_sentinel_lines(value, where):
                yield "sentinel", args, where
        else:
            yield name, [yaml_scalar(value)], where


def _yaml_sentinel_lines(value, where):
    if isinstance(value, list):
        return [str(item).split() for item in value]
    if isinstance(value, dict):
        out = []
        for sub, v in value.items():
            for one in v if isinstance(v, list) else [v]:
                out.append([str(sub), *yaml_scalar(one).split()])
        return out
    raise ConfigError("'sentinel' must hold a list of lines or a mapping", where)


# ---- applying the sentinel lines ---------------------------------------------------------


def apply_statements(s, statements, override=False):
    """Apply `sentinel ...` lines to a Sentinel (before it runs). `override`: a `monitor` of a
    known master replaces its address and quorum (the state file of a YAML config)."""
    for args, where in statements:
        try:
            _apply(s, [str(a) for a in args], override)
        except (SentinelError, ConfigError) as e:
            message = getattr(e, "message", None) or str(e)
            raise ConfigError(message[4:] if message.startswith("ERR ") else message, where) from None


def _int(text, what="Invalid argument"):
    try:
        return int(text)
    except ValueError:
        raise ConfigError(what) from None


def _master(s, name):
    master = s.master_by_name(name)
    if master is None:
        raise ConfigError("No such master with specified name.")
    return master


def _apply(s, args, override):
    sub, n = args[0].lower(), len(args)
    settings = s.settings
    if sub == "monitor" and n == 5:
        quorum = _int(args[4])
        if quorum <= 0:
            raise ConfigError("Quorum must be 1 or greater.")
        existing = s.master_by_name(args[1])
        if existing is not None and override:
            existing.addr = s.make_addr(args[2], _int(args[3]))
            existing.quorum = quorum
        else:
            s.monitor(args[1], args[2], _int(args[3]), quorum)
    elif sub in _MASTER_PERIODS and n == 3:
        value = _int(args[2])
        if value <= 0:
            raise ConfigError("Invalid argument")
        master = _master(s, args[1])
        setattr(master, _MASTER_PERIODS[sub], value)
    elif sub == "master-reboot-down-after-period" and n == 3:
        _master(s, args[1]).master_reboot_down_after_period = _int(args[2])
    elif sub in ("notification-script", "client-reconfig-script") and n == 3:
        if not os.access(args[2], os.X_OK):
            raise ConfigError("%s seems non existing or non executable" % ("Notification script" if sub[0] == "n" else "Client reconfiguration script"))
        setattr(_master(s, args[1]), sub.split("-")[0] + ("_script" if sub[0] == "n" else "_reconfig_script"), args[2])
    elif sub in ("auth-pass", "auth-user") and n == 3:
        setattr(_master(s, args[1]), sub.replace("-", "_"), args[2])
    elif sub == "current-epoch" and n == 2:
        settings.current_epoch = max(settings.current_epoch, _int(args[1]))
    elif sub == "myid" and n == 2:
        if len(args[1]) != 40:
            raise ConfigError("Malformed Sentinel id in myid option.")
        settings.myid = args[1]
    elif sub in ("config-epoch", "leader-epoch") and n == 3:
        master = _master(s, args[1])
        value = _int(args[2])
        if sub == "config-epoch":
            master.config_epoch = value
        else:
            master.leader_epoch = value
        settings.current_epoch = max(settings.current_epoch, value)
    elif sub in ("known-slave", "known-replica") and n == 4:
        master = _master(s, args[1])
        if s.lookup_slave(master, args[2], _int(args[3])) is None:
            try:
                s.create_instance(None, SLAVE, args[2], _int(args[3]), master.quorum, master)
            except SentinelError:
                raise ConfigError("Wrong hostname or port for replica.") from None
    elif sub == "known-sentinel" and n in (4, 5):
        _known_sentinel(s, args)
    elif sub == "rename-command" and n == 4:
        master = _master(s, args[1])
        if args[2].lower() != args[3].lower():
            master.renamed_commands[args[2].lower()] = args[3]
    else:
        _apply_global(s, sub, args, n)


def _known_sentinel(s, args):
    master = _master(s, args[1])
    if len(args) == 5 and any(ri.runid == args[4] for ri in master.sentinels.values()):
        return
    name = args[4] if len(args) == 5 else "%s:%s" % (args[2], args[3])
    try:
        si = s.create_instance(name, SENTINEL, args[2], _int(args[3]), master.quorum, master)
    except SentinelError:
        raise ConfigError("Wrong hostname or port for sentinel.") from None
    if len(args) == 5:
        si.runid = args[4]


def _apply_global(s, sub, args, n):
    settings = s.settings
    if sub == "announce-ip" and n == 2:
        settings.announce_ip = args[1]
    elif sub == "announce-port" and n == 2:
        settings.announce_port = _int(args[1])
    elif sub in ("deny-scripts-reconfig", "resolve-hostnames", "announce-hostnames") and n == 2:
        flag = {"yes": True, "no": False}.get(args[1].lower())
        if flag is None:
            raise ConfigError("Please specify yes or no for the %s options." % sub)
        setattr(settings, sub.replace("-", "_"), flag)
    elif sub in ("sentinel-user", "sentinel-pass") and n == 2:
        setattr(settings, sub.replace("-", "_"), args[1])
    else:
        raise ConfigError("Unrecognized sentinel configuration statement.")


_MASTER_PERIODS = {"down-after-milliseconds": "down_after_period", "failover-timeout": "failover_timeout", "parallel-syncs": "parallel_syncs"}


def propagate_periods(s):
    """A master's down-after applies to its replicas and sentinels too (set after they exist)."""
    for master in s.masters.values():
        for ri in master.instances():
            ri.down_after_period = master.down_after_period

