"""What the app says about a track's genre: the genre, "Not music (speech)", or "uncertain: blues
or jazz" -- one rule shared by the library table, the now-playing chart and the CLI.

A track the music detector calls not music gets the genre ``NOT_MUSIC`` (what the genre filter
offers) and the label ``"Not music (speech)"`` / ``"Not music (other sounds)"``.  For music, the
genre network is *unsure* when its top probability is below ``UNSURE_TOP`` or the first two are
closer than ``UNSURE_MARGIN``: then the label names both, in alphabetical order
(``"uncertain: blues or jazz"``), instead of a bare percentage -- a near tie reads the same
whichever genre is a hair ahead (in another file format of the same song, say), and the genre
filter finds the track under either genre (:func:`genres_named`).  Both thresholds are fixed here (chosen before looking at any result: a
ten-genre distribution whose top is under 0.40 gives the rest 0.60).
"""
from __future__ import annotations

import dataclasses
from typing import Sequence

NOT_MUSIC = "Not music"
UNSURE_TOP = 0.40
UNSURE_MARGIN = 0.10
UNSURE_PREFIX = "uncertain: "
KIND_WORDS = {"speech": "speech", "sound": "other sounds"}


@dataclasses.dataclass(frozen=True)
class GenreLabel:
    """``genre``: what the genre filter matches (a genre name, or ``NOT_MUSIC``); ``text``: what the
    table shows; ``confidence``: the top genre's probability (or, for non-music, the probability
    that it is not music); ``uncertain``: the genre network could not tell two genres apart."""

    genre: str
    text: str
    confidence: float
    uncertain: bool = False
    is_music: bool = True
    kind: str | None = None


def not_music_text(kind: str | None) -> str:
    """``"Not music (speech)"``, ``"Not music (other sounds)"`` or ``"Not music"``."""
    word = KIND_WORDS.get(kind or "")
    return f"{NOT_MUSIC} ({word})" if word else NOT_MUSIC


def top_two(classes: Sequence[str], probs: Sequence[float]) -> tuple[tuple[str, float], tuple[str, float] | None]:
    """The two most probable ``(genre, probability)`` of a distribution (the second None for one class)."""
    order = sorted(range(len(probs)), key=lambda i: -float(probs[i]))
    first = (str(classes[order[0]]), float(probs[order[0]]))
    second = (str(classes[order[1]]), float(probs[order[1]])) if len(order) > 1 else None
    return first, second


def genre_label(top: str, confidence: float, second: str | None = None, second_confidence: float | None = None,
                *, is_music: bool | None = None, kind: str | None = None,
                music_probability: float | None = None) -> GenreLabel:
    """The label of one analysis (see the module docstring).  ``is_music`` None: no detector
    result (an older analysis): the genre alone."""
    if is_music is False:
        conf = 1.0 - float(music_probability) if music_probability is not None else 1.0
        return GenreLabel(NOT_MUSIC, not_music_text(kind), conf, is_music=False, kind=kind)
    confidence = float(confidence)
    unsure = confidence < UNSURE_TOP or (
        second is not None and second_confidence is not None and confidence - float(second_confidence) < UNSURE_MARGIN)
    if unsure and second:
        a, b = sorted((top, second), key=str.casefold)
        return GenreLabel(top, f"{UNSURE_PREFIX}{a} or {b}", confidence, uncertain=True)
    if unsure:
        return GenreLabel(top, f"{UNSURE_PREFIX}{top}", confidence, uncertain=True)
    return GenreLabel(top, f"{top} {100 * confidence:.0f}%", confidence)


def label_of_probs(classes: Sequence[str], probs: Sequence[float], *, is_music: bool | None = None,
                   kind: str | None = None, music_probability: float | None = None) -> GenreLabel:
    """:func:`genre_label` of a whole distribution."""
    (g1, p1), second = top_two(classes, probs)
    return genre_label(g1, p1, *(second or (None, None)), is_music=is_music, kind=kind,
                       music_probability=music_probability)

def genres_named(text: str) -> tuple[str, ...]:
    """The genres an "uncertain" label names (``"uncertain: blues or jazz"`` -> ``("blues",
    "jazz")``); ``()`` for any other label."""
    if not text.startswith(UNSURE_PREFIX):
        return ()
    return tuple(text[len(UNSURE_PREFIX):].split(" or "))


#: the name of the genre timeline's music row
MUSIC_ROW = "music"
