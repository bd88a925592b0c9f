"""Versions of one song in a ranking: a ranking shows one version of each song and never
recommends a version of a song already liked or disliked.  What makes two tracks versions of one
song (their tags, or without tags their sound) is :func:`core.songs.is_version`; the names of
:mod:`core.songs` used here are re-exported for the recommender's callers."""
from __future__ import annotations

import numpy as np

from core.recommend.vectors import TrackMeta
from core.songs import fold, is_version, normalise_artist, normalise_title, song_key

__all__ = ["SeenSongs", "fold", "normalise_artist", "normalise_title", "song_key"]


class SeenSongs:
    """Songs already shown, liked or disliked: ``seen.has(meta, embeddings)`` when that track is
    a version of one of them (:func:`core.songs.is_version`; ``embeddings``, its window
    embeddings, let an untagged track be recognised by its sound)."""

    def __init__(self):
        self._by_key: dict[tuple[str, str], list[TrackMeta]] = {}
        # by whole second of duration, for the sound (same_song: within 1 s): every track with its
        # embeddings, and the untagged ones apart (a tagged track's sound matters against those only)
        self._by_second: dict[int, list[tuple[TrackMeta, np.ndarray]]] = {}
        self._untagged_by_second: dict[int, list[tuple[TrackMeta, np.ndarray]]] = {}

    def add(self, meta: TrackMeta, embeddings: np.ndarray | None = None) -> None:
        k = song_key(meta)
        if k is not None:
            self._by_key.setdefault(k, []).append(meta)
        if embeddings is not None and meta.duration is not None:
            entry, second = (meta, embeddings), int(meta.duration)
            self._by_second.setdefault(second, []).append(entry)
            if k is None:
                self._untagged_by_second.setdefault(second, []).append(entry)

    def has(self, meta: TrackMeta, embeddings: np.ndarray | None = None) -> bool:
        k = song_key(meta)
        if k is not None and any(is_version(meta, m) for m in self._by_key.get(k, ())):
            return True
        if embeddings is None or meta.duration is None:
            return False
        index = self._by_second if k is None else self._untagged_by_second
        s = int(meta.duration)
        return any(is_version(meta, m, embeddings, e) for second in (s - 1, s, s + 1) for m, e in index.get(second, ()))

    def __contains__(self, meta: TrackMeta) -> bool:
        return self.has(meta)
