"""Writing a file where the user meant it: through symlinks to their target, onto devices and pipes as they are.

Renaming a temp file over a path is atomic, but over a symlink it replaces the link, and over
/dev/stdout (as root) it replaces the device node for the whole system. So the rename happens
beside the file the path finally names, and only when that is a regular file (or nothing yet).
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile

# How many symlinks in a row are followed before giving up (the kernel's own limit is 40).
MAX_LINK_HOPS = 40


def _final_target(path: str) -> str | None:
    """The path after following every symlink, or None when a link leads into /proc: such a
    path (/dev/stdout, /dev/fd/N) names an open descriptor, which only the path itself reaches."""
    current = os.path.abspath(path)
    for _hop in range(MAX_LINK_HOPS):
        if current.startswith("/proc/"):
            return None
        if not os.path.islink(current):
            return os.path.realpath(current)
        current = os.path.join(os.path.dirname(current), os.readlink(current))
    raise OSError(f"{path}: too many levels of symbolic links")


def write_text(path: str, text: str, mode: int | None = None) -> None:
    """Replace the contents of `path` with `text`, atomically where the file system allows.

    A regular file (or a new one) is written to a temp file beside it and renamed over it, so a
    failed write leaves the old contents; a symlink keeps pointing where it pointed. Anything else
    (a terminal, a pipe, /dev/stdout) is opened and written directly. `mode` sets the permission
    bits; None keeps those of the file replaced (0600 for a new file).
    """
    target = _final_target(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        info = None
    if target is None or (info is not None and not stat.S_ISREG(info.st_mode)):
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        return
    bits = mode if mode is not None else (stat.S_IMODE(info.st_mode) if info is not None else 0o600)
    fd, temp = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=os.path.dirname(target))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            if hasattr(os, "fchmod"):
                os.fchmod(handle.fileno(), bits)
            else:  # Windows before Python 3.13: only the read-only bit exists there
                os.chmod(temp, bits)
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
