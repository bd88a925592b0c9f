"""Read an audio file's tags and stream information with mutagen, into one normalised dict.

    info = read(fileobj, path=path, size=size, head=first_bytes)
    info["format"], info["codec"], info["duration"], info["title"], ...

The container is recognised from the file's *content* (magic bytes), not its extension, so a FLAC
file named ``.mp3`` is read as FLAC; only when the content is not recognised does mutagen's own
guess (which weighs the extension) get a try.  Files that are not audio, empty, truncated or
whose parser fails raise a :mod:`core.errors` ``FileError`` with a one-line reason; anything
mutagen raises is turned into one (never a crash).

Keys of the returned dict (None when unknown): ``format`` (mp3 flac ogg opus m4a wav aiff wma
aac ...), ``codec``, ``duration`` (s), ``sample_rate`` (Hz), ``channels``, ``bitrate`` (bit/s),
``bits_per_sample``, ``title``, ``artist``, ``album``, ``album_artist``, ``track_no``,
``track_total``, ``disc_no``, ``disc_total``, ``year``, ``genre_tag``.
"""
from __future__ import annotations

import io
import os
import re
import struct
from typing import Any, BinaryIO

from core.errors import DecodeFailed, UnreadableFile, UnsupportedFile

TAG_KEYS = ("title", "artist", "album", "album_artist", "track_no", "track_total", "disc_no",
            "disc_total", "year", "genre_tag")
INFO_KEYS = ("format", "codec", "duration", "sample_rate", "channels", "bitrate", "bits_per_sample")
MAX_TEXT = 1000  # characters kept of any text tag (a giant frame must not bloat the catalog)

_ASF_GUID = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")


# --------------------------------------------------------------------------------------------
# content sniffing
# --------------------------------------------------------------------------------------------

def _id3_size(head: bytes) -> int:
    """Total bytes of an ID3v2 tag at the start of ``head`` (0 when there is none)."""
    if len(head) < 10 or head[:3] != b"ID3":
        return 0
    b = head[6:10]
    if any(x & 0x80 for x in b):
        return 0
    size = (b[0] << 21) | (b[1] << 14) | (b[2] << 7) | b[3]
    return 10 + size + (10 if head[5] & 0x10 else 0)


def sniff(head: bytes, read_at=None) -> str | None:
    """The container in ``head`` (the file's first bytes): one of mp3 aac flac ogg opus oggflac
    speex m4a wav aiff wma, or None when not recognised.  ``read_at(offset, n)`` lets it look
    past a leading ID3v2 tag."""
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        first = head[:512]
        if b"OpusHead" in first:
            return "opus"
        if b"\x01vorbis" in first:
            return "ogg"
        if b"\x7fFLAC" in first:
            return "oggflac"
        if b"Speex   " in first:
            return "speex"
        return "ogg"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "aiff"
    if head[4:8] == b"ftyp":
        return "m4a"
    if head[:16] == _ASF_GUID:
        return "wma"
    if head[:4] == b"ADIF":
        return "aac"
    offset = _id3_size(head)
    if offset:
        after = head[offset:offset + 4]
        if len(after) < 4 and read_at is not None:
            after = read_at(offset, 4)
        if after[:4] == b"fLaC":
            return "flac"
        if len(after) >= 2 and after[0] == 0xFF and (after[1] & 0xF6) == 0xF0:
            return "aac"
        return "mp3"
    if len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0:
        return "aac" if (head[1] & 0x06) == 0 else "mp3"
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


# --------------------------------------------------------------------------------------------
# integrity checks (cheap, from the container's own sizes): is the file cut short?
# --------------------------------------------------------------------------------------------

def _read_at(f: BinaryIO, offset: int, n: int) -> bytes:
    f.seek(offset)
    return f.read(n)


