"""Connection commands: PING, ECHO, QUIT, HELLO, AUTH, SELECT, RESET, and the CLIENT container.

Authentication is Redis 7.0's without ACL rules: the only user is "default",
whose password is `requirepass`. With no requirepass the user is "nopass":
any password is accepted for it, but the one-argument AUTH form is an error.

AUTH and HELLO overwrite the password arguments with "(redacted)" in argv
itself, as Redis does, so MONITOR and SLOWLOG (which read argv after the call)
never show them.
"""

import hmac
import sys
import time

from .. import resp
from ..errors import CommandError, DB_INDEX, SYNTAX
from ..resp import OK, Raw, Verbatim
from .args import INT64_MAX, parse_int
from .table import command, run_subcommand, subcommand

REDIS_VERSION = "7.0.15"

_REDACTED = b"(redacted)"
_NOTHING = Raw(b"")  # the command sends no reply (CLIENT REPLY OFF/SKIP)
_RESET = resp.simple("RESET")
_AUTH_NOPASS = (
    "ERR AUTH <password> called without any password configured for the default user. "
    "Are you sure your configuration is correct?"
)
_WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."
_HELLO_NOAUTH = (
    "NOAUTH HELLO must be called with the client already authenticated, otherwise the "
    "HELLO AUTH <user> <pass> option can be used to authenticate the client and select "
    "the RESP protocol version at the same time"
)
_BAD_NAME = "ERR Client names cannot contain spaces, newlines or special characters."
_INT32_RANGE = "ERR value is out of range, value must between -2147483648 and 2147483647"


def shown(raw: bytes) -> str:
    """User input inside an error text: Redis turns CR/LF into spaces to keep the protocol intact."""
    return raw.decode("utf-8", "replace").replace("\r", " ").replace("\n", " ")


# ---- PING, ECHO, QUIT, SELECT ----------------------------------------------


@command("ping", -1, "fast", group="connection", summary="Ping the server", tips="request_policy:all_shards response_policy:all_succeeded")
def ping(c, argv):
    n = len(argv)
    if n > 2:
        raise CommandError("ERR wrong number of arguments for 'ping' command")
    # A RESP2 subscriber can only read arrays, so it gets ["pong", message].
    if c.kind == "pubsub" and not c.resp3:
        return [b"pong", argv[1] if n == 2 else b""]
    return resp.PONG if n == 1 else argv[1]


@command("echo", 2, "loading stale fast", group="connection", summary="Echo the given string")
def echo(c, argv):
    return argv[1]


@command("quit", -1, "noscript loading stale fast no_auth allow_busy", group="connection", summary="Close the connection")
def quit_cmd(c, argv):
    c.closing = True  # the I/O layer closes once this OK is written
    return OK


@command("select", 2, "loading stale fast", group="connection", summary="Change the selected database for the current connection")
def select(c, argv):
    index = parse_int(argv[1])
    if not -(1 << 31) <= index < (1 << 31):
        raise CommandError(_INT32_RANGE)
    if not 0 <= index < len(c.node.keyspace.dbs):
        raise CommandError(DB_INDEX)
    c.select(index)
    return OK


# ---- AUTH, HELLO, RESET --------------------------------------------------------


def authenticate(c, user: bytes, password: bytes) -> bool:
    """Log c in as user; False leaves its state as it was (a failed AUTH logs nobody out)."""
    if user != b"default":
        return False
    required = c.node.config["requirepass"]
    if required and not hmac.compare_digest(password, required.encode()):
        return False
    c.authenticated = True
    c.user = "default"
    return True


@command("auth", -2, "noscript loading stale fast no_auth allow_busy", group="connection", summary="Authenticate to the server")
def auth(c, argv):
    n = len(argv)
    if n > 3:
        raise CommandError(SYNTAX)
    if n == 2:
        password = argv[1]
        argv[1] = _REDACTED
        if not c.node.config["requirepass"]:
            raise CommandError(_AUTH_NOPASS)
        user = b"default"
    else:
        user, password = argv[1], argv[2]
        argv[1] = argv[2] = _REDACTED
    if not authenticate(c, user, password):
        raise CommandError(_WRONGPASS)
    return OK


def set_name(c, name: bytes):
    # Names show up in CLIENT LIST's space-separated fields: printable, no spaces.
    if any(b < 33 or b > 126 for b in name):
        raise CommandError(_BAD_NAME)
    c.name = name


