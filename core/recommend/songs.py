"""Song identity from tags: two versions of one song (a remaster, a live take, a radio edit)
share a :func:`song_key`, so the ranking shows one of them and never recommends another version
of a song already liked or disliked."""
from __future__ import annotations

import re
import unicodedata

from core.recommend.vectors import TrackMeta

DUPLICATE_SECONDS = 3.0  #: two versions of one song closer than this in duration are duplicates

_VERSION_WORDS = (
    r"remaster(?:ed)?|re-?master(?:ed)?|live|mono|stereo|version|edit|radio|single|album|deluxe|bonus|"
    r"demo|mix|remix|acoustic|unplugged|explicit|clean|anniversary|expanded|edition|session|take|"
    r"feat\.?|ft\.?|featuring|with|from|bonus track|instrumental|original"
)
_BRACKETS = re.compile(r"[\(\[\{]([^\)\]\}]*)[\)\]\}]")
_DASH_SUFFIX = re.compile(r"\s+[-–—]\s+(.*)$")
_FEAT = re.compile(r"\s*(?:\(|\[)?\b(?:feat\.?|ft\.?|featuring|with)\s.*$", re.IGNORECASE)
_VERSIONISH = re.compile(rf"\b(?:{_VERSION_WORDS})\b|\b(?:19|20)\d\d\b", re.IGNORECASE)


def fold(text: str) -> str:
    """Lower case, accents and punctuation dropped, spaces collapsed: ``"Beyoncé & Co."`` ->
    ``"beyonce and co"``."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.lower().replace("&", " and ")
    text = re.sub(r"[^\w\s]|_", " ", text)
    return " ".join(text.split())


def normalise_title(title: str) -> str:
    """Song title without version decorations: ``"Song (Remastered 2011) - Live"`` -> ``"song"``."""
    t = title or ""
    # parenthesised or bracketed parts that name a version or a guest
    t = _BRACKETS.sub(lambda m: " " if _VERSIONISH.search(m.group(1)) else m.group(0), t)
    # " - Remastered 2009", " - Live at Wembley", " - Radio Edit"
    while True:
        m = _DASH_SUFFIX.search(t)
        if not m or not _VERSIONISH.search(m.group(1)):
            break
        t = t[: m.start()]
    t = _FEAT.sub("", t)
    return fold(t)


def normalise_artist(artist: str) -> str:
    """Main artist, folded: ``"Beyoncé feat. Jay-Z"`` -> ``"beyonce"``; a leading "the" dropped."""
    a = _FEAT.sub("", artist or "")
    a = fold(a)
    return a[4:] if a.startswith("the ") else a


def song_key(meta: TrackMeta) -> tuple[str, str] | None:
    """``(title, artist)`` of the song ``meta`` is a version of; None without a title or artist."""
    title, artist = normalise_title(meta.title), normalise_artist(meta.artist)
    if not title or not artist:  # an unknown artist cannot tell two songs of one name apart
        return None
    return title, artist



class SeenSongs:
    """Songs already shown, liked or disliked: ``meta in seen`` when ``meta`` is a version of one
    of them, of about the same duration (within ``DUPLICATE_SECONDS``; an unknown duration
    matches any)."""

    def __init__(self):
        self._durations: dict[tuple[str, str], list[float | None]] = {}

    def add(self, meta: TrackMeta) -> None:
        k = song_key(meta)
        if k is not None:
            self._durations.setdefault(k, []).append(meta.duration)

    def __contains__(self, meta: TrackMeta) -> bool:
        k = song_key(meta)
        if k is None or k not in self._durations:
            return False
        return any(d is None or meta.duration is None or abs(d - meta.duration) <= DUPLICATE_SECONDS
                   for d in self._durations[k])
