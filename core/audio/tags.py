"""Read an audio file's tags and stream information with mutagen, into one normalised dict.

    info = read(fileobj, path=path, size=size, head=first_bytes)
    info["format"], info["codec"], info["duration"], info["title"], ...

The container is recognised from the file's *content* (:mod:`core.audio.sniff`), not its
extension, so a FLAC file named ``.mp3`` is read as FLAC; only when the content names no format
mutagen reads here does mutagen's own guess (which weighs the extension) get a try.  Files that
are not audio, empty, truncated (:mod:`core.audio.integrity`) or whose parser fails raise a
:mod:`core.errors` ``FileError`` with a one-line reason; anything mutagen raises is turned into
one (never a crash).

Keys of the returned dict (None when unknown): ``format`` (mp3 flac ogg opus m4a wav aiff wma
aac ...), ``codec``, ``duration`` (s), ``sample_rate`` (Hz), ``channels``, ``bitrate`` (bit/s),
``bits_per_sample``, ``title``, ``artist``, ``album``, ``album_artist``, ``track_no``,
``track_total``, ``disc_no``, ``disc_total``, ``year``, ``genre_tag`` (every value of a multi-valued
genre tag, joined with "; ": see :mod:`core.genres`), and the ReplayGain values ``rg_track_gain``,
``rg_album_gain`` (dB, relative to ReplayGain's reference loudness) and ``rg_track_peak``,
``rg_album_peak`` (linear sample peak, 1.0 = full scale): from ``REPLAYGAIN_*`` comments (FLAC,
Vorbis, Opus), ID3 ``TXXX`` frames, an MP3's or AAC file's APEv2 tag (mp3gain, aacgain), MP4 ``----:com.apple.iTunes:replaygain_*`` atoms,
WMA attributes, and Opus's ``R128_*_GAIN`` (Q7.8 dB relative to -23 LUFS, 5 dB below
ReplayGain's reference).  A value that does not parse, or lies outside what any real track
needs, is left out (None).
"""
from __future__ import annotations

import importlib
import io
import os
import re
import struct
from typing import Any, BinaryIO

from core.audio import integrity
from core.audio.sniff import describe_non_audio, find_mpeg_stream, id3_size, read_at, sniff
from core.errors import DecodeFailed, UnreadableFile, UnsupportedFile
from core.genres import join_genres, split_genres

MAX_TEXT = 1000  # characters kept of any text tag (a giant frame must not bloat the catalog)
#: the ReplayGain keys of :func:`read`'s dict (and the catalog's track columns)
RG_FIELDS = ("rg_track_gain", "rg_track_peak", "rg_album_gain", "rg_album_peak")


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


#: plausible ReplayGain values; anything outside is a broken tag, ignored
RG_GAIN_RANGE = (-51.0, 51.0)
RG_PEAK_RANGE = (1e-6, 10.0)
_RG_KEYS = ("replaygain_track_gain", "replaygain_track_peak", "replaygain_album_gain", "replaygain_album_peak")
_FLOAT = re.compile(r"^\s*([+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+))\s*(?:db)?\s*$", re.IGNORECASE)


def _rg_number(value: Any, low: float, high: float) -> float | None:
    """``"-7.89 dB"`` / ``"0.988831"`` / ``b"+1.2 dB"`` -> a float within ``[low, high]``, else None."""
    text = _text(value)
    m = _FLOAT.match(text) if text else None
    if not m:
        return None
    x = float(m.group(1).replace(",", "."))
    return x if low <= x <= high else None


def _r128_gain(value: Any) -> float | None:
    """Opus's ``R128_TRACK_GAIN`` (a Q7.8 integer, dB x 256 relative to -23 LUFS) as a
    ReplayGain gain (relative to -18 LUFS: 5 dB more)."""
    text = _text(value)
    if not text or not re.fullmatch(r"[+-]?\d{1,6}", text):
        return None
    x = int(text) / 256.0 + 5.0
    return x if RG_GAIN_RANGE[0] <= x <= RG_GAIN_RANGE[1] else None