def _check_chunks(f: BinaryIO, size: int, fmt: str) -> None:
    """WAV/AIFF: every chunk must fit in the file; MP4 and ASF: every top-level box/object."""
    if fmt in ("wav", "aiff"):
        endian = "<" if fmt == "wav" else ">"
        pos, end = 12, size
        while pos + 8 <= end:
            hdr = _read_at(f, pos, 8)
            if len(hdr) < 8:
                break
            cid, clen = hdr[:4], struct.unpack(endian + "I", hdr[4:])[0]
            if cid in (b"data", b"SSND") and pos + 8 + clen > size:
                raise DecodeFailed("", f"truncated: the audio data stops at {100 * (size - pos - 8) // max(clen, 1)}% of its declared length")
            pos += 8 + clen + (clen & 1)
    elif fmt == "m4a":
        pos = 0
        while pos + 8 <= size:
            hdr = _read_at(f, pos, 16)
            blen = struct.unpack(">I", hdr[:4])[0]
            if blen == 1 and len(hdr) >= 16:
                blen = struct.unpack(">Q", hdr[8:16])[0]
            elif blen == 0:
                break
            if blen < 8:
                raise DecodeFailed("", f"malformed MP4 box at byte {pos}")
            if pos + blen > size:
                raise DecodeFailed("", f"truncated: the '{hdr[4:8].decode('latin-1')}' box ends {pos + blen - size} bytes after the end of the file")
            pos += blen
    elif fmt == "wma":
        pos = 0
        while pos + 24 <= size:
            hdr = _read_at(f, pos, 24)
            olen = struct.unpack("<Q", hdr[16:24])[0]
            if olen < 24:
                break
            if pos + olen > size:
                raise DecodeFailed("", f"truncated: an ASF object ends {pos + olen - size} bytes after the end of the file")
            pos += olen


def _check_ogg_end(f: BinaryIO, size: int) -> None:
    tail = _read_at(f, max(0, size - 65536), 65536)
    i = tail.rfind(b"OggS")
    if i < 0 or len(tail) < i + 27:
        raise DecodeFailed("", "truncated: no complete Ogg page at the end of the file")
    nseg = tail[i + 26]
    seg = tail[i + 27:i + 27 + nseg]
    if len(seg) < nseg or i + 27 + nseg + sum(seg) > len(tail):
        raise DecodeFailed("", "truncated: the last Ogg page is cut short")
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
        raise DecodeFailed("", f"truncated: {100 * have // xing.bytes}% of the MP3 stream's declared {xing.bytes} bytes are there")


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
    pos = _id3_size(_read_at(f, 0, 10)) + 4
    while True:
        hdr = _read_at(f, pos, 4)
        if len(hdr) < 4:
            raise DecodeFailed("", "truncated: the file ends inside its FLAC metadata")
        pos += 4 + int.from_bytes(hdr[1:4], "big")
        if hdr[0] & 0x80:
            break
    if pos >= size:
        raise DecodeFailed("", "truncated: the file ends before its first FLAC audio frame")
    tail_start = max(pos, size - 65536)
    tail = _read_at(f, tail_start, size - tail_start)
    # fixed-blocksize streams number their frames; the nominal block size turns that into samples
    lo, hi = getattr(info, "min_blocksize", 0), getattr(info, "max_blocksize", 0)
    fixed = hi if lo and lo == hi else None
    i = len(tail)
    while True:
        i = tail.rfind(b"\xff", 0, i)
        if i < 0:
            if tail_start == pos:  # we looked at all the audio there is
                raise DecodeFailed("", "truncated: no complete FLAC audio frame")
            return  # no frame header found in the last 64 KiB: cannot tell
        found = _flac_frame_at(tail, i, fixed)
        if found:
            start, block = found
            if start + block < total - block:
                raise DecodeFailed("", f"truncated: the FLAC stream stops at {100 * (start + block) // total}% of its declared length")
            return


# --------------------------------------------------------------------------------------------
# tag normalisation
# --------------------------------------------------------------------------------------------

def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        for v in value:
            text = _text(v)
            if text:
                return text
        return None
    if not isinstance(value, str):
        if hasattr(value, "value") and not isinstance(value, bytes):  # ASF attribute
            value = value.value
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        value = str(value)
    text = value[: MAX_TEXT * 2]
    if "\x00" in text:
        text = text.replace("\x00", " ")
    if not text.isascii():
        text = text.encode("utf-8", "replace").decode("utf-8")  # no lone surrogates into SQLite
    text = " ".join(text.split()) if ("\n" in text or "\r" in text) else text.strip()
    if not text:
        return None
    return text[:MAX_TEXT]


