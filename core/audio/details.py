"""Everything a file says about itself, for the track-info dialog: the file (path, size, when it
was modified), its stream (codec, bit rate, sample rate, channels, duration) and every tag in it
with a readable name, pictures described rather than dumped.

    d = file_details(path)
    d.size, d.modified, d.stream["codec"], d.tags  # [("Title", "Vibe Ace"), ("Picture", "image/jpeg, ...")]

Never raises for a bad file: what could not be read is in ``d.problems`` (one line each).
"""
from __future__ import annotations

import base64
import dataclasses
import os

from core.errors import FileError

#: characters kept of one tag value (lyrics can be long; a broken tag can be megabytes)
MAX_VALUE = 2000

PICTURE_TYPES = (
    "other", "file icon", "other file icon", "front cover", "back cover", "leaflet page", "media", "lead artist",
    "artist", "conductor", "band", "composer", "lyricist", "recording location", "during recording",
    "during performance", "screen capture", "a bright coloured fish", "illustration", "band logo", "publisher logo",
)

#: ID3v2 frame ids -> names (the frames taggers write; others keep their id)
ID3_NAMES = {
    "TIT1": "Grouping", "TIT2": "Title", "TIT3": "Subtitle", "TPE1": "Artist", "TPE2": "Album artist",
    "TPE3": "Conductor", "TPE4": "Remixed by", "TALB": "Album", "TRCK": "Track number", "TPOS": "Disc number",
    "TDRC": "Date", "TYER": "Year", "TDOR": "Original date", "TORY": "Original year", "TDRL": "Release date",
    "TCON": "Genre", "TCOM": "Composer", "TEXT": "Lyricist", "TPUB": "Publisher", "TCOP": "Copyright",
    "TENC": "Encoded by", "TSSE": "Encoder settings", "TBPM": "BPM", "TKEY": "Initial key", "TLAN": "Language",
    "TLEN": "Length (ms)", "TMED": "Media", "TMOO": "Mood", "TSRC": "ISRC", "TSOA": "Album sort order",
    "TSOP": "Artist sort order", "TSOT": "Title sort order", "TSO2": "Album artist sort order",
    "TCMP": "Compilation", "TOPE": "Original artist", "TOAL": "Original album", "TFLT": "File type",
    "COMM": "Comment", "USLT": "Lyrics", "APIC": "Picture", "POPM": "Rating", "PCNT": "Play count",
    "WXXX": "URL", "WOAR": "Artist URL", "WCOP": "Copyright URL", "WOAS": "Source URL", "UFID": "Unique file id",
    "PRIV": "Private data", "GEOB": "Embedded object", "MCDI": "CD table of contents", "RVA2": "Relative volume",
}

#: MP4 atoms -> names
MP4_NAMES = {
    "\xa9nam": "Title", "\xa9ART": "Artist", "aART": "Album artist", "\xa9alb": "Album", "\xa9day": "Date",
    "\xa9gen": "Genre", "gnre": "Genre (ID3 number)", "trkn": "Track number", "disk": "Disc number",
    "\xa9wrt": "Composer", "\xa9cmt": "Comment", "\xa9lyr": "Lyrics", "\xa9too": "Encoded by", "\xa9grp": "Grouping",
    "cprt": "Copyright", "tmpo": "BPM", "cpil": "Compilation", "desc": "Description", "covr": "Picture",
    "soal": "Album sort order", "soar": "Artist sort order", "sonm": "Title sort order", "pgap": "Gapless album",
}

#: ASF attributes -> names
ASF_NAMES = {
    "Title": "Title", "Author": "Artist", "WM/AlbumTitle": "Album", "WM/AlbumArtist": "Album artist",
    "WM/TrackNumber": "Track number", "WM/Track": "Track number (from 0)", "WM/PartOfSet": "Disc number",
    "WM/Year": "Year", "WM/Genre": "Genre", "WM/Composer": "Composer", "Copyright": "Copyright",
    "Description": "Comment", "WM/Picture": "Picture", "WM/EncodingSettings": "Encoder settings",
    "WM/Publisher": "Publisher", "WM/Lyrics": "Lyrics",
}

