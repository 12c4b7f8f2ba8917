"""INFO, CONFIG and COMMAND: what the server says about itself.

INFO's sections are built by node.info; COMMAND's replies by node.commands.meta
from the command table; CONFIG works on node.config's directives (REWRITE is
node.config_rewrite).
"""

import os

from .. import info as info_report
from .. import config_rewrite
from ..config import ALIASES, DIRECTIVES, ConfigError, parse_obuf
from ..errors import CommandError, SYNTAX
from ..glob import matches
from ..resp import OK, Pairs, Raw, Verbatim, simple
from . import meta, table
from .table import command, run_subcommand, subcommand

_SERVER = "server"


# ---- INFO ------------------------------------------------------------------


@command("info", -1, "loading stale", group=_SERVER, summary="Get information and statistics about the server", acl="dangerous",
         tips="nondeterministic_output request_policy:all_shards response_policy:special",
         docs={"complexity": "O(1)", "history": [("7.0.0", "Added support for taking multiple section arguments.")],
               "arguments": [{"name": "section", "type": "string", "flags": ["optional", "multiple"]}]})
def info(c, argv):
    text = info_report.generate(c.node, argv[1:])
    return Verbatim(text) if c.resp3 else text


# ---- CONFIG ------------------------------------------------------------------


@command("config", -2, "", group=_SERVER, since="2.0.0", summary="A container for server configuration commands", docs={"complexity": "Depends on subcommand."})
def config(c, argv):
    return run_subcommand(c, argv)


def _config_sub(name, arity, flags, summary, since, complexity="O(1)", **extra):
    docs = {"complexity": complexity, "history": extra.pop("history", None), "arguments": extra.pop("arguments", None)}

    def register(fn):
        subcommand("config", name, arity, flags, summary=summary, since=since, fn=fn, docs=docs, **extra)
        return fn

    return register


_ADMIN = "admin noscript loading stale"
_PER_PARAMETER = "O(N) when N is the number of configuration parameters provided"
# Set only at startup (or by REPLICAOF): CONFIG SET refuses them as Redis does.
_SET_IMMUTABLE = frozenset(("replicaof",))
# Redis's PROTECTED_CONFIG: CONFIG SET needs enable-protected-configs to allow it.
_PROTECTED = frozenset(("dir", "dbfilename"))


@_config_sub("get", -3, _ADMIN, "Get the values of configuration parameters", "2.0.0", _PER_PARAMETER,
             history=[("7.0.0", "Added the ability to pass multiple pattern parameters in one call")],
             arguments=[{"name": "parameter", "type": "block", "flags": ["multiple"], "arguments": [{"name": "parameter", "type": "string"}]}])
def config_get(c, argv):
    found = {}  # reply name -> directive
    for raw in argv[2:]:
        given = raw.decode("utf-8", "replace")
        if not any(ch in given for ch in "[*?"):
            # A plain name is looked up (any case) and answered under the name as given.
            name = _directive_name(given)
            if name is not None and given not in found:
                found[given] = name
            continue
        pattern = given.lower().encode()
        for name, directive in _all_names():
            if name not in found and matches(pattern, name.encode()):
                found[name] = directive
    config = c.node.config
    return Pairs((name.encode(), _get_value(config, directive).encode()) for name, directive in found.items())


def _directive_name(given):
    low = given.lower()
    name = ALIASES.get(low, low)
    return name if name in DIRECTIVES else None


def _all_names():
    for name, directive in DIRECTIVES.items():
        yield name, name
        if directive.alias:
            yield directive.alias, name


def _get_value(config, name) -> str:
    if name == "dir":
        return config.absolute_dir()
    return config.format(name)


@_config_sub("set", -4, _ADMIN, "Set configuration parameters to the given values", "2.0.0", _PER_PARAMETER,
             tips="request_policy:all_nodes response_policy:all_succeeded",
             history=[("7.0.0", "Added the ability to set multiple parameters in one call.")],
             arguments=[{"name": "parameter_value", "type": "block", "flags": ["multiple"], "arguments": [{"name": "parameter", "type": "string"}, {"name": "value", "type": "string"}]}])
def config_set(c, argv):
    if len(argv) % 2:
        raise CommandError(SYNTAX)
    items = _check_names(c, argv)
    config = c.node.config
    for given, name, text in items:
        try:
            _parse(config, name, text)
        except ConfigError as e:
            raise _set_failed(given.lower(), e.message) from None
    _apply(config, items)
    return OK


