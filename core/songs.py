"""Song identity: when two tracks are one song, by their tags or, without tags, by their sound.

The catalog (a like follows its song to a new file, core/catalog/ratings.py) and the recommender
(a version of a rated song is never recommended as new, core/recommend/songs.py) ask two
questions of any two tracks -- objects with ``title``, ``artist`` and ``duration`` (seconds):
a catalog ``Track`` or ``Rating``, a recommender ``TrackMeta`` -- and, where known, their
analysis results' window embeddings ``(n_windows, D)`` of one model version:

* :func:`same_song` -- the same recording in another file (a re-encode, a copy, a retagged or
  renamed file): a like follows it.  Durations within ``SAME_SONG_SECONDS`` and either the same
  :func:`song_key` or, when either track lacks an artist or a title, the same sound
  (:func:`same_recording`).  Two tracks whose keys differ are two songs, whatever they sound like.
* :func:`is_version` -- a version of one song (a remaster, a radio edit, a live take of about the
  same length): shown once in a ranking, and never recommended when the song is rated.  The same
  :func:`song_key` with durations within ``VERSION_SECONDS`` (an unknown one matches), or
  :func:`same_song`.

The key: artist and title folded (case, accents, punctuation), the title without its version
decorations (``"Song (Remastered 2011) - Live"`` -> ``"song"``) and guests, the artist without
a leading "the"; none without both an artist and a title (an unknown artist cannot tell two
songs of one name apart).
"""
from __future__ import annotations

import re
import unicodedata
from typing import Protocol

import numpy as np

SAME_SONG_SECONDS = 1.0  #: a like follows a file of its song this close in duration
VERSION_SECONDS = 3.0  #: two versions of one song closer than this in duration are duplicates
#: Mean cosine of two tracks' time-aligned window embeddings (the shipped genre model's) at or
#: above which they are one recording.  Measured on the 89 GTZAN clips of ../shared/data: two
#: different clips of one length score at most 0.985; a re-encode scores a median 0.9998, but a
#: lossy encode can change what the model hears (MP3 128 kb/s: 35 of 89 clips below 0.99, down
#: to 0.53 where loud pop turns "metal"; Vorbis q3: 11 of 89, down to 0.95).  So without tags a
#: re-encode is recognised about 6 times in 10, and another song was never taken for it.
SAME_RECORDING_COSINE = 0.99

_VERSION_WORDS = (
    r"remaster(?:ed)?|re-?master(?:ed)?|live|mono|stereo|version|edit|radio|single|album|deluxe|bonus|"
    r"demo|mix|remix|acoustic|unplugged|explicit|clean|anniversary|expanded|edition|session|take|"
    r"feat\.?|ft\.?|featuring|with|from|bonus track|instrumental|original"
)
_BRACKETS = re.compile(r"[\(\[\{]([^\)\]\}]*)[\)\]\}]")
_DASH_SUFFIX = re.compile(r"\s+[-–—]\s+(.*)$")
_FEAT = re.compile(r"\s*(?:\(|\[)?\b(?:feat\.?|ft\.?|featuring|with)\s.*$", re.IGNORECASE)
_VERSIONISH = re.compile(rf"\b(?:{_VERSION_WORDS})\b|\b(?:19|20)\d\d\b", re.IGNORECASE)


class Tagged(Protocol):
    """What the rules read of a track."""

    @property
    def title(self) -> str | None: ...

    @property
    def artist(self) -> str | None: ...

    @property
    def duration(self) -> float | None: ...


def fold(text: str) -> str:
    """Lower case, accents and punctuation dropped, spaces collapsed: ``"Beyoncé & Co."`` ->
    ``"beyonce and co"``."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.lower().replace("&", " and ")
    text = re.sub(r"[^\w\s]|_", " ", text)
    return " ".join(text.split())


def normalise_title(title: str | None) -> str:
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


def normalise_artist(artist: str | None) -> str:
    """Main artist, folded: ``"Beyoncé feat. Jay-Z"`` -> ``"beyonce"``; a leading "the" dropped."""
    a = fold(_FEAT.sub("", artist or ""))
    return a[4:] if a.startswith("the ") else a


def song_key(track: Tagged) -> tuple[str, str] | None:
    """``(title, artist)`` of the song ``track`` is a version of; None without a title or artist."""
    title, artist = normalise_title(track.title), normalise_artist(track.artist)
    if not title or not artist:
        return None
    return title, artist


def _within(a: float | None, b: float | None, seconds: float) -> bool:
    return a is not None and b is not None and abs(float(a) - float(b)) <= seconds


def same_recording(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether window embeddings ``a`` and ``b`` (``(n_windows, D)``, or ``(D,)`` for one window)
    are one recording: the mean cosine of their windows taken in step (or of their mean
    embeddings when one has a window more) is at least ``SAME_RECORDING_COSINE``.  Window counts
    further apart: two recordings."""
    a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
    a, b = (a[None] if a.ndim == 1 else a), (b[None] if b.ndim == 1 else b)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or not len(a) or abs(len(a) - len(b)) > 1:
        return False
    if len(a) != len(b):
        a, b = a.mean(axis=0, keepdims=True), b.mean(axis=0, keepdims=True)
    na, nb = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
    cos = np.einsum("ij,ij->i", a, b) / np.maximum(na * nb, 1e-12)
    return bool(np.isfinite(cos).all() and cos.mean() >= SAME_RECORDING_COSINE)


def same_song(a: Tagged, b: Tagged, embeddings_a: np.ndarray | None = None,
              embeddings_b: np.ndarray | None = None) -> bool:
    """Whether ``b`` is ``a`` in another file (so a like of ``a`` belongs to ``b``): durations
    within ``SAME_SONG_SECONDS`` (both known), and the same :func:`song_key` -- or, when either
    has none, :func:`same_recording` of their window embeddings (False when either is None)."""
    if not _within(a.duration, b.duration, SAME_SONG_SECONDS):
        return False
    ka, kb = song_key(a), song_key(b)
    if ka is not None and kb is not None:
        return ka == kb
    return embeddings_a is not None and embeddings_b is not None and same_recording(embeddings_a, embeddings_b)


def is_version(a: Tagged, b: Tagged, embeddings_a: np.ndarray | None = None,
               embeddings_b: np.ndarray | None = None) -> bool:
    """Whether ``a`` and ``b`` are versions of one song: the same :func:`song_key` and durations
    within ``VERSION_SECONDS`` (an unknown duration matches any), or :func:`same_song`."""
    ka, kb = song_key(a), song_key(b)
    if ka is not None and kb is not None:
        return ka == kb and (a.duration is None or b.duration is None
                             or abs(float(a.duration) - float(b.duration)) <= VERSION_SECONDS)
    return same_song(a, b, embeddings_a, embeddings_b)
