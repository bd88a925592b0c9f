"""Opening a file to read audio from it: regular files only (DESIGN.md, "Errors").

Every reader of an audio file goes through here first: the tag reader and the fingerprint (through
:func:`open_readable`), the decoders' back ends, libmpg123 and FFmpeg, which open the path
themselves (through :func:`check_readable`).  A FIFO, a device (``/dev/zero``, ``/dev/urandom``), a
socket or a folder is refused with a one-line reason before anything reads it -- a FIFO's
``open()`` blocks until a writer comes, a device's reads never end.  Symbolic links are followed:
what counts is the file they lead to.
"""
from __future__ import annotations

import os
import stat
from typing import BinaryIO

from core.errors import UnreadableFile, UnsupportedFile

_KINDS = (
    (stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
)


def special_file_reason(path: str, mode: int) -> str | None:
    """Why ``path``, whose (symlink-resolved) ``st_mode`` is ``mode``, cannot be read as audio:
    ``"is a folder, not a file"``, ``"not a regular file: ..."``, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a folder, not a file"
    what = next((name for test, name in _KINDS if test(mode)), "a special file")
    if os.path.islink(path):
        return f"not a regular file: a symbolic link to {os.path.realpath(path)}, {what}"
    return f"not a regular file: {what}"


def _stat_error(path: str, exc: OSError) -> UnreadableFile:
    if isinstance(exc, FileNotFoundError):
        return UnreadableFile(path, "file not found")
    if isinstance(exc, PermissionError):
        return UnreadableFile(path, "permission denied")
    return UnreadableFile(path, f"cannot stat the file ({exc.strerror or exc})")


def check_readable(path: str | os.PathLike) -> os.stat_result:
    """``path``'s ``os.stat`` (symlinks followed) when it is a readable, non-empty regular file;
    else raise :class:`~core.errors.UnreadableFile` (missing, no permission, a folder, a FIFO or
    device) or :class:`~core.errors.UnsupportedFile` (empty).  Never opens the file."""
    path = os.fspath(path)
    try:
        st = os.stat(path)
    except OSError as exc:
        raise _stat_error(path, exc) from exc
    why = special_file_reason(path, st.st_mode)
    if why is not None:
        raise UnreadableFile(path, why)
    if not os.access(path, os.R_OK):
        raise UnreadableFile(path, "permission denied")
    if st.st_size == 0:
        raise UnsupportedFile(path, "empty file (0 bytes)")
    return st


_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # POSIX (where FIFOs are); 0 elsewhere


def _opener(path: str, flags: int) -> int:
    """``os.open`` that does not wait for a FIFO's writer (O_NONBLOCK), then refuses anything but a
    regular file before a byte is read, and makes the descriptor blocking again."""
    fd = os.open(path, flags | _NONBLOCK)
    try:
        why = special_file_reason(path, os.fstat(fd).st_mode)
        if why is not None:
            raise UnreadableFile(path, why)
        if _NONBLOCK:
            import fcntl

            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~_NONBLOCK)
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_readable(path: str | os.PathLike) -> BinaryIO:
    """``path`` opened for binary reading when it is a regular file (checked on the open file, so
    a file swapped for a FIFO after a check is still refused).  Raises
    :class:`~core.errors.UnreadableFile` for a special file; ``OSError`` as ``open()`` does."""
    return open(os.fspath(path), "rb", opener=_opener)
