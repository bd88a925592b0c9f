"""What the catalog hands out: one frozen dataclass per kind of row, and the rules for the
values callers give it (profile names, folders).  No SQL here.

Timestamps are Unix seconds (float).  Paths are absolute ``str``.
"""
from __future__ import annotations

import dataclasses
import os
import re

from core.catalog.db import CatalogError

#: Columns a caller may give to add_track / update_track.
TRACK_FIELDS = (
    "path", "size", "mtime_ns", "fingerprint", "format", "codec", "duration", "sample_rate",
    "channels", "bitrate", "bits_per_sample", "title", "artist", "album", "album_artist",
    "track_no", "track_total", "disc_no", "disc_total", "year", "genre_tag",
    "rg_track_gain", "rg_track_peak", "rg_album_gain", "rg_album_peak",
)


@dataclasses.dataclass(frozen=True)
class Track:
    id: int
    path: str
    size: int
    mtime_ns: int
    fingerprint: str
    format: str | None
    codec: str | None
    duration: float | None
    sample_rate: int | None
    channels: int | None
    bitrate: int | None
    bits_per_sample: int | None
    title: str | None
    artist: str | None
    album: str | None
    album_artist: str | None
    track_no: int | None
    track_total: int | None
    disc_no: int | None
    disc_total: int | None
    year: int | None
    genre_tag: str | None
    added_at: float
    updated_at: float
    last_seen_at: float
    missing: bool
    missing_since: float | None
    # ReplayGain (core.audio.tags): dB to the reference loudness, and the linear sample peak
    rg_track_gain: float | None = None
    rg_track_peak: float | None = None
    rg_album_gain: float | None = None
    rg_album_peak: float | None = None
    rating: int = 0  # the current profile's: +1 liked, -1 disliked, 0 neither

    @property
    def display_title(self) -> str:
        return self.title or os.path.splitext(os.path.basename(self.path))[0]


@dataclasses.dataclass(frozen=True)
class Rating:
    track_id: int | None  # None: detached (its track row was purged); re-attached on re-add
    rating: int  # +1 or -1
    rated_at: float
    fingerprint: str | None
    artist: str | None
    title: str | None
    duration: float | None
    path: str | None  # the track's current path (None when detached)
    missing: bool


@dataclasses.dataclass(frozen=True)
class Profile:
    id: int
    name: str
    created_at: float
    liked: int = 0
    disliked: int = 0

    def as_dict(self) -> dict:
        return {"name": self.name, "created_at": self.created_at, "liked": self.liked, "disliked": self.disliked}


@dataclasses.dataclass(frozen=True)
class Failure:
    path: str
    kind: str  # core.errors kinds: unreadable, unsupported, decode_failed, too_short
    reason: str
    failed_at: float
    size: int | None = None
    mtime_ns: int | None = None

    def as_dict(self) -> dict:
        return {"path": self.path, "kind": self.kind, "reason": self.reason, "failed_at": self.failed_at}


@dataclasses.dataclass(frozen=True)
class Library:
    """A library folder.  ``removed_at``: when the user took it out of the library (its tracks
    stay in the catalog, hidden); None while it is in the library."""

    id: int
    root: str
    added_at: float
    last_scanned_at: float | None
    removed_at: float | None = None


DEFAULT_PROFILE = "default"
_PROFILE_NAME = re.compile(r"^\w[\w .-]{0,63}$", re.UNICODE)


def check_profile_name(name: str) -> str:
    """The name, stripped; :class:`CatalogError` (a sentence) when it cannot name a profile.  A
    name also names a folder of model files, so: letters, digits, spaces, '.', '-', '_'."""
    name = (name or "").strip() if isinstance(name, str) else ""
    if not _PROFILE_NAME.match(name) or name.endswith((".", " ")):
        raise CatalogError(f"invalid profile name {name!r}: use letters, digits, spaces, '.', '-' or '_' "
                           "(at most 64 characters, starting with a letter or digit)")
    return name


def below(root: str | os.PathLike) -> tuple[str, str]:
    """``(lo, hi)`` such that ``lo <= path < hi`` selects exactly the paths below folder ``root``
    (and none of a sibling folder whose name starts the same)."""
    root = os.path.abspath(os.fspath(root)).rstrip(os.sep) or os.sep
    prefix = root if root.endswith(os.sep) else root + os.sep
    return prefix, prefix[:-1] + chr(ord(os.sep) + 1)