def _check_names(c, argv):
    """[(name as given, directive, value)], or Redis's error for the first bad name."""
    items, seen = [], set()
    for i in range(2, len(argv), 2):
        given = argv[i].decode("utf-8", "replace")
        name = _directive_name(given)
        if name is None:
            raise CommandError("ERR Unknown option or number of arguments for CONFIG SET - '%s'" % given)
        if DIRECTIVES[name].immutable or name in _SET_IMMUTABLE:
            raise _set_failed(given, "can't set immutable config")
        if name in _PROTECTED and not _protected_allowed(c):
            raise _set_failed(given, "can't set protected config")
        # An alias is a config entry of its own: setting a name and its alias is no duplicate.
        if given.lower() in seen:
            raise _set_failed(given, "duplicate parameter")
        seen.add(given.lower())
        items.append((given, name, argv[i + 1].decode("utf-8", "replace")))
    return items


def _protected_allowed(c) -> bool:
    mode = c.node.config["enable-protected-configs"]
    if mode == "yes":
        return True
    host = c.addr.rsplit(":", 1)[0]
    return mode == "local" and (host in ("127.0.0.1", "::1", "[::1]") or c.addr.startswith("/") or not c.addr)


def _set_failed(name, reason) -> CommandError:
    return CommandError("ERR CONFIG SET failed (possibly related to argument '%s') - %s" % (name, reason))


def _parse(config, name, text):
    """Check a value without storing it (ConfigError with Redis's reason)."""
    if DIRECTIVES[name].kind == "obuf":
        return parse_obuf(text, config.values[name])
    return DIRECTIVES[name].parse(text)


def _apply(config, items):
    """Store every value (listeners run); if one cannot be applied, put all back."""
    done = []
    for given, name, text in items:
        done.append((name, config.values[name]))
        try:
            if name == "dir":
                os.chdir(text)  # Redis's dir is the working directory
                text = os.getcwd()
            config.set(name, text)
        except (ConfigError, OSError) as e:
            _restore(config, done)
            raise _set_failed(given.lower(), e.message if isinstance(e, ConfigError) else e.strerror) from None


def _restore(config, done):
    for name, old in reversed(done):
        if name == "dir":
            try:
                os.chdir(old)
            except OSError:
                pass
        config.values[name] = old
        for listener in config.listeners:
            try:
                listener(name, old)
            except ConfigError:
                pass


@_config_sub("resetstat", 2, _ADMIN, "Reset the stats returned by INFO", "2.0.0")
def config_resetstat(c, argv):
    info_report.reset_stats(c.node)
    return OK


@_config_sub("rewrite", 2, _ADMIN, "Rewrite the configuration file with the in memory configuration", "2.8.0")
def config_rewrite_(c, argv):
    config = c.node.config
    if not config.path:
        raise CommandError("ERR The server is running without a config file")
    try:
        config_rewrite.rewrite(config)
    except OSError as e:
        if c.node.log:
            c.node.log.warning("CONFIG REWRITE failed: %s" % e.strerror)
        raise CommandError("ERR Rewriting config file: %s" % e.strerror) from None
    if c.node.log:
        c.node.log.warning("CONFIG REWRITE executed with success.")
    return OK


_CONFIG_HELP = [simple(line) for line in (
    "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET <pattern>",
    "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value>.",
    "RESETSTAT",
    "    Reset statistics reported by the INFO command.",
    "REWRITE",
    "    Rewrite the configuration file.",
    "HELP",
    "    Prints this help.",
)]


@_config_sub("help", 2, "loading stale", "Show helpful text about the different subcommands", "5.0.0")
def config_help(c, argv):
    return _CONFIG_HELP


# ---- COMMAND -----------------------------------------------------------------


@command("command", -1, "loading stale", group=_SERVER, since="2.8.13", summary="Get array of Redis command details", acl="connection",
         tips="nondeterministic_output_order", docs={"complexity": "O(N) where N is the total number of Redis commands"})
def command_(c, argv):
    if len(argv) == 1:
        return _infos(c.node.table.values(), c.resp3)
    return run_subcommand(c, argv)


def _command_sub(name, arity, summary, since, complexity="O(1)", tips="", **docs):
    def register(fn):
        subcommand("command", name, arity, "loading stale", summary=summary, since=since, fn=fn, acl="connection", tips=tips, docs=dict(docs, complexity=complexity))
        return fn

    return register


_PER_COMMAND = "O(N) where N is the number of commands to look up"
_PER_ARGUMENT = "O(N) where N is the number of arguments to the command"
_NAMES_ARG = [{"name": "command-name", "type": "string", "flags": ["optional", "multiple"]}]


def _infos(cmds, resp3):
    """COMMAND / COMMAND INFO: an array with each command's entry (null for unknown names)."""
    trees = [meta.info_tree(cmd) if cmd is not None else None for cmd in cmds]
    return Raw(meta.encode_tree(trees, resp3))