_NUM = re.compile(r"\d+")


def _pair(value: Any) -> tuple[int | None, int | None]:
    """'3/12' -> (3, 12); (3, 12) -> (3, 12); '03' -> (3, None)."""
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], tuple):
        value = value[0]
    if isinstance(value, tuple) and value and all(isinstance(x, int) for x in value):
        n = value[0] or None
        t = value[1] if len(value) > 1 and value[1] else None
        return n, t
    text = _text(value)
    if not text:
        return None, None
    parts = text.split("/", 1)
    n = _NUM.search(parts[0])
    t = _NUM.search(parts[1]) if len(parts) > 1 else None
    as_int = lambda m: int(m.group()) if m and len(m.group()) < 7 else None  # noqa: E731
    return as_int(n), as_int(t)


def _year(value: Any) -> int | None:
    text = _text(value)
    if not text:
        return None
    m = re.search(r"(?<!\d)(\d{4})(?!\d)", text)
    return int(m.group(1)) if m else None


def _tags_id3(tags) -> dict:
    def t(key):
        frame = tags.get(key)
        return None if frame is None else getattr(frame, "text", None)

    out = {"title": t("TIT2"), "artist": t("TPE1"), "album": t("TALB"), "album_artist": t("TPE2"),
           "track": t("TRCK"), "disc": t("TPOS"), "year": t("TDRC") or t("TYER") or t("TDOR")}
    tcon = tags.get("TCON")
    if tcon is not None:
        try:
            out["genre"] = tcon.genres
        except Exception:
            out["genre"] = getattr(tcon, "text", None)
    return out


def _tags_vorbis(tags) -> dict:
    def g(*keys):
        for k in keys:
            try:
                v = tags.get(k)
            except Exception:
                v = None
            if v:
                return v
        return None

    track, disc = g("tracknumber"), g("discnumber")
    out = {"title": g("title"), "artist": g("artist"), "album": g("album"),
           "album_artist": g("albumartist", "album artist", "album_artist"),
           "track": track, "disc": disc, "year": g("date", "year", "originaldate"), "genre": g("genre")}
    if track and "/" not in str(_text(track)) and g("tracktotal", "totaltracks"):
        out["track"] = f"{_text(track)}/{_text(g('tracktotal', 'totaltracks'))}"
    if disc and "/" not in str(_text(disc)) and g("disctotal", "totaldiscs"):
        out["disc"] = f"{_text(disc)}/{_text(g('disctotal', 'totaldiscs'))}"
    return out


def _tags_mp4(tags) -> dict:
    out = {"title": tags.get("\xa9nam"), "artist": tags.get("\xa9ART"), "album": tags.get("\xa9alb"),
           "album_artist": tags.get("aART"), "track": tags.get("trkn"), "disc": tags.get("disk"),
           "year": tags.get("\xa9day"), "genre": tags.get("\xa9gen")}
    if not out["genre"] and tags.get("gnre"):
        try:
            from mutagen.id3 import TCON

            out["genre"] = TCON(text=[f"({tags['gnre'][0] - 1})"]).genres
        except Exception:
            pass
    return out


def _tags_asf(tags) -> dict:
    g = lambda k: tags.get(k)  # noqa: E731
    return {"title": g("Title"), "artist": g("Author"), "album": g("WM/AlbumTitle"),
            "album_artist": g("WM/AlbumArtist"), "track": g("WM/TrackNumber") or g("WM/Track"),
            "disc": g("WM/PartOfSet"), "year": g("WM/Year") or g("WM/OriginalReleaseYear") or g("date"),
            "genre": g("WM/Genre")}


