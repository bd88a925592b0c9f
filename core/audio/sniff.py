"""What a file is, from its content: the audio format its first bytes announce, or a few words
for content that is not audio.

One set of format names: the ``format`` the tag reader (:mod:`core.audio.tags`) stores in the
catalog, and the name in the decoder's message for a damaged file: ``mp3 aac flac ogg``
(Vorbis) ``opus oggflac speex m4a wav aiff wma``, and ``rf64`` and ``mka``, which only the
decoder reads.  The extension plays no part: a FLAC file named ``.mp3`` is ``flac``.

MPEG audio has no magic: it is ``mp3`` after an ID3v2 tag, or when frames follow each other from
the first byte (:func:`mpeg_stream_at`); :func:`find_mpeg_stream` finds such a stream after junk.
"""
from __future__ import annotations

import os
import re
from typing import BinaryIO

from core.audio.files import open_readable
from core.errors import FileError

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


# --- MPEG audio frames ----------------------------------------------------------------------
#
# A frame header is 4 bytes: 11 sync bits, version, layer, bit rate, sample rate, padding,
# channel mode, emphasis.  Two bytes ``FF Ex`` occur in any binary file, and by chance a few
# headers can even chain (a program's tables repeat every 16 bytes); as decoders do, a stream is
# recognised only by several frames in a row whose headers agree (version, layer, sample rate,
# mono or not), each starting where the one before it ends, and whose first bytes are valid for
# their layer (Layer I bit allocations, Layer III side information).

#: frames in a row that make a stream (mpg123 and FFmpeg's probe want about as many)
MPEG_FRAMES = 4
#: how far into a file (bytes) a stream may start after junk, as far as mutagen looks
MPEG_SEARCH = 1 << 20
#: longest frame there is (MPEG-2.5 Layer II, 160 kbit/s at 8 kHz, padded)
_MAX_FRAME = 2881

