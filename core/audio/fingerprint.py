"""A fast content fingerprint: what identifies a file's bytes wherever the file lives.

Decision: ``blake2b-128`` over the file size (8 bytes, little endian) followed by the first,
middle and last 64 KiB of the file (the whole file when it is at most 192 KiB).  That is three
reads per file whatever its length, so a library of 50,000 tracks is fingerprinted at disk
speed, not hashing speed.

What it survives: a rename or a move (to another folder, another disk) -- the bytes are the same,
so the scanner recognises the file and keeps its catalog row, its id and its like.  What it does
not survive: editing the tags (the bytes change; the scanner sees the same path with a new size
or mtime, re-reads it and updates the fingerprint in place, so the row and its like stay), or a
rename *and* a tag edit between two scans (then the file is new; a like of the old row can still
be re-attached by artist + title + duration, see core/catalog/).  Two files whose sampled
bytes agree but differ elsewhere (same size, same head, middle and tail) would collide; for audio
files that differ only in a few bytes in between that is possible but harmless: the scanner only
uses the fingerprint to pair a *vanished* row with a *new* path, and both would be the same song.

``fingerprint_bytes`` lets the scanner hash the head it has already read for sniffing, so a
small file is read exactly once.
"""
from __future__ import annotations

import hashlib
import os
from typing import BinaryIO

from core.audio.files import open_readable

CHUNK = 64 * 1024
VERSION = 1  # change when the recipe changes (a catalog migration must then re-fingerprint)


def fingerprint_file(f: BinaryIO, size: int, head: bytes | None = None) -> str:
    """Fingerprint of the open binary file ``f`` of ``size`` bytes.  ``head`` may be its first
    bytes already read (at least ``min(size, CHUNK)`` of them, or the whole file)."""
    h = hashlib.blake2b(digest_size=16)
    h.update(size.to_bytes(8, "little"))
    if size <= 3 * CHUNK:
        if head is None or len(head) < size:
            f.seek(0)
            head = f.read(size)
        h.update(head[:size])
        return h.hexdigest()
    if head is None or len(head) < CHUNK:
        f.seek(0)
        head = f.read(CHUNK)
    h.update(head[:CHUNK])
    f.seek(size // 2 - CHUNK // 2)
    h.update(f.read(CHUNK))
    f.seek(size - CHUNK)
    h.update(f.read(CHUNK))
    return h.hexdigest()


def fingerprint(path: str | os.PathLike) -> str:
    """Fingerprint of the file at ``path``; :class:`~core.errors.UnreadableFile` for a special file
    (a FIFO, a device: :func:`core.audio.files.open_readable`)."""
    with open_readable(path) as f:
        return fingerprint_file(f, os.fstat(f.fileno()).st_size)
