"""Is an audio file cut short?  Cheap checks from the container's own sizes, without decoding.

    check(f, size=size, fmt=fmt, info=mutagen_info, path=path)  # raises DecodeFailed when cut

``fmt`` is a :mod:`core.audio.sniff` format name.  WAV and AIFF: every chunk fits in the file;
MP4 and ASF: every top-level box or object; Ogg: the last page is whole; MP3: the stream is as
long as its Xing/Info header says; FLAC: the last audio frame is near the sample count that
STREAMINFO announces.  A check that trips over an odd file accepts it (it cannot tell).
"""
from __future__ import annotations

import struct
from typing import Any, BinaryIO

from core.audio.sniff import id3_size, read_at
from core.errors import DecodeFailed


class _Cut(Exception):
    """The container's sizes say the file is cut short or malformed (the message says how)."""


def check(f: BinaryIO, *, size: int, fmt: str, info: Any, path: str) -> None:
    """Raise :class:`~core.errors.DecodeFailed` when the open file ``f`` (``size`` bytes, format
    ``fmt``, mutagen's stream ``info``) is cut short; an I/O error propagates."""
    try:
        if fmt in ("wav", "aiff", "m4a", "wma"):
            _check_chunks(f, size, fmt)
        elif fmt in ("ogg", "opus", "oggflac", "speex"):
            _check_ogg_end(f, size)
        elif fmt == "mp3":
            _check_mp3_end(f, size, info)
        elif fmt == "flac":
            _check_flac_end(f, size, info)
    except _Cut as exc:
        raise DecodeFailed(path, str(exc)) from None
    except OSError:
        raise
    except Exception:  # the check itself tripped on an odd file: it cannot tell, accept
        pass


def _check_chunks(f: BinaryIO, size: int, fmt: str) -> None:
    """WAV/AIFF: every chunk must fit in the file; MP4 and ASF: every top-level box/object."""
    if fmt in ("wav", "aiff"):
        endian = "<" if fmt == "wav" else ">"
        pos, end = 12, size
        while pos + 8 <= end:
            hdr = read_at(f, pos, 8)
            if len(hdr) < 8:
                break
            cid, clen = hdr[:4], struct.unpack(endian + "I", hdr[4:])[0]
            if cid in (b"data", b"SSND") and pos + 8 + clen > size:
                raise _Cut(f"truncated: the audio data stops at {100 * (size - pos - 8) // max(clen, 1)}% of its declared length")
            pos += 8 + clen + (clen & 1)
    elif fmt == "m4a":
        pos = 0
        while pos + 8 <= size:
            hdr = read_at(f, pos, 16)
            blen = struct.unpack(">I", hdr[:4])[0]
            if blen == 1 and len(hdr) >= 16:
                blen = struct.unpack(">Q", hdr[8:16])[0]
            elif blen == 0:
                break
            if blen < 8:
                raise _Cut(f"malformed MP4 box at byte {pos}")
            if pos + blen > size:
                raise _Cut(f"truncated: the '{hdr[4:8].decode('latin-1')}' box ends {pos + blen - size} bytes after the end of the file")
            pos += blen
    elif fmt == "wma":
        pos = 0
        while pos + 24 <= size:
            hdr = read_at(f, pos, 24)
            olen = struct.unpack("<Q", hdr[16:24])[0]
            if olen < 24:
                break
            if pos + olen > size:
                raise _Cut(f"truncated: an ASF object ends {pos + olen - size} bytes after the end of the file")
            pos += olen


def _check_ogg_end(f: BinaryIO, size: int) -> None:
    tail = read_at(f, max(0, size - 65536), 65536)
    i = tail.rfind(b"OggS")
    if i < 0 or len(tail) < i + 27:
        raise _Cut("truncated: no complete Ogg page at the end of the file")
    nseg = tail[i + 26]
    seg = tail[i + 27:i + 27 + nseg]
    if len(seg) < nseg or i + 27 + nseg + sum(seg) > len(tail):
        raise _Cut("truncated: the last Ogg page is cut short")
    # A last page that is whole but lacks the end-of-stream flag is a recorded stream that was
    # stopped between pages: every page there plays, so it is accepted.