_BITRATES = {  # kbit/s by bit-rate index 1..14, per (MPEG-1 or not, layer)
    (True, 1): (32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}  # by version bits
#: where a first frame carries an encoder's Xing/Info or VBRI header (these make a stream alone)
_XING_AT = {(True, False): 36, (True, True): 21, (False, False): 21, (False, True): 13}


def mpeg_frame(b: bytes, i: int = 0) -> tuple[tuple, int] | None:
    """``(what must stay the same in the next frames, frame length in bytes)`` of a valid MPEG
    audio frame at ``b[i]``, or None: a reserved version, layer, rate or emphasis, a bad or
    free-format bit rate, or a frame start no decoder would take (Layer I bit allocations,
    Layer III side information)."""
    if i + 4 > len(b) or b[i] != 0xFF or b[i + 1] & 0xE0 != 0xE0:
        return None
    version, layer_bits = (b[i + 1] >> 3) & 3, (b[i + 1] >> 1) & 3
    rate_index, bitrate_index = (b[i + 2] >> 2) & 3, b[i + 2] >> 4
    if version == 1 or layer_bits == 0 or rate_index == 3 or bitrate_index in (0, 15) or b[i + 3] & 3 == 2:
        return None
    layer, mpeg1 = 4 - layer_bits, version == 3
    kbits = _BITRATES[(mpeg1, min(layer, 2) if not mpeg1 else layer)][bitrate_index - 1]
    rate = _RATES[version][rate_index]
    padding = (b[i + 2] >> 1) & 1
    if layer == 1:
        length = (12 * kbits * 1000 // rate + padding) * 4
    else:
        length = (144 if layer == 2 or mpeg1 else 72) * kbits * 1000 // rate + padding
    mono = b[i + 3] >> 6 == 3
    body = i + 4 + (0 if b[i + 1] & 1 else 2)  # after the header and its CRC, if it has one
    if layer == 1 and not _layer1_allocation_ok(b[body:body + 16]):
        return None
    if layer == 3 and not _layer3_side_info_ok(b[body:body + 32], mpeg1, mono):
        return None
    return (version, layer, rate_index, mono), length


def _layer1_allocation_ok(b: bytes) -> bool:
    """Layer I: the first 32 bit-allocation fields (4 bits each) of a frame; 15 is forbidden."""
    return all(x >> 4 != 15 and x & 15 != 15 for x in b)


def _layer3_side_info_ok(b: bytes, mpeg1: bool, mono: bool) -> bool:
    """Layer III: each granule and channel's side information must be decodable: at most 288
    ``big_values`` (pairs of a 576-line granule), and no block type 0 with window switching.
    (Data cut short here is let through: the frame chain decides.)"""
    bits = int.from_bytes(b, "big")
    total = 8 * len(b)

    def field(at: int, n: int) -> int:
        return (bits >> (total - at - n)) & ((1 << n) - 1)

    channels = 1 if mono else 2
    compress = 4 if mpeg1 else 9  # scalefac_compress bits
    # main_data_begin, private bits, scfsi; then per granule and channel: part2_3_length (12),
    # big_values (9), global_gain (8), scalefac_compress, window_switching_flag (1), ...
    pos = (9 + (5 if mono else 3) + 4 * channels) if mpeg1 else (8 + (1 if mono else 2))
    for _ in range(2 if mpeg1 else 1):
        for _ in range(channels):
            if pos + 32 > total:
                return True
            big_values = field(pos + 12, 9)
            switching = field(pos + 29 + compress, 1)
            block_type = field(pos + 30 + compress, 2)
            if big_values > 288 or (switching and block_type == 0):
                return False
            pos += 29 + compress + 1 + 22 + (3 if mpeg1 else 2)
    return True


def _has_vbr_header(b: bytes, i: int, key: tuple) -> bool:
    version, layer, _, mono = key
    if layer != 3:
        return False
    at = i + _XING_AT[(version == 3, mono)]
    return b[at:at + 4] in (b"Xing", b"Info") or b[i + 36:i + 40] == b"VBRI"


def _trailer(b: bytes) -> bool:
    """Tags that may follow the last frame (ID3v1, APE, Lyrics3)."""
    return b[:3] == b"TAG" or b[:8] == b"APETAGEX" or b[:6] == b"LYRICS"


def mpeg_stream_at(b: bytes, i: int, *, complete: bool) -> bool:
    """Does an MPEG audio stream start at ``b[i]``: ``MPEG_FRAMES`` frames in a row whose headers
    agree, or a first frame with a Xing/Info/VBRI header, or (a very short file) frames in a row
    up to where the file or its end tags begin?  ``complete``: ``b`` is the whole rest of the
    file; otherwise a chain that runs past the end of ``b`` counts as one that goes on."""
    first = mpeg_frame(b, i)
    if first is None:
        return False
    key, length = first
    if _has_vbr_header(b, i, key):
        return True
    n = 1
    j = i + length
    while n < MPEG_FRAMES:
        if j + 4 > len(b):  # the data ends: a whole stream, or one cut inside its last frame
            return not complete or j == len(b) or (n >= 2 and j > len(b))
        nxt = mpeg_frame(b, j)
        if nxt is None or nxt[0] != key:
            return complete and _trailer(b[j:])
        n += 1
        j += nxt[1]
    return True


_SYNC = re.compile(rb"\xff[\xe0-\xff]")


def find_mpeg_stream(f: BinaryIO, start: int = 0, limit: int = MPEG_SEARCH) -> int | None:
    """Offset of the first MPEG Layer III stream (:func:`mpeg_stream_at`) starting in the
    ``limit`` bytes of the open file ``f`` from ``start``, or None.

    Layer III only: its side information can be checked, while Layer I and II headers with
    plausible bit allocations chain by the dozen in a program's machine code (``FF FF`` is a
    Layer I frame sync).  A Layer I or II stream is recognised where it starts the file or
    follows an ID3 tag (:func:`sniff`), not after junk."""
    want = limit + MPEG_FRAMES * _MAX_FRAME
    b = read_at(f, start, want)
    complete = len(b) < want
    for m in _SYNC.finditer(b, 0, min(len(b), limit)):
        i = m.start()
        frame = mpeg_frame(b, i)
        if frame is not None and frame[0][1] == 3 and mpeg_stream_at(b, i, complete=complete):
            return start + i
    return None


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
        if (head[1] & 0x06) == 0:
            return "aac"
        more = head
        if f is not None and len(head) < MPEG_FRAMES * _MAX_FRAME:
            more = read_at(f, 0, MPEG_FRAMES * _MAX_FRAME)
        complete = f is not None and len(more) < MPEG_FRAMES * _MAX_FRAME
        return "mp3" if mpeg_stream_at(more, 0, complete=complete) else None
    return None


def sniff_file(path: str | os.PathLike) -> str | None:
    """:func:`sniff` of the file at ``path`` (None when it cannot be read)."""
    try:
        with open_readable(path) as f:
            return sniff(f.read(HEAD_BYTES), f)
    except (OSError, FileError):
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