def _replaygain(tags, fmt: str | None) -> dict:
    """The four ReplayGain values of a tag block (see the module docstring); {} when it has none."""
    found: dict[str, Any] = {}
    kind = type(tags).__name__
    if "ID3" in kind:
        for frame in tags.getall("TXXX"):
            desc = str(getattr(frame, "desc", "")).lower()
            if desc in _RG_KEYS:
                found[desc] = getattr(frame, "text", None)
    elif fmt == "m4a":
        for key, value in tags.items():
            name = key.rsplit(":", 1)[-1].lower() if key.startswith("----:") else ""
            if name in _RG_KEYS:
                found[name] = value
    elif hasattr(tags, "keys"):  # Vorbis comments (FLAC, Ogg, Opus), APE, ASF: names case-insensitive
        for key in tags.keys():
            name = str(key).lower()
            if name in _RG_KEYS or name in ("r128_track_gain", "r128_album_gain"):
                try:
                    found[name] = tags[key]
                except Exception:
                    pass
    out = {}
    for scope in ("track", "album"):
        gain = _rg_number(found.get(f"replaygain_{scope}_gain"), *RG_GAIN_RANGE)
        if gain is None and fmt == "opus":
            gain = _r128_gain(found.get(f"r128_{scope}_gain"))
        out[f"rg_{scope}_gain"] = gain
        out[f"rg_{scope}_peak"] = _rg_number(found.get(f"replaygain_{scope}_peak"), *RG_PEAK_RANGE)
    return out


def _ape_replaygain(f: BinaryIO) -> dict:
    """ReplayGain from an APEv2 tag at the end of an MP3 or AAC file, where mp3gain and aacgain
    write it (mutagen's MP3 reader reads only ID3); {} when there is none."""
    try:
        from mutagen.apev2 import APEv2

        f.seek(0)
        return _replaygain(APEv2(f), "ape")
    except Exception:  # no APE tag (the usual case), or a broken one
        return {}


def riff_info_entries(f: BinaryIO, size: int) -> list[tuple[bytes, str]]:
    """Every ``(chunk id, text)`` of a WAV file's RIFF LIST/INFO chunk, in file order: many tools
    write a WAV's tags there, and mutagen reads only ID3 in WAV files."""
    out: list[tuple[bytes, str]] = []
    pos = 12
    while pos + 8 <= size:
        hdr = read_at(f, pos, 12)
        if len(hdr) < 8:
            break
        cid, clen = hdr[:4], struct.unpack("<I", hdr[4:8])[0]
        if cid == b"LIST" and hdr[8:12] == b"INFO" and clen < 1 << 20:
            body = read_at(f, pos + 12, clen - 4)
            i = 0
            while i + 8 <= len(body):
                sid, slen = body[i:i + 4], struct.unpack("<I", body[i + 4:i + 8])[0]
                out.append((sid, body[i + 8:i + 8 + slen].split(b"\x00")[0].decode("utf-8", "replace")))
                i += 8 + slen + (slen & 1)
            break
        pos += 8 + clen + (clen & 1)
    return out


#: the RIFF INFO ids the catalog keeps, and the tag each fills
_RIFF_KEYS = {b"INAM": "title", b"IART": "artist", b"IPRD": "album", b"ICRD": "year",
              b"IGNR": "genre", b"ITRK": "track", b"IPRT": "track"}


def _riff_info(f: BinaryIO, size: int) -> dict:
    return {_RIFF_KEYS[sid]: text for sid, text in riff_info_entries(f, size) if sid in _RIFF_KEYS}


def _normalise(raw: dict) -> dict:
    track_no, track_total = _pair(raw.get("track"))
    disc_no, disc_total = _pair(raw.get("disc"))
    return {
        "title": _text(raw.get("title")), "artist": _text(raw.get("artist")),
        "album": _text(raw.get("album")), "album_artist": _text(raw.get("album_artist")),
        "track_no": track_no, "track_total": track_total, "disc_no": disc_no, "disc_total": disc_total,
        "year": _year(raw.get("year")), "genre_tag": _genre_text(raw.get("genre")),
    }