#: Vorbis comment names -> names (others are shown capitalised, "_" as spaces)
VORBIS_NAMES = {
    "albumartist": "Album artist", "album artist": "Album artist", "tracknumber": "Track number",
    "tracktotal": "Total tracks", "totaltracks": "Total tracks", "discnumber": "Disc number",
    "disctotal": "Total discs", "totaldiscs": "Total discs", "bpm": "BPM", "isrc": "ISRC",
    "musicbrainz_trackid": "MusicBrainz track id", "musicbrainz_albumid": "MusicBrainz album id",
    "musicbrainz_artistid": "MusicBrainz artist id",
}


@dataclasses.dataclass
class FileDetails:
    """``stream``: the keys of :func:`core.audio.tags.read` (codec, bitrate, sample_rate,
    channels, duration, bits_per_sample, format); ``tags``: ``[(name, value), ...]`` in the
    file's order; ``problems``: why a part is missing."""

    path: str
    size: int | None = None
    modified: float | None = None
    stream: dict = dataclasses.field(default_factory=dict)
    tags: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    problems: list[str] = dataclasses.field(default_factory=list)


def file_details(path: str | os.PathLike) -> FileDetails:
    """What ``path`` says about itself (see the module's docstring)."""
    from core.audio import tags as tag_reader
    from core.audio.files import open_readable

    path = os.fspath(path)
    d = FileDetails(path)
    try:
        st = os.stat(path)
        d.size, d.modified = st.st_size, st.st_mtime
    except OSError as exc:
        d.problems.append(f"cannot read the file: {exc.strerror or exc}")
        return d
    try:
        with open_readable(path) as f:
            try:
                d.stream = tag_reader.read(f, path=path, size=st.st_size)
            except FileError as exc:
                d.problems.append(exc.reason)
            try:
                fmt, audio = tag_reader.mutagen_file(f, path=path)
                d.tags = _all_tags(audio)
                if fmt == "wav":
                    d.tags += _riff_info(f)
            except Exception as exc:  # noqa: BLE001 - the tags stay empty, the reason is shown
                if not d.problems:
                    d.problems.append(f"cannot read the tags: {' '.join(str(exc).split()) or type(exc).__name__}")
    except (OSError, FileError) as exc:
        d.problems.append(getattr(exc, "reason", None) or f"cannot read the file: {exc}")
    return d


def describe_picture(data: bytes, mime: str = "", ptype: int | None = None, desc: str = "") -> str:
    """"image/jpeg, 720 × 720, 62 KB, front cover" (what could be read of it)."""
    from core.audio.covers import checked

    cover = checked(bytes(data), what="picture in the tags")
    parts = [cover.mime if cover else (mime or "unknown type")]
    if cover:
        parts.append(f"{cover.width} × {cover.height}")
    else:
        parts.append("not a usable image")
    parts.append(_size_text(len(data)))
    if ptype is not None:
        parts.append(PICTURE_TYPES[ptype] if 0 <= ptype < len(PICTURE_TYPES) else f"type {ptype}")
    if desc:
        parts.append(f"“{desc}”")
    return ", ".join(parts)


def _size_text(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n / (1024 * 1024):.1f} MB"


def _value(v) -> str:
    if isinstance(v, bytes):
        return f"{_size_text(len(v))} of binary data"
    if isinstance(v, (list, tuple)):
        if len(v) == 2 and all(isinstance(x, int) for x in v):  # MP4 (number, total)
            return f"{v[0]}/{v[1]}" if v[1] else str(v[0])
        return "; ".join(dict.fromkeys(_value(x) for x in v))  # a value repeated (ASF's two copies): once
    text = str(getattr(v, "value", v) if not isinstance(v, str) else v)
    text = text.replace("\x00", "; ")
    return text if len(text) <= MAX_VALUE else text[:MAX_VALUE - 1] + "…"