def _riff_info(f: BinaryIO, size: int) -> dict:
    """WAV files written by many tools carry their tags in a RIFF LIST/INFO chunk (mutagen reads
    only ID3 there)."""
    out: dict = {}
    pos = 12
    while pos + 8 <= size:
        hdr = _read_at(f, pos, 12)
        if len(hdr) < 8:
            break
        cid, clen = hdr[:4], struct.unpack("<I", hdr[4:8])[0]
        if cid == b"LIST" and hdr[8:12] == b"INFO" and clen < 1 << 20:
            body = _read_at(f, pos + 12, clen - 4)
            i = 0
            keys = {b"INAM": "title", b"IART": "artist", b"IPRD": "album", b"ICRD": "year",
                    b"IGNR": "genre", b"ITRK": "track", b"IPRT": "track"}
            while i + 8 <= len(body):
                sid, slen = body[i:i + 4], struct.unpack("<I", body[i + 4:i + 8])[0]
                if sid in keys:
                    out[keys[sid]] = body[i + 8:i + 8 + slen].split(b"\x00")[0].decode("utf-8", "replace")
                i += 8 + slen + (slen & 1)
            break
        pos += 8 + clen + (clen & 1)
    return out


def _normalise(raw: dict) -> dict:
    track_no, track_total = _pair(raw.get("track"))
    disc_no, disc_total = _pair(raw.get("disc"))
    return {
        "title": _text(raw.get("title")), "artist": _text(raw.get("artist")),
        "album": _text(raw.get("album")), "album_artist": _text(raw.get("album_artist")),
        "track_no": track_no, "track_total": track_total, "disc_no": disc_no, "disc_total": disc_total,
        "year": _year(raw.get("year")), "genre_tag": _text(raw.get("genre")),
    }


# --------------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------------

def _loader(fmt: str):
    if fmt == "mp3":
        from mutagen.mp3 import MP3 as cls
    elif fmt == "flac":
        from mutagen.flac import FLAC as cls
    elif fmt == "ogg":
        from mutagen.oggvorbis import OggVorbis as cls
    elif fmt == "opus":
        from mutagen.oggopus import OggOpus as cls
    elif fmt == "oggflac":
        from mutagen.oggflac import OggFLAC as cls
    elif fmt == "speex":
        from mutagen.oggspeex import OggSpeex as cls
    elif fmt == "m4a":
        from mutagen.mp4 import MP4 as cls
    elif fmt == "wav":
        from mutagen.wave import WAVE as cls
    elif fmt == "aiff":
        from mutagen.aiff import AIFF as cls
    elif fmt == "wma":
        from mutagen.asf import ASF as cls
    elif fmt == "aac":
        from mutagen.aac import AAC as cls
    else:
        raise ValueError(fmt)
    return cls


_FORMAT_OF_CLASS = {"MP3": "mp3", "EasyMP3": "mp3", "FLAC": "flac", "OggVorbis": "ogg", "OggOpus": "opus",
                    "OggFLAC": "oggflac", "OggSpeex": "speex", "MP4": "m4a", "EasyMP4": "m4a", "WAVE": "wav",
                    "AIFF": "aiff", "ASF": "wma", "AAC": "aac", "MonkeysAudio": "ape", "WavPack": "wv",
                    "Musepack": "mpc", "TrueAudio": "tta", "OptimFROG": "ofr", "DSF": "dsf", "DSDIFF": "dff",
                    "SMF": "mid", "OggTheora": "ogv", "AC3": "ac3", "TAK": "tak"}


def _codec(fmt: str, info: Any) -> str | None:
    if fmt == "mp3":
        return {1: "mp1", 2: "mp2", 3: "mp3"}.get(getattr(info, "layer", 3), "mp3")
    if fmt == "m4a":
        codec = getattr(info, "codec", "") or ""
        if codec.startswith("mp4a"):
            return "aac"
        return codec or None
    if fmt == "wma":
        name = getattr(info, "codec_name", "") or ""
        return name or "wma"
    if fmt in ("wav", "aiff"):
        return "pcm"
    return {"ogg": "vorbis", "opus": "opus", "flac": "flac", "oggflac": "flac", "speex": "speex",
            "aac": "aac"}.get(fmt, fmt)


