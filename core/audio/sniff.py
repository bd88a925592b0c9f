"""What a file is, from its content: the audio format its first bytes announce, or a few words
for content that is not audio.

One set of format names: the ``format`` the tag reader (:mod:`core.audio.tags`) stores in the
catalog, and the name in the decoder's message for a damaged file: ``mp3 aac flac ogg``
(Vorbis) ``opus oggflac speex m4a wav aiff wma``, and ``rf64`` and ``mka``, which only the
decoder reads.  The extension plays no part: a FLAC file named ``.mp3`` is ``flac``.
"""
from __future__ import annotations

import os
from typing import BinaryIO

#: Bytes of a file's start that :func:`sniff` looks at (an Ogg stream names its codec there).
HEAD_BYTES = 512

_ASF_GUID = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")


def read_at(f: BinaryIO, offset: int, n: int) -> bytes:
    """Up to ``n`` bytes of the open file ``f`` from ``offset``."""
    f.seek(offset)
    return f.read(n)


def id3_size(head: bytes) -> int:
    """Total bytes of an ID3v2 tag at the start of ``head`` (0 when there is none, or its size
    field is not valid)."""
    if len(head) < 10 or head[:3] != b"ID3":
        return 0
    b = head[6:10]
    if any(x & 0x80 for x in b):
        return 0
    size = (b[0] << 21) | (b[1] << 14) | (b[2] << 7) | b[3]
    return 10 + size + (10 if head[5] & 0x10 else 0)


def _is_adts(b: bytes) -> bool:
    """An AAC ADTS frame header (MPEG sync word, layer bits 00)."""
    return len(b) >= 2 and b[0] == 0xFF and (b[1] & 0xF6) == 0xF0


def sniff(head: bytes, f: BinaryIO | None = None) -> str | None:
    """The audio format ``head`` (the file's first bytes, at least :data:`HEAD_BYTES` of them
    when the file has that many) announces, one of the names above, or None.  ``f``, the open
    file, lets it look past a leading ID3v2 tag longer than ``head``."""
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        first = head[:HEAD_BYTES]
        if b"OpusHead" in first:
            return "opus"
        if b"\x01vorbis" in first:
            return "ogg"
        if b"\x7fFLAC" in first:
            return "oggflac"
        if b"Speex   " in first:
            return "speex"
        return "ogg"
    if head[8:12] == b"WAVE":
        if head[:4] == b"RIFF":
            return "wav"
        if head[:4] == b"RF64":
            return "rf64"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "aiff"
    if head[4:8] == b"ftyp":
        return "m4a"
    if head[:16] == _ASF_GUID:
        return "wma"
    if head[:4] == b"ADIF":
        return "aac"
    if head[:4] == b"\x1aE\xdf\xa3":
        return "mka"
    if head[:3] == b"ID3":  # a tag, then the audio it belongs to (MPEG unless it says otherwise)
        offset = id3_size(head)
        after = head[offset:offset + 4] if offset else b""
        if offset and len(after) < 4 and f is not None:
            after = read_at(f, offset, 4)
        if after[:4] == b"fLaC":
            return "flac"
        if _is_adts(after):
            return "aac"
        return "mp3"
    if len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0:
        return "aac" if (head[1] & 0x06) == 0 else "mp3"
    return None


def sniff_file(path: str | os.PathLike) -> str | None:
    """:func:`sniff` of the file at ``path`` (None when it cannot be read)."""
    try:
        with open(path, "rb") as f:
            return sniff(f.read(HEAD_BYTES), f)
    except OSError:
        return None


def describe_non_audio(head: bytes) -> str:
    """A few words for content that is not audio (for the failure reason)."""
    kinds = [
        (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
        (b"%PDF", "a PDF document"), (b"PK\x03\x04", "a ZIP archive"), (b"\x7fELF", "a program"),
        (b"RIFF", "a RIFF file that is not WAVE audio"), (b"\x1f\x8b", "a gzip archive"),
    ]
    for magic, what in kinds:
        if head.startswith(magic):
            return what
    sample = head[:4096]
    if sample and not sample.strip(b"\x00"):
        return "only zero bytes"
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and sum(c.isprintable() or c in "\r\n\t" for c in text) >= 0.95 * len(text):
        if text.lstrip().startswith("<"):
            return "an HTML/XML text file"
        return "a text file"
    return "data of an unknown kind"
