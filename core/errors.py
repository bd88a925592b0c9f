"""The small error taxonomy at the file boundary (DESIGN.md, "Errors").

Every error carries the path and a one-line, human reason; ``str(err)`` is the sentence the UI
shows.  The log keeps the traceback (raise ... from the original exception).
"""
from __future__ import annotations

import os


class MelographError(Exception):
    """Base of Melograph's own errors."""


class FileError(MelographError):
    """A file that cannot be used. ``kind`` is one of the names below."""

    kind = "error"

    def __init__(self, path: str | os.PathLike, reason: str):
        self.path = os.fspath(path)
        self.reason = " ".join(str(reason).split())  # always one line
        super().__init__(f"{self.path}: {self.reason}")

    def as_dict(self) -> dict:
        return {"path": self.path, "kind": self.kind, "reason": self.reason}


class UnreadableFile(FileError):
    """Missing, no permission, a folder, vanished while reading."""

    kind = "unreadable"


class UnsupportedFile(FileError):
    """Not an audio format we know (a text file renamed .mp3, an image)."""

    kind = "unsupported"


class DecodeFailed(FileError):
    """Looks like audio but the decoder failed (truncated, corrupt stream)."""

    kind = "decode_failed"


class TooShort(FileError):
    """Decodes, but too little audio for what was asked."""

    kind = "too_short"


ERROR_KINDS = {c.kind: c for c in (UnreadableFile, UnsupportedFile, DecodeFailed, TooShort)}


def reason_of(exc: BaseException) -> str:
    """A one-line reason for any exception (for logs and the failures table)."""
    if isinstance(exc, FileError):
        return exc.reason
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, FileNotFoundError):
        return "file not found"
    if isinstance(exc, IsADirectoryError):
        return "is a folder, not a file"
    text = " ".join(str(exc).split()) or exc.__class__.__name__
    return text if len(text) <= 200 else text[:197] + "..."
