"""SENTINEL SET, SENTINEL CONFIG GET/SET and SENTINEL DEBUG: changing settings at run time,
with Redis 7.0's checks, errors and +set events."""

import os

from node.errors import CommandError
from node.glob import matches
from node.resp import OK

from . import monitor
from .events import WARNING
from .instances import DEBUG_PARAMS


def as_text(arg) -> str:
    """An argument as text (bytes from a client, str from a config file)."""
    return arg.decode("utf-8", "replace") if isinstance(arg, bytes) else arg


def _positive(raw, allow_zero=False):
    """Redis's getLongLongFromObject with a > 0 (or >= 0) check; None when invalid."""
    text = as_text(raw)
    try:
        value = int(text)
    except ValueError:
        return None
    if str(value) != text.strip() or not -(2**63) <= value < 2**63:
        return None
    return value if value > 0 or (allow_zero and value == 0) else None


# ---- SENTINEL SET ---------------------------------------------------------------------------


def set_master_options(s, master, args):
    """SENTINEL SET <master> <option> <value> [...]: one +set event per option; the config is
    saved once at the end, also after an error when something changed before it."""
    changes = 0
    j = 0
    try:
        while j < len(args):
            option = as_text(args[j]).lower()
            more = len(args) - 1 - j
            setter = _MASTER_OPTIONS.get(option)
            width = 2 if option == "rename-command" else 1
            if setter is None or more < width:
                raise CommandError("ERR Unknown option or number of arguments for SENTINEL SET '%s'" % as_text(args[j]))
            values = args[j + 1 : j + 1 + width]
            shown = setter(s, master, as_text(args[j]), values)
            changes += 1
            s.event(WARNING, "+set", master, "%@ %s %s", as_text(args[j]), shown)
            j += 1 + width
    finally:
        if changes:
            s.flush_config()
    return OK


def _bad(value, option):
    return CommandError("ERR Invalid argument '%s' for SENTINEL SET '%s'" % (as_text(value), option))


def _set_period(attr, allow_zero=False):
    def setter(s, master, option, values):
        value = _positive(values[0], allow_zero)
        if value is None:
            raise _bad(values[0], option)
        setattr(master, attr, value)
        if attr == "down_after_period":
            for ri in master.instances():
                ri.down_after_period = value
        return as_text(values[0])

    return setter


def _set_script(attr, what):
    def setter(s, master, option, values):
        if s.settings.deny_scripts_reconfig:
            raise CommandError("ERR Reconfiguration of scripts path is denied for security reasons. Check the deny-scripts-reconfig configuration directive in your Sentinel configuration")
        path = as_text(values[0])
        if path and not os.access(path, os.X_OK):
            raise CommandError("ERR %s seems non existing or non executable" % what)
        setattr(master, attr, path)
        return path

    return setter


def _set_auth(attr, redacted):
    def setter(s, master, option, values):
        setattr(master, attr, as_text(values[0]))
        for ri in [master, *master.slaves.values()]:
            monitor.close_link(ri)  # reconnect with the new credentials
        return "******" if redacted else as_text(values[0])

    return setter


def _set_rename(s, master, option, values):
    old, new = as_text(values[0]), as_text(values[1])
    if not old or not new:
        raise _bad(values[0] if new else values[1], option)
    master.renamed_commands.pop(old.lower(), None)
    if old.lower() != new.lower():
        master.renamed_commands[old.lower()] = new
    return "%s %s" % (old, new)


_MASTER_OPTIONS = {
    "down-after-milliseconds": _set_period("down_after_period"),
    "failover-timeout": _set_period("failover_timeout"),
    "parallel-syncs": _set_period("parallel_syncs"),
    "quorum": _set_period("quorum"),
    "master-reboot-down-after-period": _set_period("master_reboot_down_after_period", allow_zero=True),
    "notification-script": _set_script("notification_script", "Notification script"),
    "client-reconfig-script": _set_script("client_reconfig_script", "Client reconfiguration script"),
    "auth-pass": _set_auth("auth_pass", True),
    "auth-user": _set_auth("auth_user", False),
    "rename-command": _set_rename,
}


# ---- SENTINEL CONFIG ------------------------------------------------------------------------


def _config_values(settings):
    return (
        ("resolve-hostnames", "yes" if settings.resolve_hostnames else "no"),
        ("announce-hostnames", "yes" if settings.announce_hostnames else "no"),
        ("announce-ip", settings.announce_ip),
        ("announce-port", str(settings.announce_port)),
        ("sentinel-user", settings.sentinel_user),
        ("sentinel-pass", settings.sentinel_pass),
    )


def config_get(s, pattern: bytes) -> dict:
    return {name.encode(): value.encode() for name, value in _config_values(s.settings) if matches(pattern.lower(), name.encode())}


def config_set(s, name: str, value: str):
    settings = s.settings
    option = name.lower()
    drop = False
    if option in ("resolve-hostnames", "announce-hostnames"):
        flag = {"yes": True, "no": False}.get(value.lower())
        if flag is None:
            raise _bad_value(value, name)
        setattr(settings, option.replace("-", "_"), flag)
    elif option == "announce-ip":
        settings.announce_ip = value
    elif option == "announce-port":
        port = _positive(value, allow_zero=True)
        if port is None or port > 65535:
            raise _bad_value(value, name)
        settings.announce_port = port
    elif option in ("sentinel-user", "sentinel-pass"):
        setattr(settings, option.replace("-", "_"), value)
        drop = True
    else:
        raise CommandError("ERR Invalid argument '%s' to SENTINEL CONFIG SET" % name)
    s.flush_config()
    if drop:
        for master in s.masters.values():
            for ri in master.sentinels.values():
                monitor.close_link(ri)
    return OK


def _bad_value(value, name):
    return CommandError("ERR Invalid value '%s' to SENTINEL CONFIG SET '%s'" % (value, name))


# ---- SENTINEL DEBUG ---------------------------------------------------------------------------


def debug(s, args):
    """No arguments: the tunable periods (ms). Otherwise set `name value` pairs."""
    settings = s.settings
    if not args:
        return {name.upper().encode(): str(getattr(settings, attr)).encode() for name, attr, _ in DEBUG_PARAMS}
    by_name = {name: attr for name, attr, _ in DEBUG_PARAMS}
    j = 0
    while j < len(args):
        option = as_text(args[j])
        attr = by_name.get(option.lower())
        if attr is None or j + 1 >= len(args):
            raise CommandError("ERR Unknown option or number of arguments for SENTINEL DEBUG '%s'" % option)
        value = _positive(args[j + 1])
        if value is None:
            raise CommandError("ERR Invalid argument '%s' for SENTINEL DEBUG '%s'" % (as_text(args[j + 1]), option))
        setattr(settings, attr, value)
        j += 2
    return OK