def _all_tags(audio) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for pic in getattr(audio, "pictures", None) or []:  # FLAC picture blocks
        out.append(("Picture", describe_picture(pic.data, pic.mime, pic.type, pic.desc)))
    tags = getattr(audio, "tags", None)
    if tags is None:
        return out
    kind = type(tags).__name__
    if "ID3" in kind:
        for frame in tags.values():
            out.append(_id3_entry(frame))
    elif kind == "MP4Tags":
        for key, value in tags.items():
            if key == "covr":
                out += [("Picture", describe_picture(bytes(v))) for v in value]
            elif key.startswith("----:"):
                out.append((key.rsplit(":", 1)[-1], _value([bytes(x).decode("utf-8", "replace") for x in value])))
            else:
                out.append((MP4_NAMES.get(key, key), _value(value)))
    elif kind == "ASFTags":
        from core.audio.covers import asf_picture

        for key, value in tags.items():
            if key == "WM/Picture":
                for attr in value:
                    pic = asf_picture(bytes(attr.value))
                    out.append(("Picture", describe_picture(pic[1], pic[2], pic[0]) if pic else "unreadable picture"))
            else:
                out.append((ASF_NAMES.get(key, key), _value(value)))
    else:  # Vorbis comments: (key, value) pairs
        from mutagen.flac import Picture

        for key, value in list(tags):
            if key.lower() == "metadata_block_picture":
                try:
                    pic = Picture(base64.b64decode(value))
                    out.append(("Picture", describe_picture(pic.data, pic.mime, pic.type, pic.desc)))
                except Exception:  # noqa: BLE001
                    out.append(("Picture", "unreadable METADATA_BLOCK_PICTURE"))
            elif key.lower() == "coverart":
                out.append(("Picture", f"{_size_text(len(value) * 3 // 4)} (COVERART)"))
            else:
                out.append((VORBIS_NAMES.get(key.lower()) or key.replace("_", " ").capitalize(), _value(value)))
    return out


#: RIFF INFO chunk ids -> names (WAV files written by many tools carry their tags there)
RIFF_NAMES = {
    b"INAM": "Title", b"IART": "Artist", b"IPRD": "Album", b"ICRD": "Date", b"IGNR": "Genre",
    b"ITRK": "Track number", b"IPRT": "Track number", b"ICMT": "Comment", b"ICOP": "Copyright",
    b"ISFT": "Encoded by", b"IENG": "Engineer", b"ISRC": "Source", b"IKEY": "Keywords",
}


def _riff_info(f) -> list[tuple[str, str]]:
    """Every entry of a WAV file's LIST/INFO chunk, named."""
    from core.audio.tags import riff_info_entries

    entries = riff_info_entries(f, os.fstat(f.fileno()).st_size)
    return [(RIFF_NAMES.get(sid, sid.decode("latin-1")), _value(text)) for sid, text in entries]


def _id3_entry(frame) -> tuple[str, str]:
    fid = frame.FrameID
    name = ID3_NAMES.get(fid, fid)
    if fid == "APIC":
        return "Picture", describe_picture(frame.data, frame.mime, int(frame.type), frame.desc)
    if fid == "TXXX":
        return frame.desc or "User text", _value(list(frame.text))
    if fid in ("COMM", "USLT"):
        label = f"{name} ({frame.desc})" if frame.desc else name
        return label, _value(frame.text if isinstance(frame.text, str) else list(frame.text))
    if fid == "POPM":
        return name, f"{frame.rating}/255 by {frame.email}" if frame.email else f"{frame.rating}/255"
    if hasattr(frame, "text"):
        return name, _value([str(t) for t in frame.text])
    if hasattr(frame, "url"):
        return name, _value(frame.url)
    if hasattr(frame, "data"):
        return name, f"{_size_text(len(frame.data))} of binary data"
    text = frame.pprint()
    return name, _value(text.split("=", 1)[-1])