def _genre_text(value: Any) -> str | None:
    """Every value of a genre tag: one text as written ("reggaeton, latin"); several values (a
    mutagen list, ID3's NUL-separated values) joined with "; " (``core.genres`` splits both)."""
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    texts = [t for t in (v if isinstance(v, str) else _text(v) for v in values) if t]
    if len(texts) == 1 and "\x00" not in texts[0]:
        return _text(texts[0])
    return _text(join_genres(split_genres(texts)))


# --------------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------------

#: format -> (module, class) of the mutagen reader for it
_LOADERS = {
    "mp3": ("mutagen.mp3", "MP3"), "flac": ("mutagen.flac", "FLAC"), "ogg": ("mutagen.oggvorbis", "OggVorbis"),
    "opus": ("mutagen.oggopus", "OggOpus"), "oggflac": ("mutagen.oggflac", "OggFLAC"),
    "speex": ("mutagen.oggspeex", "OggSpeex"), "m4a": ("mutagen.mp4", "MP4"), "wav": ("mutagen.wave", "WAVE"),
    "aiff": ("mutagen.aiff", "AIFF"), "wma": ("mutagen.asf", "ASF"), "aac": ("mutagen.aac", "AAC"),
}


def _loader(fmt: str | None):
    """The mutagen class that reads ``fmt``, or None when there is none here."""
    where = _LOADERS.get(fmt)
    return None if where is None else getattr(importlib.import_module(where[0]), where[1])


def mutagen_file(f: BinaryIO, *, path: str | os.PathLike = ""):
    """``(format, mutagen object)`` for the open binary file ``f``, the container chosen from its
    content as :func:`read` does (mutagen's own guess when the content names none).  Raises what
    mutagen raises (the caller decides what a failure means); ``UnsupportedFile`` for no audio."""
    path = os.fspath(path)
    head = read_at(f, 0, 65536)
    fmt = sniff(head, f)
    loader = _loader(fmt)
    if loader is not None:
        f.seek(0)
        return fmt, loader(f)
    audio = _guess(f, path, head)
    return _FORMAT_OF_CLASS.get(type(audio).__name__, type(audio).__name__.lower()), audio


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


def read(f: BinaryIO, *, path: str | os.PathLike = "", size: int | None = None, head: bytes | None = None) -> dict:
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
            head = read_at(f, 0, 65536)
        fmt = sniff(head, f)
        try:
            loader = _loader(fmt)
            if loader is not None:
                f.seek(0)
                audio = loader(f)
            else:  # no format recognised, or none mutagen reads here: mutagen's own guess
                audio = _guess(f, path, head)
                fmt = _FORMAT_OF_CLASS.get(type(audio).__name__, type(audio).__name__.lower())
                if fmt == "mp3" and find_mpeg_stream(f) is None:  # one frame sync by chance, no stream
                    raise UnsupportedFile(path, f"not audio: {describe_non_audio(head)}")
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
        integrity.check(f, size=size, fmt=fmt, info=info, path=path)
        out = _stream_info(fmt, info, size)
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
        out.update({k: None for k in RG_FIELDS})
        if tags is not None:
            try:
                out.update(_replaygain(tags, fmt))
            except Exception:  # a malformed ReplayGain frame: plays at its own level
                pass
        if fmt in ("mp3", "aac") and out["rg_track_gain"] is None and out["rg_album_gain"] is None:
            out.update({k: v for k, v in _ape_replaygain(f).items() if v is not None})
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

    offset = id3_size(head)
    block = read_at(f, offset, 4 + 4 + 34)
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
    """Content that names no format mutagen reads here: let mutagen weigh the extension and its scorers."""
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


def _stream_info(fmt: str, info: Any, size: int) -> dict:
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