@command("hello", -1, "noscript loading stale fast no_auth allow_busy", group="connection", since="6.0.0", summary="Handshake with Redis")
def hello(c, argv):
    n = len(argv)
    version = 0
    if n >= 2:
        version = parse_int(argv[1], "ERR Protocol version is not an integer or out of range")
        if version < 2 or version > 3:
            raise CommandError("NOPROTO unsupported protocol version")
    user = password = name = None
    j = 2
    while j < n:
        option, more = argv[j].lower(), n - 1 - j
        if option == b"auth" and more >= 2:
            user, password = argv[j + 1], argv[j + 2]
            argv[j + 1] = argv[j + 2] = _REDACTED
            j += 3
        elif option == b"setname" and more:
            name = argv[j + 1]
            j += 2
        else:
            raise CommandError("ERR Syntax error in HELLO option '%s'" % shown(argv[j]))
    if user is not None and not authenticate(c, user, password):
        raise CommandError(_WRONGPASS)
    if not c.authenticated:
        raise CommandError(_HELLO_NOAUTH)
    if name is not None:
        set_name(c, name)
    if version:
        c.resp3 = version == 3
    if c.node.config["sentinel-mode"]:  # a sentinel reports its mode and no replication role
        return {b"server": b"redis", b"version": REDIS_VERSION.encode(), b"proto": 3 if c.resp3 else 2, b"id": c.id, b"mode": b"sentinel", b"modules": []}
    return {
        b"server": b"redis",
        b"version": REDIS_VERSION.encode(),
        b"proto": 3 if c.resp3 else 2,
        b"id": c.id,
        b"mode": b"standalone",
        b"role": b"master" if c.node.role == "master" else b"replica",
        b"modules": [],
    }


@command("reset", 1, "noscript loading stale fast no_auth allow_busy", group="connection", since="6.2.0", summary="Reset the connection")
def reset(c, argv):
    """Back to a fresh connection's state (Redis's clearClientConnectionState)."""
    node = c.node
    if c.monitor:
        c.monitor = False
        if c in node.monitors:
            node.monitors.remove(c)
    c.multi = None
    c.multi_error = False
    c.unwatch_all()
    node.unsubscribe_all(c)
    c.select(0)
    c.resp3 = False
    c.authenticated = not node.config["requirepass"]
    c.user = "default"
    c.name = b""
    # CLIENT NO-EVICT stays: Redis 7.0's RESET keeps it (7.2's clears it).
    if c.reply_mode is not None:
        c.reply_mode = "on"  # replies flow again, starting with this +RESET
    return _RESET


# ---- CLIENT LIST / CLIENT INFO lines -----------------------------------------


_TYPE_NAMES = {b"normal": "normal", b"slave": "replica", b"replica": "replica", b"pubsub": "pubsub", b"master": "master"}


def parse_client_type(raw: bytes) -> str:
    """A client type name as CLIENT LIST/KILL take it, as the Client.kind it selects.
    (A MONITOR client keeps kind "normal", as Redis's getClientType counts it.)"""
    kind = _TYPE_NAMES.get(raw.lower())
    if kind is None:
        raise CommandError("ERR Unknown client type '%s'" % shown(raw))
    return kind


def _flags(cl) -> bytes:
    flags = []
    if cl.monitor:
        flags.append("O")
    elif cl.kind == "replica":
        flags.append("S")
    if cl.kind == "master":
        flags.append("M")
    if cl.kind == "pubsub":
        flags.append("P")
    if cl.multi is not None:
        flags.append("x")
    if cl.blocked is not None:
        flags.append("b")
    if cl.dirty_cas:
        flags.append("d")
    if cl.closing:
        flags.append("c")
    if cl.no_evict:
        flags.append("e")
    flags.append(cl.flags_extra)
    return ("".join(flags) or "N").encode()


def _object_size(cl) -> int:
    """The Client object itself, with its attribute table."""
    return sys.getsizeof(cl) + sys.getsizeof(getattr(cl, "__dict__", ()))