def _check_mp3_end(f: BinaryIO, size: int, info: Any) -> None:
    try:
        from mutagen.mp3._util import XingHeader, XingHeaderError
    except ImportError:  # pragma: no cover - mutagen internals moved
        return
    frame_offset = getattr(info, "frame_offset", None)
    if frame_offset is None:
        return
    try:
        f.seek(frame_offset + XingHeader.get_offset(info))
        xing = XingHeader(f)
    except (XingHeaderError, Exception):
        return
    if xing.bytes > 0 and frame_offset + xing.bytes > size + 128:
        have = max(0, size - frame_offset)
        raise _Cut(f"truncated: {100 * have // xing.bytes}% of the MP3 stream's declared {xing.bytes} bytes are there")


_FLAC_BS = {1: 192, 2: 576, 3: 1152, 4: 2304, 5: 4608, 8: 256, 9: 512, 10: 1024, 11: 2048,
            12: 4096, 13: 8192, 14: 16384, 15: 32768}


def _crc8(data: bytes) -> int:
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def _flac_frame_at(buf: bytes, i: int, blocksize_fixed: int | None):
    """(first sample, block size) of a FLAC frame header at buf[i], or None if not a valid one."""
    if i + 6 > len(buf) or buf[i] != 0xFF or buf[i + 1] not in (0xF8, 0xF9):
        return None
    variable = buf[i + 1] & 1
    bs_code, sr_code = buf[i + 2] >> 4, buf[i + 2] & 0x0F
    if bs_code == 0 or sr_code == 15 or (buf[i + 3] >> 4) > 10 or buf[i + 3] & 1:
        return None
    j = i + 4
    first = buf[j]
    n = 0
    mask = 0x80
    while first & mask and n < 7:
        n += 1
        mask >>= 1
    if n == 1 or n > 7:
        return None
    value = first & (0x7F >> n) if n else first
    for k in range(1, n):
        if j + k >= len(buf) or buf[j + k] & 0xC0 != 0x80:
            return None
        value = (value << 6) | (buf[j + k] & 0x3F)
    j += max(n, 1)
    if bs_code == 6:
        block = buf[j] + 1 if j < len(buf) else None
        j += 1
    elif bs_code == 7:
        block = int.from_bytes(buf[j:j + 2], "big") + 1 if j + 2 <= len(buf) else None
        j += 2
    else:
        block = _FLAC_BS.get(bs_code)
    j += {12: 1, 13: 2, 14: 2}.get(sr_code, 0)
    if block is None or j >= len(buf) or _crc8(buf[i:j]) != buf[j]:
        return None
    start = value if variable else value * (blocksize_fixed or block)
    return start, block


def _check_flac_end(f: BinaryIO, size: int, info: Any) -> None:
    total = getattr(info, "total_samples", 0) or 0
    if not total:
        return
    # where do the audio frames start?  (after an optional ID3v2 tag, "fLaC" and the metadata)
    pos = id3_size(read_at(f, 0, 10)) + 4
    while True:
        hdr = read_at(f, pos, 4)
        if len(hdr) < 4:
            raise _Cut("truncated: the file ends inside its FLAC metadata")
        pos += 4 + int.from_bytes(hdr[1:4], "big")
        if hdr[0] & 0x80:
            break
    if pos >= size:
        raise _Cut("truncated: the file ends before its first FLAC audio frame")
    tail_start = max(pos, size - 65536)
    tail = read_at(f, tail_start, size - tail_start)
    # fixed-blocksize streams number their frames; the nominal block size turns that into samples
    lo, hi = getattr(info, "min_blocksize", 0), getattr(info, "max_blocksize", 0)
    fixed = hi if lo and lo == hi else None
    i = len(tail)
    while True:
        i = tail.rfind(b"\xff", 0, i)
        if i < 0:
            if tail_start == pos:  # we looked at all the audio there is
                raise _Cut("truncated: no complete FLAC audio frame")
            return  # no frame header found in the last 64 KiB: cannot tell
        found = _flac_frame_at(tail, i, fixed)
        if found:
            start, block = found
            if start + block < total - block:
                raise _Cut(f"truncated: the FLAC stream stops at {100 * (start + block) // total}% of its declared length")
            return
