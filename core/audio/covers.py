"""A track's cover art: the picture embedded in the file, else an image beside it in its folder.

    cover = find_cover(path)          # Cover(data, mime, source) or None
    cover.data, cover.mime            # the image's bytes, e.g. "image/jpeg"

Embedded pictures are read with mutagen from every container Melograph plays: ID3 ``APIC``
frames (MP3, WAV, AIFF, AAC), MP4 ``covr`` atoms, FLAC ``PICTURE`` blocks, Ogg (Vorbis, Opus,
FLAC, Speex) ``METADATA_BLOCK_PICTURE`` comments (base64) and the older ``COVERART`` ones, and
ASF/WMA ``WM/Picture`` attributes.  Of several pictures the front cover (picture type 3) wins,
then "other" (0), then any other kind, file icons (1, 2) last.  Without an embedded picture,
the first of ``cover``, ``folder``, ``front``, ``album`` with the extension ``.jpg``, ``.jpeg``,
``.png`` or ``.webp`` (any case) in the file's folder is taken.

Every picture is checked by decoding it (Pillow; a JPEG at reduced scale, which still reads all
its data): one over :data:`MAX_PICTURE_BYTES` or :data:`MAX_PIXELS`, cut short, or not an image
at all (a URL in an ``APIC`` frame, text) is passed over -- the next candidate gets its turn --
and logged at debug level.  Nothing here raises to the caller, and nothing is written.
"""
from __future__ import annotations

import base64
import dataclasses
import io
import logging
import os
import struct
import warnings

from core.audio.files import open_readable

log = logging.getLogger(__name__)

#: a picture larger than this (bytes) is not used
MAX_PICTURE_BYTES = 20 * 1024 * 1024
#: nor one with more pixels than this (a small file can claim a giant canvas)
MAX_PIXELS = 8192 * 8192
#: folder images, in order of preference (names and extensions are matched case-insensitively)
FOLDER_NAMES = ("cover", "folder", "front", "album")
FOLDER_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")

_MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp", "BMP": "image/bmp"}
#: picture type -> rank (lower first): front cover, other, anything else, file icons
_TYPE_RANK = {3: 0, 0: 1, 1: 4, 2: 3}


@dataclasses.dataclass(frozen=True)
class Cover:
    """A checked picture: ``data`` its bytes, ``mime`` what they are (from the content, not from
    what the tag claims), ``source`` "embedded" or the folder image's path, ``width`` x
    ``height`` in pixels."""

    data: bytes
    mime: str
    source: str
    width: int
    height: int


def is_folder_cover(path: str | os.PathLike) -> bool:
    """Whether ``path`` is named like the folder image :func:`folder_cover` looks for."""
    stem, ext = os.path.splitext(os.path.basename(os.fspath(path)).lower())
    return stem in FOLDER_NAMES and ext in FOLDER_EXTENSIONS


def find_cover(path: str | os.PathLike) -> Cover | None:
    """The embedded picture of the audio file ``path``, else its folder's image, else None."""
    return embedded_cover(path) or folder_cover(path)


def embedded_cover(path: str | os.PathLike) -> Cover | None:
    """The best usable picture embedded in ``path``, or None (none, or none usable, or the file
    cannot be read)."""
    path = os.fspath(path)
    for data, declared in embedded_pictures(path):
        cover = checked(data, source="embedded", what=f"{path}: embedded picture ({declared or 'no type'})")
        if cover is not None:
            return cover
    return None


def embedded_pictures(path: str | os.PathLike) -> list[tuple[bytes, str]]:
    """The pictures embedded in ``path``, best first, *unchecked*: ``[(bytes, what the tag says
    they are), ...]``; empty when there are none or the file cannot be parsed.  For a cache that
    made its thumbnail from a checked picture already and only needs to recognise it."""
    path = os.fspath(path)
    try:
        with open_readable(path) as f:
            from core.audio.tags import mutagen_file

            _fmt, audio = mutagen_file(f, path=path)
            candidates = _pictures(audio)
    except Exception as exc:  # noqa: BLE001 - a file we cannot parse has no cover for us
        log.debug("%s: no embedded picture read (%s: %s)", path, type(exc).__name__, exc)
        return []
    candidates.sort(key=lambda c: _TYPE_RANK.get(c[0], 2))  # stable: the file's order within a rank
    return [(data, declared) for _type, data, declared in candidates]


def folder_cover(path: str | os.PathLike) -> Cover | None:
    """The first usable image named like a cover (:data:`FOLDER_NAMES`) in the folder of the
    audio file ``path``, or None."""
    folder = os.path.dirname(os.path.abspath(os.fspath(path)))
    try:
        with os.scandir(folder) as it:
            names = {e.name.lower(): e.name for e in it if not e.name.startswith(".")}
    except OSError as exc:
        log.debug("%s: cannot list the folder (%s)", folder, exc)
        return None
    for stem in FOLDER_NAMES:
        for ext in FOLDER_EXTENSIONS:
            name = names.get(stem + ext)
            if name is None:
                continue
            image = os.path.join(folder, name)
            data = _read_image_file(image)
            cover = None if data is None else checked(data, source=image, what=image)
            if cover is not None:
                return cover
    return None