def _is_mutagen_error(exc: BaseException) -> bool:
    try:
        import mutagen
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exc, mutagen.MutagenError)


def read(
    f: BinaryIO, *, path: str | os.PathLike = "", size: int | None = None, head: bytes | None = None,
    check_truncation: bool = True,
) -> dict:
    """Tags and stream info of the open binary file ``f`` (``path`` is for messages only).

    Raises ``UnsupportedFile`` (not audio, empty), ``DecodeFailed`` (audio that mutagen cannot
    parse, or cut short) or ``UnreadableFile`` (I/O error while reading)."""
    path = os.fspath(path)
    try:
        if size is None:
            f.seek(0, 2)
            size = f.tell()
        if size == 0:
            raise UnsupportedFile(path, "empty file (0 bytes)")
        if head is None:
            head = _read_at(f, 0, 65536)
        fmt = sniff(head, lambda o, n: _read_at(f, o, n))
        try:
            if fmt is not None:
                f.seek(0)
                audio = _loader(fmt)(f)
            else:
                audio = _guess(f, path, head)
                fmt = _FORMAT_OF_CLASS.get(type(audio).__name__, type(audio).__name__.lower())
        except (UnsupportedFile, DecodeFailed, UnreadableFile):
            raise
        except OSError as exc:
            raise UnreadableFile(path, f"read error: {exc.strerror or exc}") from exc
        except MemoryError as exc:
            raise DecodeFailed(path, "a tag is too large to read") from exc
        except Exception as exc:  # mutagen errors and whatever its parsers let through
            bare = None
            if fmt == "mp3" and not isinstance(exc, _header_not_found()):
                bare = _mp3_without_tags(f, path, exc)
            elif fmt == "flac":
                bare = _flac_without_tags(f, head)
            if bare is not None:
                audio = bare
            else:
                what = {"mp3": "MP3", "aac": "AAC", "flac": "FLAC", "ogg": "Ogg Vorbis", "opus": "Opus",
                        "m4a": "MP4", "wav": "WAV", "aiff": "AIFF", "wma": "WMA"}.get(fmt or "", fmt or "audio")
                raise DecodeFailed(path, f"not a readable {what} file: {_why(exc)}") from exc

        info = audio.info
        if check_truncation:
            try:
                if fmt in ("wav", "aiff", "m4a", "wma"):
                    _check_chunks(f, size, fmt)
                elif fmt in ("ogg", "opus", "oggflac", "speex"):
                    _check_ogg_end(f, size)
                elif fmt == "mp3":
                    _check_mp3_end(f, size, info)
                elif fmt == "flac":
                    _check_flac_end(f, size, info)
            except DecodeFailed as exc:
                raise DecodeFailed(path, exc.reason) from None
            except OSError:
                raise
            except Exception:  # the check itself tripped on an odd file: it cannot tell, accept
                pass

        out = stream_info(fmt, info, size)
        tags = getattr(audio, "tags", None)
        raw: dict = {}
        try:
            if tags is not None:
                kind = type(tags).__name__
                if fmt in ("mp3", "wav", "aiff", "aac") or "ID3" in kind:
                    raw = _tags_id3(tags)
                elif fmt == "m4a":
                    raw = _tags_mp4(tags)
                elif fmt == "wma":
                    raw = _tags_asf(tags)
                elif hasattr(tags, "get"):
                    raw = _tags_vorbis(tags)
            if fmt == "wav" and not any(raw.get(k) for k in ("title", "artist", "album")):
                raw = {**_riff_info(f, size), **{k: v for k, v in raw.items() if v}}
            normal = _normalise(raw)
        except Exception:  # a malformed frame: keep the audio, drop the tags we could not read
            normal = _normalise({})
        out.update(normal)
        return out
    except (UnsupportedFile, DecodeFailed, UnreadableFile):
        raise
    except OSError as exc:
        raise UnreadableFile(path, f"read error: {exc.strerror or exc}") from exc


def _header_not_found():
    from mutagen.mp3 import HeaderNotFoundError

    return HeaderNotFoundError


