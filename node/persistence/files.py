"""Crash-safe file writing: temporary name, fsync, rename, fsync the directory."""

import os


def fsync_dir(path: str):
    """Make a rename in `path` durable."""
    fd = os.open(path or ".", os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: str, produce, tmp_name: str = None):
    """Write a file through produce(write) so that `path` is either the old or the whole new file.

    Returns the number of bytes produce() reported (or written)."""
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, tmp_name or "temp-%d-%s" % (os.getpid(), os.path.basename(path)))
    try:
        with open(tmp, "wb", buffering=0) as f:
            result = produce(f.write)
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    fsync_dir(directory)
    return result
