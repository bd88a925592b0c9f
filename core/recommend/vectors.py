"""The library as the recommender sees it: each analysed track's window embeddings, its tags
and its genre probabilities, in flat arrays indexed by row."""
from __future__ import annotations

import dataclasses
from typing import Hashable, Iterable, Sequence

import numpy as np

MAX_WINDOWS = 10  #: windows kept per track (evenly spaced) when building TrackVectors


@dataclasses.dataclass(frozen=True)
class TrackMeta:
    title: str = ""
    artist: str = ""
    album: str = ""
    duration: float | None = None  #: seconds


def even_windows(e: np.ndarray, max_windows: int | None) -> np.ndarray:
    """``e`` (``(n_windows, D)``) cut to at most ``max_windows`` rows, evenly spaced over the
    track (all of them when ``max_windows`` is None or 0)."""
    if max_windows and len(e) > max_windows:
        return e[np.linspace(0, len(e) - 1, max_windows).round().astype(int)]
    return e


class TrackVectors:
    """Window embeddings of the analysed tracks of a library, as one array plus offsets.

    ``X`` is ``(n_windows_total, D)`` float32; the windows of track ``i`` are
    ``X[offsets[i]:offsets[i + 1]]``.  ``meta`` (one :class:`TrackMeta` per track) and
    ``genre_probs`` (``(n, n_classes)``, with ``classes``) are optional.  ``not_analysed`` lists
    the ids that were given without embeddings (they are left out and counted).
    """

    def __init__(self, ids: Sequence[Hashable], X: np.ndarray, offsets: np.ndarray, *,
                 meta: Sequence[TrackMeta] | None = None, genre_probs: np.ndarray | None = None,
                 classes: Sequence[str] | None = None, not_analysed: Sequence[Hashable] = (),
                 model_version: str = ""):
        self.ids = list(ids)
        self.X = np.ascontiguousarray(X, dtype=np.float32)
        self.offsets = np.asarray(offsets, dtype=np.int64)
        n = len(self.ids)
        if self.X.ndim != 2:
            raise ValueError(f"window embeddings must be 2-D (windows, dims), got shape {self.X.shape}")
        if self.offsets.shape != (n + 1,) or self.offsets[0] != 0 or self.offsets[-1] != len(self.X):
            raise ValueError("offsets must have n_tracks + 1 entries from 0 to the number of windows")
        if n and np.any(np.diff(self.offsets) <= 0):
            raise ValueError("every track needs at least one window")
        if len(set(self.ids)) != n:
            raise ValueError("track ids must be unique")
        self.meta = list(meta) if meta is not None else [TrackMeta() for _ in range(n)]
        if len(self.meta) != n:
            raise ValueError("meta must have one entry per track")
        self.genre_probs = None if genre_probs is None else np.asarray(genre_probs, dtype=np.float32)
        if self.genre_probs is not None and self.genre_probs.shape[0] != n:
            raise ValueError("genre_probs must have one row per track")
        self.classes = list(classes) if classes is not None else None
        self.not_analysed = list(not_analysed)
        self.model_version = str(model_version or "")
        self.index = {t: i for i, t in enumerate(self.ids)}
        self._means: np.ndarray | None = None

    @classmethod
    def from_tracks(cls, ids: Sequence[Hashable], embeddings: Sequence[np.ndarray | None], *,
                    meta: Sequence[TrackMeta] | None = None,
                    genre_probs: Sequence[np.ndarray | None] | np.ndarray | None = None,
                    classes: Sequence[str] | None = None, model_version: str = "",
                    max_windows: int | None = MAX_WINDOWS) -> "TrackVectors":
        """Build from one ``(n_windows, D)`` array per track; ``None`` or empty = not analysed.

        A track with more than ``max_windows`` windows keeps that many, evenly spaced over the
        track (its mean score is estimated from them): memory and ranking time stay bounded for a
        library of long tracks.
        """
        keep, arrays, missing = [], [], []
        dim = None
        for i, (tid, e) in enumerate(zip(ids, embeddings, strict=True)):
            if e is None:
                missing.append(tid)
                continue
            e = np.asarray(e, dtype=np.float32)
            if e.ndim == 1:
                e = e[None]
            if e.size == 0:
                missing.append(tid)
                continue
            e = even_windows(e, max_windows)
            if dim is None:
                dim = e.shape[1]
            elif e.shape[1] != dim:
                raise ValueError(f"track {tid!r} has {e.shape[1]}-dim embeddings, others {dim}")
            keep.append(i)
            arrays.append(e)
        lengths = [len(a) for a in arrays]
        X = np.concatenate(arrays) if arrays else np.zeros((0, dim or 1), np.float32)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        m = None
        if meta is not None:
            m = [meta[i] for i in keep]
        gp = None
        if genre_probs is not None:
            rows = [genre_probs[i] for i in keep]
            if rows and all(r is not None for r in rows):
                gp = np.stack([np.asarray(r, np.float32) for r in rows])
        return cls([ids[i] for i in keep], X, offsets, meta=m, genre_probs=gp, classes=classes,
                   not_analysed=missing, model_version=model_version)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def dim(self) -> int:
        return int(self.X.shape[1])

    @property
    def n_windows(self) -> np.ndarray:
        return np.diff(self.offsets)

    def rows(self, ids: Iterable[Hashable]) -> np.ndarray:
        """Row indices of the given ids that are analysed (others are ignored)."""
        return np.array(sorted({self.index[t] for t in ids if t in self.index}), dtype=np.int64)

    def windows_of(self, rows: np.ndarray) -> np.ndarray:
        """Window indices (into ``X``) of the tracks at ``rows``."""
        rows = np.asarray(rows, np.int64)
        if len(rows) == 0:
            return np.zeros(0, np.int64)
        n = self.offsets[rows + 1] - self.offsets[rows]
        first = np.repeat(self.offsets[rows] - np.concatenate([[0], np.cumsum(n)[:-1]]), n)
        return first + np.arange(int(n.sum()))

    def track_means(self) -> np.ndarray:
        """``(n, D)`` mean window embedding of each track (cached)."""
        if self._means is None:
            if len(self.ids) == 0:
                self._means = np.zeros((0, self.dim), np.float32)
            else:
                sums = np.add.reduceat(self.X, self.offsets[:-1], axis=0)
                self._means = (sums / self.n_windows[:, None]).astype(np.float32)
        return self._means