class _Bare:
    """Stream info without tags (the tags were malformed)."""

    tags = None

    def __init__(self, info):
        self.info = info


def _flac_without_tags(f: BinaryIO, head: bytes):
    """A FLAC whose metadata (a Vorbis comment, a picture) is malformed: STREAMINFO is the first
    block and fixed-size, read it alone and keep the track, untagged."""
    from mutagen.flac import StreamInfo

    offset = _id3_size(head)
    block = _read_at(f, offset, 4 + 4 + 34)
    if block[:4] != b"fLaC" or block[4] & 0x7F != 0:
        return None
    try:
        return _Bare(StreamInfo(block[8:]))
    except Exception:
        return None


def _mp3_without_tags(f: BinaryIO, path: str, exc: BaseException):
    """An MP3 whose ID3 tag is malformed: read the stream alone and keep the track, untagged."""
    from mutagen.mp3 import MPEGInfo

    for src in (f, _Masked(f)):  # as is, then with the ID3 header hidden (its size may be bogus)
        try:
            src.seek(0)
            return _Bare(MPEGInfo(src))
        except Exception:
            continue
    raise DecodeFailed(path, f"not a readable MP3 file: {_why(exc)}") from exc


class _Masked(io.RawIOBase):
    """``f`` with its first three bytes (an ``ID3`` magic) hidden, so a parser looks for audio
    frames from the start instead of trusting a broken tag header."""

    def __init__(self, f: BinaryIO):
        self._f = f

    def readable(self):
        return True

    def seekable(self):
        return True

    def read(self, n=-1):
        pos = self._f.tell()
        data = self._f.read(n)
        if pos < 3 and data:
            k = min(3 - pos, len(data))
            data = b"\0" * k + data[k:]
        return data

    def seek(self, *a):
        return self._f.seek(*a)

    def tell(self):
        return self._f.tell()


def _guess(f: BinaryIO, path: str, head: bytes):
    """Content not recognised by ``sniff``: let mutagen weigh the extension and its scorers."""
    import mutagen

    f.seek(0)
    try:
        audio = mutagen.File(f if not path else _NamedFile(f, path))
    except Exception as exc:
        what = describe_non_audio(head)
        detail = f" ({_why(exc)})" if what == "data of an unknown kind" else ""
        raise UnsupportedFile(path, f"not audio: {what}{detail}") from exc
    if audio is None or getattr(audio, "info", None) is None:
        raise UnsupportedFile(path, f"not audio: {describe_non_audio(head)}")
    return audio


class _NamedFile(io.RawIOBase):
    """A file object with a ``name`` (mutagen's scorers look at the extension)."""

    def __init__(self, f: BinaryIO, name: str):
        self._f, self.name = f, name

    def readable(self):
        return True

    def seekable(self):
        return True

    def read(self, n=-1):
        return self._f.read(n)

    def readinto(self, b):
        data = self._f.read(len(b))
        b[: len(data)] = data
        return len(data)

    def seek(self, *a):
        return self._f.seek(*a)

    def tell(self):
        return self._f.tell()


def _why(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    inner = exc.__cause__ or exc.__context__
    if not text and inner is not None:
        text = " ".join(str(inner).split())
        if not text and isinstance(inner, (OSError, EOFError)):
            text = "unexpected end of data (a size field points past the end of the file)"
    text = text or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def stream_info(fmt: str, info: Any, size: int) -> dict:
    duration = float(getattr(info, "length", 0) or 0) or None
    bitrate = int(getattr(info, "bitrate", 0) or 0) or None
    if bitrate is None and duration:
        bitrate = int(size * 8 / duration)
    sample_rate = int(getattr(info, "sample_rate", 0) or 0) or (48000 if fmt == "opus" else None)
    return {
        "format": fmt,
        "codec": _codec(fmt, info),
        "duration": duration,
        "sample_rate": sample_rate,
        "channels": int(getattr(info, "channels", 0) or 0) or None,
        "bitrate": bitrate,
        "bits_per_sample": int(getattr(info, "bits_per_sample", 0) or 0) or None,
    }
