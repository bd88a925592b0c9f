"""Playlists as M3U / M3U8 files: export a catalog playlist, import a file into one.

Export (:func:`export_m3u`) writes UTF-8 (whatever the extension)::

    #EXTM3U
    #EXTINF:<seconds>,<artist> - <title>
    <path>

with each path relative to the playlist file's folder where the two share a folder below the
file system's root (``../Music/a.flac``), absolute otherwise.  An entry whose file is missing is
written with its last path (so the list stays whole); one detached from any file (its track row
was purged) has no path and is left out, and the report says which.

Import (:func:`import_m3u`) reads ``.m3u8`` as UTF-8, line by line (a line that is not UTF-8 is
skipped with its reason); ``.m3u`` (and any other extension) as UTF-8 when the whole file is
UTF-8, else as Latin-1, and the report says which.  Each entry is a path (relative ones resolve
against the playlist's folder; ``file://`` URIs are paths too) matched to a catalog track:

1. by path;
2. a file gone from that path: by its song -- the ``#EXTINF`` artist, title and length (or the
   catalog's copy for a path it knew) -- to a present track, by the rule a like follows its song
   with (:meth:`core.catalog.ratings.RatingStore.song_files`);
3. a file the catalog does not have under that path: by its content fingerprint (a file moved
   since the last scan).

What cannot be matched is skipped with one reason each (:data:`REASONS`): a missing file, a URL,
a file outside every library folder, a file the scan could not decode or has not seen, a line in
an undecodable encoding.  Nothing is ever matched by file name alone.
"""
from __future__ import annotations

import dataclasses
import os
import re
import tempfile
from typing import NamedTuple
from urllib.parse import unquote, urlparse

from core.audio.files import check_readable, open_readable
from core.catalog import Catalog, CatalogError, Playlist, check_playlist_name
from core.catalog.rows import below
from core.errors import MelographError, UnreadableFile, reason_of

MAX_BYTES = 16 * 1024 * 1024  #: a larger file is not taken for a playlist

MISSING = "missing file"
URL = "a URL, not a local file"
OUTSIDE = "outside every library folder"
NOT_IN_CATALOG = "not in the catalog (scan its folder first)"
UNDECODABLE_LINE = "undecodable line encoding (not UTF-8)"
#: the reasons an entry is skipped (``not decodable: <why>`` carries the scan's reason too)
REASONS = (MISSING, URL, OUTSIDE, "not decodable: ...", NOT_IN_CATALOG, UNDECODABLE_LINE)

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


class PlaylistFileError(MelographError):
    """An M3U file that cannot be read or written: one line, naming the file."""


class Skipped(NamedTuple):
    line_no: int  # 1-based line of the entry's path in the file
    entry: str  # the path (or URL) as the file gives it
    reason: str


class M3UEntry(NamedTuple):
    line_no: int
    location: str  # as written in the file
    seconds: float | None  # from #EXTINF (None: absent or -1)
    artist: str | None
    title: str | None


@dataclasses.dataclass
class ParsedM3U:
    entries: list[M3UEntry]
    skipped: list[Skipped]  # lines that could not be decoded
    encoding: str  # "utf-8" or "latin-1"


@dataclasses.dataclass
class ImportReport:
    """What :func:`import_m3u` did: the tracks ``added`` (ids, in the file's order), the entries
    ``skipped`` with their reasons, the ``encoding`` the file was read as, and the playlist made
    (None when nothing could be added, so none was made)."""

    added: list[int]
    skipped: list[Skipped]
    encoding: str
    playlist: Playlist | None = None

    def as_dict(self) -> dict:
        return {"playlist": None if self.playlist is None else self.playlist.name,
                "added": len(self.added), "track_ids": self.added, "encoding": self.encoding,
                "skipped": [s._asdict() for s in self.skipped]}


@dataclasses.dataclass
class ExportReport:
    path: str
    written: int
    missing: int  # of those written, entries whose file is missing
    left_out: list[str]  # detached entries (no path known): "artist - title"

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


# -- reading ---------------------------------------------------------------------------------------


def _extinf(text: str) -> tuple[float | None, str | None, str | None]:
    """``#EXTINF:<seconds>[ attrs],<artist> - <title>`` -> (seconds, artist, title)."""
    head, _, name = text[len("#EXTINF:"):].partition(",")
    seconds = None
    try:
        seconds = float(head.split()[0]) if head.split() else None
    except ValueError:
        seconds = None
    if seconds is not None and seconds < 0:
        seconds = None
    name = name.strip()
    artist, sep, title = name.partition(" - ")
    if not sep:
        return seconds, None, name or None
    return seconds, artist.strip() or None, title.strip() or None