def _read_image_file(path: str) -> bytes | None:
    try:
        with open_readable(path) as f:  # a FIFO called cover.jpg is refused, not waited on
            size = os.fstat(f.fileno()).st_size
            if size > MAX_PICTURE_BYTES:
                log.debug("%s: %d bytes, over the %d-byte limit for a cover", path, size, MAX_PICTURE_BYTES)
                return None
            return f.read(MAX_PICTURE_BYTES + 1)
    except Exception as exc:  # noqa: BLE001
        log.debug("%s: cannot read (%s)", path, exc)
        return None


def checked(data: bytes, *, source: str = "embedded", what: str = "picture") -> Cover | None:
    """``data`` as a :class:`Cover` when it is a whole, decodable image within the limits, else
    None (the reason logged at debug level, naming ``what``)."""
    if not data:
        log.debug("%s: empty", what)
        return None
    if len(data) > MAX_PICTURE_BYTES:
        log.debug("%s: %d bytes, over the %d-byte limit for a cover", what, len(data), MAX_PICTURE_BYTES)
        return None
    try:
        from PIL import Image

        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                kind = img.format
                width, height = img.size
                if kind not in _MIME:
                    log.debug("%s: %s images are not used as covers", what, kind)
                    return None
                if width * height > MAX_PIXELS:
                    log.debug("%s: %d x %d pixels, over the limit for a cover", what, width, height)
                    return None
                img.verify()  # the container's own checks (a PNG's chunk checksums, up to its end)
            with Image.open(io.BytesIO(data)) as img:  # verify() leaves the image unusable: again
                if kind == "JPEG":
                    img.draft("RGB", (256, 256))  # decode at 1/2..1/8 scale: every byte is still read
                img.load()
    except Exception as exc:  # noqa: BLE001 - not an image, cut short, a bomb: not a cover
        log.debug("%s: not a usable image (%s: %s)", what, type(exc).__name__, exc)
        return None
    return Cover(bytes(data), _MIME[kind], source, int(width), int(height))


# --- the pictures of each container ---------------------------------------------------------------

def _pictures(audio) -> list[tuple[int, bytes, str]]:
    """``[(picture type, bytes, what the tag says it is), ...]`` in the file's order."""
    out: list[tuple[int, bytes, str]] = []
    tags = getattr(audio, "tags", None)
    for pic in getattr(audio, "pictures", None) or []:  # FLAC blocks
        out.append((int(pic.type), bytes(pic.data), pic.mime))
    if tags is None:
        return out
    kind = type(tags).__name__
    if hasattr(tags, "getall") and "ID3" in kind:  # ID3 (v2.2 PIC frames arrive as APIC)
        for frame in tags.getall("APIC"):
            out.append((int(frame.type), bytes(frame.data), frame.mime))
    elif kind == "MP4Tags":
        for art in tags.get("covr") or []:
            out.append((3, bytes(art), "image/png" if art.imageformat == art.FORMAT_PNG else "image/jpeg"))
    elif kind == "ASFTags":
        for attr in tags.get("WM/Picture") or []:
            pic = asf_picture(bytes(attr.value))
            if pic is not None:
                out.append(pic)
    elif hasattr(tags, "get"):  # Vorbis comments (Ogg Vorbis, Opus, FLAC, Speex)
        from mutagen.flac import Picture

        for text in _values(tags, "metadata_block_picture"):
            try:
                pic = Picture(base64.b64decode(text, validate=False))
            except Exception as exc:  # noqa: BLE001
                log.debug("a METADATA_BLOCK_PICTURE that is not one (%s)", exc)
                continue
            out.append((int(pic.type), bytes(pic.data), pic.mime))
        mimes = _values(tags, "coverartmime")
        for i, text in enumerate(_values(tags, "coverart")):
            try:
                out.append((0, base64.b64decode(text, validate=False), mimes[i] if i < len(mimes) else ""))
            except Exception as exc:  # noqa: BLE001
                log.debug("a COVERART comment that is not base64 (%s)", exc)
    return out


def _values(tags, key: str) -> list[str]:
    try:
        return list(tags.get(key) or [])
    except Exception:  # noqa: BLE001 - an odd comment block
        return []


def asf_picture(blob: bytes) -> tuple[int, bytes, str] | None:
    """An ASF ``WM/Picture`` value: type (1 byte), size (4, little-endian), MIME type and
    description (UTF-16-LE, each ending in a 2-byte NUL), then the picture."""
    try:
        ptype, size = blob[0], struct.unpack_from("<I", blob, 1)[0]
        pos = 5
        texts = []
        for _ in range(2):
            end = pos
            while blob[end:end + 2] != b"\x00\x00":
                end += 2
                if end >= len(blob):
                    return None
            texts.append(blob[pos:end].decode("utf-16-le", "replace"))
            pos = end + 2
        return int(ptype), blob[pos:pos + size], texts[0]
    except (IndexError, struct.error):
        return None