def info_line(cl, now: float, argv=None, cmd_name=None) -> bytes:
    """One CLIENT LIST line with Redis 7.0's fields, in its order.

    `argv` and `cmd_name` describe the command the client is running right now
    (the caller's own CLIENT LIST/INFO). Output is measured from the client's
    pending replies: there is no separate fixed reply buffer, so obl is 0.
    """
    pending = sum(map(len, cl.out))
    argv_mem = sum(map(len, argv)) if argv is not None else 0
    multi_mem = sum(len(a) for _, args in cl.multi for a in args) if cl.multi else 0
    qbuf, rbs = cl.query_buf, cl.read_buf_size
    total = _object_size(cl) + qbuf + rbs + argv_mem + multi_mem + pending
    return b"id=%d addr=%s laddr=%s fd=%d name=%s age=%d idle=%d flags=%s db=%d sub=%d psub=%d ssub=%d multi=%d qbuf=%d qbuf-free=%d argv-mem=%d multi-mem=%d rbs=%d rbp=%d obl=0 oll=%d omem=%d tot-mem=%d events=%s cmd=%s user=%s redir=-1 resp=%d%s" % (
        cl.id,
        cl.addr.encode(),
        cl.laddr.encode(),
        cl.fd,
        cl.name,
        int(now) - int(cl.created),
        int(now) - int(cl.last_interaction),
        _flags(cl),
        cl.dbnum,
        len(cl.channels),
        len(cl.patterns),
        len(cl.shard_channels),
        len(cl.multi) if cl.multi is not None else -1,
        qbuf,
        max(rbs - qbuf, 0),
        argv_mem,
        multi_mem,
        rbs,
        cl.read_buf_peak,
        len(cl.out),
        pending,
        total,
        b"rw" if pending else b"r",
        (cmd_name or cl.last_cmd).encode(),
        cl.user.encode(),
        3 if cl.resp3 else 2,
        _lib_fields(cl),
    )


def _lib_fields(cl) -> bytes:
    """lib-name/lib-ver as Redis 7.2 shows them, only once a client sent CLIENT SETINFO:
    a 7.0 client's line stays exactly 7.0's."""
    if not cl.lib_name and not cl.lib_ver:
        return b""
    return b" lib-name=%s lib-ver=%s" % (cl.lib_name, cl.lib_ver)


# ---- CLIENT ------------------------------------------------------------------


@command("client", -2, "", group="connection", since="2.4.0", summary="A container for client connection commands")
def client_cmd(c, argv):
    return run_subcommand(c, argv)


def _client_sub(name, arity, flags, since, summary, tips=""):
    def register(fn):
        subcommand("client", name, arity, flags, summary=summary, since=since, fn=fn, tips=tips)
        return fn

    return register


def _bad_arguments(argv) -> CommandError:
    """A known subcommand given arguments it can't take (Redis's addReplySubcommandSyntaxError)."""
    return CommandError("ERR unknown subcommand or wrong number of arguments for '%s'. Try CLIENT HELP." % shown(argv[1][:128]))


@_client_sub("id", 2, "noscript loading stale", "5.0.0", "Returns the client ID for the current connection")
def client_id(c, argv):
    return c.id


@_client_sub("getname", 2, "noscript loading stale", "2.6.9", "Get the current connection name")
def client_getname(c, argv):
    return c.name or None


@_client_sub("setname", 3, "noscript loading stale", "2.6.9", "Set the current connection name")
def client_setname(c, argv):
    set_name(c, argv[2])
    return OK


@_client_sub("setinfo", 4, "noscript loading stale", "7.2.0", "Set client or connection specific info")
def client_setinfo(c, argv):
    """Redis 7.2's CLIENT SETINFO LIB-NAME|LIB-VER value (7.0 has no such subcommand)."""
    attr = argv[2].lower()
    if attr not in (b"lib-name", b"lib-ver"):
        raise CommandError("ERR Unrecognized option '%s'" % shown(argv[2]))
    value = argv[3]
    if any(b < 33 or b > 126 for b in value):
        raise CommandError("ERR %s cannot contain spaces, newlines or special characters." % shown(argv[2]))
    if attr == b"lib-name":
        c.lib_name = value
    else:
        c.lib_ver = value
    return OK


@_client_sub("info", 2, "noscript loading stale", "6.2.0", "Returns information about the current client connection.", "nondeterministic_output")
def client_info(c, argv):
    # Inside EXEC, Redis's current command is still the EXEC.
    return Verbatim(info_line(c, time.time(), argv, "exec" if c.in_exec else "client|info") + b"\n")