def parse_m3u(path: str | os.PathLike) -> ParsedM3U:
    """The entries of an M3U/M3U8 file, in order.  :class:`PlaylistFileError` when the file
    cannot be read (missing, a folder or special file, no permission, too large, binary)."""
    path = os.fspath(path)
    try:
        size = check_readable(path).st_size
        if size > MAX_BYTES:
            raise PlaylistFileError(f"{path}: {size // (1024 * 1024)} MB is too large for a playlist file")
        with open_readable(path) as f:
            data = f.read(MAX_BYTES + 1)
    except UnreadableFile as exc:
        raise PlaylistFileError(f"cannot read the playlist {path}: {exc.reason}") from exc
    except OSError as exc:
        raise PlaylistFileError(f"cannot read the playlist {path}: {reason_of(exc)}") from exc
    except MelographError as exc:  # an empty file
        if isinstance(exc, PlaylistFileError):
            raise
        raise PlaylistFileError(f"{path} is empty: not a playlist") from exc
    if b"\x00" in data:
        raise PlaylistFileError(f"{path} is a binary file, not an M3U playlist")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    raw = data.splitlines()
    skipped: list[Skipped] = []
    if path.lower().endswith(".m3u8"):
        encoding = "utf-8"
        lines: list[str | None] = []
        for b in raw:
            try:
                lines.append(b.decode("utf-8"))
            except UnicodeDecodeError:
                lines.append(None)
    else:
        try:
            data.decode("utf-8")
            encoding = "utf-8"
        except UnicodeDecodeError:
            encoding = "latin-1"
        lines = [b.decode(encoding) for b in raw]
    entries: list[M3UEntry] = []
    info: tuple[float | None, str | None, str | None] = (None, None, None)
    for no, line in enumerate(lines, 1):
        if line is None:
            skipped.append(Skipped(no, raw[no - 1].decode("utf-8", "replace").strip(), UNDECODABLE_LINE))
            info = (None, None, None)
            continue
        text = line.strip()
        if not text:
            continue
        if text.startswith("#"):
            if text.upper().startswith("#EXTINF:"):
                info = _extinf(text)
            continue
        entries.append(M3UEntry(no, text, *info))
        info = (None, None, None)
    return ParsedM3U(entries, skipped, encoding)


def _local_path(location: str, base: str) -> str | None:
    """The absolute path an entry names (None for a URL that is not ``file://``)."""
    if _SCHEME.match(location):
        url = urlparse(location)
        if url.scheme.lower() != "file" or url.netloc not in ("", "localhost"):
            return None
        location = unquote(url.path)
    path = os.path.expanduser(location)
    if not os.path.isabs(path):
        path = os.path.join(base, path)
        if "\\" in location and not os.path.exists(path):  # written on Windows: Music\a.mp3
            path = os.path.join(base, location.replace("\\", "/"))
    return os.path.normpath(path)


def _under_a_library(path: str, roots: list[str]) -> bool:
    return any(lo <= path < hi for lo, hi in (below(r) for r in roots))