def find_command(commands, name: bytes):
    """A command by name, or a subcommand by "container|sub"; None when unknown."""
    text = name.decode("utf-8", "replace").lower()
    parent, _, sub = text.partition("|")
    cmd = commands.get(parent)
    if cmd is None or not sub:
        return cmd
    return cmd.subcommands.get(sub) if "|" not in sub else None


@_command_sub("docs", -2, "Get array of specific Redis command documentation", "7.0.0", _PER_COMMAND, tips="nondeterministic_output_order", arguments=_NAMES_ARG)
def command_docs(c, argv):
    if len(argv) == 2:
        cmds = list(c.node.table.values())
    else:
        cmds = [cmd for cmd in (find_command(c.node.table, name) for name in argv[2:]) if cmd is not None]
    return Raw(meta.encode_tree(Pairs((cmd.name.encode(), meta.docs_tree(cmd)) for cmd in cmds), c.resp3))


@_command_sub("help", 2, "Show helpful text about the different subcommands", "5.0.0")
def command_help(c, argv):
    return _COMMAND_HELP


@_command_sub("list", -2, "Get an array of Redis command names", "7.0.0", "O(N) where N is the total number of Redis commands", tips="nondeterministic_output_order",
              arguments=[{"name": "filterby", "type": "oneof", "token": "FILTERBY", "flags": ["optional"], "arguments": [
                  {"name": "module-name", "type": "string", "token": "MODULE"},
                  {"name": "category", "type": "string", "token": "ACLCAT"},
                  {"name": "pattern", "type": "pattern", "token": "PATTERN"}]}])
def command_list(c, argv):
    keep = _list_filter(argv)
    names = []
    for cmd in c.node.table.values():
        for one in (cmd, *cmd.subcommands.values()):
            if keep(one):
                names.append(one.name.encode())
    return names


def _list_filter(argv):
    """COMMAND LIST's optional FILTERBY MODULE|ACLCAT|PATTERN <arg>, as a predicate."""
    if len(argv) == 2:
        return lambda cmd: True
    if len(argv) != 5 or argv[2].lower() != b"filterby":
        raise CommandError(SYNTAX)
    kind, arg = argv[3].lower(), argv[4]
    if kind == b"module":
        return lambda cmd: False  # no modules
    if kind == b"aclcat":
        category = arg.decode("utf-8", "replace").lower()
        return lambda cmd: category in meta.acl_categories(cmd)
    if kind == b"pattern":
        pattern = arg.lower()
        return lambda cmd: matches(pattern, cmd.name.encode())
    raise CommandError(SYNTAX)


@_command_sub("getkeysandflags", -4, "Extract keys and access flags given a full Redis command", "7.0.0", _PER_ARGUMENT)
def command_getkeysandflags(c, argv):
    args = argv[2:]
    found = _keys_of(c.node.table, args)
    return Raw(meta.encode_tree([[args[i], meta.key_flag_set(flags)] for i, flags in found], c.resp3))


@_command_sub("count", 2, "Get total number of Redis commands", "2.8.13")
def command_count(c, argv):
    return len(c.node.table)


@_command_sub("getkeys", -4, "Extract keys given a full Redis command", "2.8.13", _PER_ARGUMENT)
def command_getkeys(c, argv):
    args = argv[2:]
    return [args[i] for i, _ in _keys_of(c.node.table, args)]


def _keys_of(commands, args):
    """[(index, flags)] of the keys in a full command line, with Redis's errors."""
    cmd = commands.lookup(args[0])
    if cmd is not None and cmd.subcommands and len(args) > 1:
        cmd = cmd.subcommands.get(args[1].decode("utf-8", "replace").lower())
    if cmd is None:
        raise CommandError("ERR Invalid command specified")
    if not meta.has_keys(cmd):
        raise CommandError("ERR The command has no key arguments")
    n = len(args)
    if (cmd.arity > 0 and cmd.arity != n) or n < -cmd.arity:
        raise CommandError("ERR Invalid number of arguments specified for command")
    found = meta.keys_with_flags(cmd, args)
    if not found:
        if "no_mandatory_keys" in cmd.flags:
            return []
        raise CommandError("ERR Invalid arguments specified for command")
    return found


@_command_sub("info", -2, "Get array of specific Redis command details, or all when no argument is given.", "2.8.13", _PER_COMMAND, tips="nondeterministic_output_order",
              history=[("7.0.0", "Allowed to be called with no argument to get info on all commands.")], arguments=_NAMES_ARG)
def command_info(c, argv):
    if len(argv) == 2:
        return _infos(c.node.table.values(), c.resp3)
    return _infos([find_command(c.node.table, name) for name in argv[2:]], c.resp3)


_COMMAND_HELP = [simple(line) for line in (
    "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
    "HELP",
    "    Prints this help.",
)]
