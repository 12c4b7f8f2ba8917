"""What a triokv process does around its server, for triokv-node and triokv-sentinel alike:
enter its directory, keep its pid file, run the server until it stops."""

import os

import trio


def informational(argv, usage: str, program: str, version: str) -> bool:
    """-h/--help or -v/--version as the first argument: printed, and the process is done."""
    if argv and argv[0] in ("-h", "--help"):
        print(usage)
        return True
    if argv and argv[0] in ("-v", "--version"):
        print("%s v=%s (Redis 7.0.15 compatible)" % (program, version))
        return True
    return False


def enter_dir(config, log) -> bool:
    """chdir to `dir` (created if missing), as Redis does; False when impossible (logged)."""
    try:
        os.makedirs(config["dir"], exist_ok=True)
        os.chdir(config["dir"])
    except OSError as e:
        log.warning("Can't chdir to '%s': %s" % (config["dir"], e.strerror))
        return False
    config.values["dir"] = os.getcwd()
    return True


def serve(server, config, log) -> int:
    """Run until SHUTDOWN or a signal; the exit status. The pid file lives as long as the server."""
    pidfile = config["pidfile"]
    if pidfile:
        _write_pidfile(pidfile)
    try:
        trio.run(server.listen)
    except OSError as e:
        log.warning("Failed listening on port %d (tcp), aborting: %s" % (config["port"], e.strerror or e))
        return 1
    finally:
        if pidfile:
            try:
                os.unlink(pidfile)
            except OSError:
                pass
    return server.exit_code


def _write_pidfile(path):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write("%d\n" % os.getpid())
    os.replace(tmp, path)