def match_entries(catalog: Catalog, parsed: ParsedM3U, base: str) -> tuple[list[tuple[int, int]], list[Skipped]]:
    """``([(line_no, track_id), ...], skipped)`` for the entries of ``parsed`` (see the module's
    doc for the order of the matches), relative paths resolved against folder ``base``."""
    roots = [lib.root for lib in catalog.library_roots()]
    songs = None
    matched: list[tuple[int, int]] = []
    skipped = list(parsed.skipped)

    def by_song(fp, artist, title, seconds) -> int | None:
        nonlocal songs
        if seconds is None and not fp:
            return None
        if songs is None:
            songs = catalog.song_files()
        fits = songs.fits(fp, artist, title, seconds)
        return songs.closest(fits, seconds).id if fits else None

    for e in parsed.entries:
        path = _local_path(e.location, base)
        if path is None:
            skipped.append(Skipped(e.line_no, e.location, URL))
            continue
        track = catalog.track_by_path(path)
        if track is not None and not track.missing and os.path.isfile(path):
            matched.append((e.line_no, track.id))
            continue
        if not os.path.exists(path):
            if track is not None:
                found = by_song(track.fingerprint, track.artist, track.title, track.duration)
            else:
                found = by_song(None, e.artist, e.title, e.seconds)
            if found is None:
                skipped.append(Skipped(e.line_no, e.location, MISSING))
            else:
                matched.append((e.line_no, found))
            continue
        if not _under_a_library(path, roots):
            skipped.append(Skipped(e.line_no, e.location, OUTSIDE))
            continue
        if track is not None:  # flagged missing, but the file is back: the next scan clears the flag
            matched.append((e.line_no, track.id))
            continue
        failure = catalog.failure(path)
        if failure is not None:
            skipped.append(Skipped(e.line_no, e.location, f"not decodable: {failure.reason}"))
            continue
        try:
            from core.audio.fingerprint import fingerprint

            same = catalog.tracks_by_fingerprint(fingerprint(path))
        except (OSError, MelographError) as exc:
            skipped.append(Skipped(e.line_no, e.location, f"not decodable: {reason_of(exc)}"))
            continue
        if same:  # moved since the last scan: the row follows the file at the next scan
            matched.append((e.line_no, min(same, key=lambda t: (t.missing, t.id)).id))
        else:
            skipped.append(Skipped(e.line_no, e.location, NOT_IN_CATALOG))
    return matched, sorted(skipped)


def import_m3u(catalog: Catalog, path: str | os.PathLike, *, name: str | None = None) -> ImportReport:
    """Make a playlist (named ``name``, default the file's name without its extension) of the
    entries of the M3U/M3U8 file at ``path`` that match catalog tracks.  None is made when no
    entry matches.  :class:`PlaylistFileError` for a file that cannot be read,
    :class:`~core.catalog.CatalogError` for a name that is taken or invalid (checked before the
    file is read)."""
    path = os.path.abspath(os.fspath(path))
    name = check_playlist_name(os.path.splitext(os.path.basename(path))[0] if name is None else name)
    if any(p.name.casefold() == name.casefold() for p in catalog.playlists()):
        raise CatalogError(f"a playlist named {catalog.playlist(name).name!r} already exists")
    parsed = parse_m3u(path)
    matched, skipped = match_entries(catalog, parsed, os.path.dirname(path))
    report = ImportReport([tid for _, tid in matched], skipped, parsed.encoding)
    if matched:
        with catalog.transaction():
            playlist = catalog.create_playlist(name)
            catalog.add_to_playlist(playlist.id, report.added)
        report.playlist = catalog.playlist(playlist.id)
    return report


# -- writing ---------------------------------------------------------------------------------------


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _location(track_path: str, folder: str) -> str:
    """``track_path`` relative to ``folder`` when they share a folder below the root, else absolute."""
    try:
        common = os.path.commonpath([track_path, folder])
    except ValueError:  # another drive
        return track_path
    if os.path.dirname(common) == common:  # only the root in common
        return track_path
    rel = os.path.relpath(track_path, folder)
    return "./" + rel if rel.startswith("#") else rel


def export_m3u(catalog: Catalog, playlist: int | str, path: str | os.PathLike) -> ExportReport:
    """Write ``playlist`` to ``path`` as extended M3U in UTF-8 (see the module's doc); the file
    is replaced whole or not at all.  :class:`PlaylistFileError` when it cannot be written."""
    path = os.path.abspath(os.fspath(path))
    entries = catalog.playlist_entries(playlist)
    folder = os.path.dirname(path)
    lines = ["#EXTM3U"]
    written = missing = 0
    left_out = []
    for e in entries:
        name = " - ".join(_one_line(s) for s in (e.display_artist, e.display_title) if s)
        if e.path is None:
            left_out.append(name)
            continue
        duration = e.track.duration if e.track is not None and e.track.duration is not None else e.duration
        lines.append(f"#EXTINF:{-1 if duration is None else round(duration)},{name}")
        lines.append(_location(e.path, folder))
        written += 1
        missing += e.missing
    if not os.path.isdir(folder):
        raise PlaylistFileError(f"cannot write {path}: the folder {folder} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".melograph-", suffix=".m3u8.part", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
                f.write("\n".join(lines) + "\n")
            os.chmod(tmp, os.stat(path).st_mode & 0o7777 if os.path.exists(path) else 0o644)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    except OSError as exc:
        raise PlaylistFileError(f"cannot write {path}: {reason_of(exc)}") from exc
    return ExportReport(path, written, missing, left_out)
