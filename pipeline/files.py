"""Files written whole or not at all: `replace_file`, shared by saved artifacts
(frontend/saving.py), the persistent compile cache (pipeline/cache.py) and the tools."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Callable
from typing import IO


def _temporary(target: str) -> tuple[int, str]:
    """A new file next to `target`, created 0666 so the kernel applies the umask (reading the
    umask means setting it, which races with other threads creating files)."""
    folder, base = os.path.split(target)
    while True:
        tmp = os.path.join(folder, f".{base}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
        except FileExistsError:
            continue


def replace_file(path: str, write: Callable[[IO[bytes]], object]) -> None:
    """Write the file at `path` (through a symbolic link) with `write`, atomically: into a
    temporary file next to it, renamed over it when complete, so a failure leaves any old file
    intact. An existing file keeps its mode (and must be writable); a new file gets
    0666 less the umask, as `open` gives. `OSError` naming `path` if it cannot be written."""
    target = os.path.realpath(path)
    mode: int | None
    try:
        st_mode = os.stat(target).st_mode
        if stat.S_ISDIR(st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
        if not os.access(target, os.W_OK):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)
        mode = stat.S_IMODE(st_mode)
    except FileNotFoundError:
        mode = None  # a new file: the mode `_temporary` got, as `open` would give
    try:
        fd, tmp = _temporary(target)
    except OSError as e:
        raise OSError(e.errno, e.strerror, path) from None
    try:
        with os.fdopen(fd, "wb") as f:
            if mode is not None:
                os.fchmod(f.fileno(), mode)
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError) and e.errno is not None:
            raise OSError(e.errno, e.strerror, path) from None
        raise