@_client_sub("list", -2, "admin noscript loading stale", "2.4.0", "Get the list of client connections", "nondeterministic_output")
def client_list(c, argv):
    n = len(argv)
    clients = c.node.clients
    if n == 2:
        chosen = list(clients.values())
    elif n == 4 and argv[2].lower() == b"type":
        kind = parse_client_type(argv[3])
        chosen = [cl for cl in clients.values() if cl.kind == kind]
    elif n > 3 and argv[2].lower() == b"id":
        ids = [parse_int(raw, "ERR Invalid client ID") for raw in argv[3:]]
        chosen = [clients[i] for i in ids if i in clients]
    else:
        raise CommandError(SYNTAX)
    now = time.time()
    name = "exec" if c.in_exec else "client|list"
    lines = [info_line(cl, now, argv, name) if cl is c else info_line(cl, now) for cl in chosen]
    return Verbatim(b"".join(line + b"\n" for line in lines))


def _kill_filters(c, argv):
    """CLIENT KILL's new-form options as a match predicate and the SKIPME setting."""
    addr = laddr = kind = None
    cid = 0
    skipme = True
    n, i = len(argv), 2
    while i < n:
        option, more = argv[i].lower(), i + 1 < n
        if not more:
            raise CommandError(SYNTAX)
        value = argv[i + 1]
        if option == b"id":
            cid = parse_int(value, "ERR client-id should be greater than 0")
            if cid < 1:
                raise CommandError("ERR client-id should be greater than 0")
        elif option == b"type":
            kind = parse_client_type(value)
        elif option == b"addr":
            addr = value.decode("utf-8", "replace")
        elif option == b"laddr":
            laddr = value.decode("utf-8", "replace")
        elif option == b"user":
            if value != b"default":
                raise CommandError("ERR No such user '%s'" % shown(value))
        elif option == b"skipme":
            if value.lower() not in (b"yes", b"no"):
                raise CommandError(SYNTAX)
            skipme = value.lower() == b"yes"
        else:
            raise CommandError(SYNTAX)
        i += 2

    def match(cl):
        return (
            (addr is None or cl.addr == addr)
            and (laddr is None or cl.laddr == laddr)
            and (kind is None or cl.kind == kind)
            and (not cid or cl.id == cid)
        )

    return match, skipme


def kill_client(node, cl):
    """Close another client now: it leaves the client table at once, as freeClient does."""
    cl.closing = True
    node.remove_client(cl)
    if cl.kill is not None:
        cl.kill()


@_client_sub("kill", -3, "admin noscript loading stale", "2.4.0", "Kill the connection of a client")
def client_kill(c, argv):
    old_form = len(argv) == 3
    if old_form:
        wanted = argv[2].decode("utf-8", "replace")
        match, skipme = (lambda cl: cl.addr == wanted), False  # the old form may kill its caller
    else:
        match, skipme = _kill_filters(c, argv)
    node = c.node
    killed = 0
    for cl in list(node.clients.values()):
        if not match(cl) or (cl is c and skipme):
            continue
        if cl is c:
            c.closing = True  # after this reply is written
        else:
            kill_client(node, cl)
        killed += 1
    if not old_form:
        return killed
    if not killed:
        raise CommandError("ERR No such client")
    return OK


@_client_sub("pause", -3, "admin noscript loading stale", "2.9.50", "Stop processing commands from clients for some time")
def client_pause(c, argv):
    n = len(argv)
    if n > 4:
        raise _bad_arguments(argv)
    writes_only = False
    if n == 4:
        mode = argv[3].lower()
        if mode not in (b"write", b"all"):
            raise CommandError("ERR CLIENT PAUSE mode must be WRITE or ALL")
        writes_only = mode == b"write"
    ms = parse_int(argv[2], "ERR timeout is not an integer or out of range")
    if ms < 0:
        raise CommandError("ERR timeout is negative")
    node = c.node
    now = time.time()
    # Redis adds the timeout to its ms clock; past INT64_MAX that wraps into the past: no pause.
    end = now + ms / 1000.0 if 0 < ms <= INT64_MAX - int(now * 1000) else 0.0
    if node.pause_until > now:
        # A pause on can be made longer or wider (WRITE to ALL), never shorter or narrower.
        node.pause_until = max(node.pause_until, end)
        node.pause_writes_only = node.pause_writes_only and writes_only
    elif end > now:
        node.pause_until = end
        node.pause_writes_only = writes_only
    return OK


@_client_sub("unpause", 2, "admin noscript loading stale", "6.2.0", "Resume processing of clients that were paused")
def client_unpause(c, argv):
    c.node.pause_until = 0.0
    c.node.pause_writes_only = False
    return OK


