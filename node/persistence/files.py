"""Crash-safe file writing: temporary name, fsync, rename, fsync the directory.

Every file the node writes goes through write_atomically (RDB snapshots, AOF
bases, manifests), so after a crash a path holds either the old file or the
whole new one, and the rename itself survives a power cut. The AOF's incr
files are the one exception by nature: they are appended to in place, and a
torn last command is what aof-load-truncated handles.
"""

import os


def fsync_dir(path: str):
    """Make a rename in `path` durable."""
    fd = os.open(path or ".", os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_all(fd: int, data) -> int:
    """os.write until every byte is out (a write may be partial)."""
    view = memoryview(data)
    total = len(view)
    while view:
        view = view[os.write(fd, view) :]
    return total


def write_atomically(path: str, produce, tmp_name: str = None):
    """Write a file through produce(write) so that `path` is either the old or the whole new file.

    The temporary file is in the same directory (a rename across file systems
    is no rename). Returns what produce() returned."""
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, tmp_name or "temp-%d-%s" % (os.getpid(), os.path.basename(path)))
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        try:
            result = produce(lambda data: write_all(fd, data))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    fsync_dir(directory)
    return result