@_client_sub("no-evict", 3, "admin noscript loading stale", "7.0.0", "Set client eviction mode for the current connection")
def client_no_evict(c, argv):
    mode = argv[2].lower()
    if mode not in (b"on", b"off"):
        raise CommandError(SYNTAX)
    c.no_evict = mode == b"on"
    return OK


@_client_sub("reply", 3, "noscript loading stale", "3.2.0", "Instruct the server whether to reply to commands")
def client_reply(c, argv):
    """ON, OFF, or SKIP (the next command). node.core drops the replies while off or skipping."""
    mode = argv[2].lower()
    if mode == b"on":
        if c.reply_mode is not None:
            c.reply_mode = "on"
        return OK
    if mode == b"off":
        c.reply_mode = "off"
        return _NOTHING
    if mode == b"skip":
        if c.reply_mode != "off":
            c.reply_mode = "skip_next"
        return _NOTHING
    raise CommandError(SYNTAX)


_UNBLOCKED = Raw(b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n")


@_client_sub("unblock", -3, "admin noscript loading stale", "5.0.0", "Unblock a client blocked in a blocking command from a different connection")
def client_unblock(c, argv):
    n = len(argv)
    if n > 4:
        raise _bad_arguments(argv)
    as_error = False
    if n == 4:
        reason = argv[3].lower()
        if reason not in (b"timeout", b"error"):
            raise CommandError("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
        as_error = reason == b"error"
    target = c.node.clients.get(parse_int(argv[2]))
    if target is None or target.blocked is None:
        return 0
    if as_error:
        c.node.cancel_block(target)
        target.blocked_reply = _UNBLOCKED
    else:
        target.blocked_reply = c.node.timeout_block(target)
    if target.unblock is not None:
        target.unblock()
    return 1


# Client-side caching is not implemented: tracking is always off, and these
# report exactly that (CACHING is refused as Redis refuses it without tracking).


@_client_sub("getredir", 2, "noscript loading stale", "6.0.0", "Get tracking notifications redirection client ID if any")
def client_getredir(c, argv):
    return -1


@_client_sub("trackinginfo", 2, "noscript loading stale", "6.2.0", "Return information about server assisted client side caching for the current connection")
def client_trackinginfo(c, argv):
    return {b"flags": {b"off"}, b"redirect": -1, b"prefixes": []}


@_client_sub("caching", 3, "noscript loading stale", "6.0.0", "Instruct the server about tracking or not keys in the next request")
def client_caching(c, argv):
    raise CommandError("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled")


@_client_sub("tracking", -3, "noscript loading stale", "6.0.0", "Enable or disable server assisted client side caching support")
def client_tracking(c, argv):
    _check_tracking_options(c, argv)
    mode = argv[2].lower()
    if mode == b"off":
        return OK  # it is never on
    if mode == b"on":
        raise CommandError("ERR client-side caching (CLIENT TRACKING ON) is not supported by this server")
    raise CommandError(SYNTAX)


def _check_tracking_options(c, argv):
    """Redis validates CLIENT TRACKING's options before looking at ON/OFF."""
    redirect = None
    n, j = len(argv), 3
    while j < n:
        option, more = argv[j].lower(), j + 1 < n
        if option == b"redirect" and more:
            j += 1
            if redirect is not None:
                raise CommandError("ERR A client can only redirect to a single other client")
            redirect = parse_int(argv[j])
            if redirect not in c.node.clients:
                raise CommandError("ERR The client ID you want redirect to does not exist")
        elif option == b"prefix" and more:
            j += 1
        elif option not in (b"bcast", b"optin", b"optout", b"noloop"):
            raise CommandError(SYNTAX)
        j += 1


_CLIENT_HELP = [
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
]


def help_reply(container: str, lines) -> Raw:
    """Redis's addReplyHelp: a header, the lines, and HELP itself, all status replies."""
    every = ["%s <subcommand> [<arg> [value] [opt] ...]. Subcommands are:" % container, *lines, "HELP", "    Prints this help."]
    return Raw(b"*%d\r\n" % len(every) + b"".join(b"+%s\r\n" % line.encode() for line in every))


_CLIENT_HELP_REPLY = help_reply("CLIENT", _CLIENT_HELP)


@_client_sub("help", 2, "loading stale", "5.0.0", "Show helpful text about the different subcommands")
def client_help(c, argv):
    return _CLIENT_HELP_REPLY
