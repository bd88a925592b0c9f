"""Recommendations over a catalog: its analysed tracks' embeddings, a profile's likes, and that
profile's model, kept between calls.

The catalog is read through the few methods of :class:`LibraryCatalog` only
(``core.catalog.Catalog`` has them)::

    lib = LibraryRecommender(data_dir, model_version="genre-cnn-2024")   # one per app
    ranking, info = lib.recommend(catalog, profile="Anna", top=20)       # on a worker thread
"""
from __future__ import annotations

import os
import threading
from typing import Any, Iterable, Iterator, Protocol, Sequence

import numpy as np

from core.catalog import DEFAULT_PROFILE, CatalogError
from core.recommend.errors import NoLikes, NotAnalysed, UnknownProfile
from core.recommend.model import Ranking, Recommender, RecommenderConfig
from core.recommend.store import ProfileStore
from core.recommend.vectors import MAX_WINDOWS, TrackMeta, TrackVectors, even_windows


class LibraryCatalog(Protocol):
    """What the recommender reads from a catalog."""

    def analysis_version_counts(self) -> list[tuple[str, int]]: ...

    def analysed_fingerprints(self, model_version: str) -> set[str]: ...

    def analysis_arrays(self, model_version: str, fingerprints: Iterable[str]) -> Iterator[tuple[str, list, Any, Any]]: ...

    def tracks(self, *, include_missing: bool = False) -> Sequence[Any]: ...

    def ratings(self, *, profile: str | None = None, include_detached: bool = True) -> Sequence[Any]: ...

    def find_profile(self, name: str | None) -> str: ...


def choose_model_version(catalog: LibraryCatalog, preferred: str | None = None) -> str:
    """Whose analysis results the recommender uses: ``preferred`` (the app's genre model) when
    the catalog has results of it, else the version with the most results.  :class:`NotAnalysed`
    when the catalog has none at all."""
    versions = catalog.analysis_version_counts()
    if not versions:
        raise NotAnalysed("No track has been analysed yet: run the analysis first (python main.py analyze), "
                          "then ask again.")
    return preferred if preferred in dict(versions) else versions[0][0]


class VectorCache:
    """The library's TrackVectors, kept between calls: each call reads only the analysis results
    that are new since the last one, and returns the very same object when nothing changed (so
    a model's cached scores are reused).  One per app; safe to call from one thread at a time
    (a lock serialises calls)."""

    def __init__(self, *, max_windows: int | None = MAX_WINDOWS):
        self.max_windows = max_windows
        self._lock = threading.Lock()
        self._version: str | None = None
        self._arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # fingerprint -> (embeddings, probs)
        self._classes: list | None = None
        self._key: tuple | None = None
        self._vectors: TrackVectors | None = None

    def vectors(self, catalog: LibraryCatalog, *, model_version: str | None = None) -> TrackVectors:
        """Every present track of ``catalog``, with the embeddings of the analysis results of
        ``model_version`` when the catalog has them, else of the version with the most results
        (see :func:`choose_model_version`).  Tracks without a result are counted in
        ``not_analysed``."""
        with self._lock:
            model_version = choose_model_version(catalog, model_version)
            if model_version != self._version:
                self._arrays.clear()
                self._classes = None
                self._version = model_version
            tracks = catalog.tracks(include_missing=False)
            done = catalog.analysed_fingerprints(model_version)
            for fp in [fp for fp in self._arrays if fp not in done]:  # results removed
                del self._arrays[fp]
            wanted = sorted({t.fingerprint for t in tracks if t.fingerprint in done and t.fingerprint not in self._arrays})
            for fp, classes, probs, e in catalog.analysis_arrays(model_version, wanted):
                if self._classes is None:
                    self._classes = classes
                if e.ndim == 1:
                    e = e[None]
                e = even_windows(e, self.max_windows)  # pick before converting
                self._arrays[fp] = (np.ascontiguousarray(e, dtype=np.float32), np.array(probs, np.float32))
            key = (model_version, tuple((t.id, t.fingerprint, t.title, t.artist, t.album, t.duration,
                                         t.fingerprint in self._arrays) for t in tracks))
            if self._vectors is not None and key == self._key:
                return self._vectors
            embeddings, probs, meta = [], [], []
            for t in tracks:
                a = self._arrays.get(t.fingerprint)
                meta.append(TrackMeta(t.title or t.display_title, t.artist or "", t.album or "", t.duration))
                embeddings.append(None if a is None else a[0])
                probs.append(None if a is None else a[1])
            self._vectors = TrackVectors.from_tracks(
                [t.id for t in tracks], embeddings, meta=meta, genre_probs=probs, classes=self._classes,
                model_version=model_version, max_windows=None)
            self._key = key
            return self._vectors


def ratings_from_catalog(catalog: LibraryCatalog, profile: str | None = None) -> tuple[list, list]:
    """(liked track ids, disliked track ids) of ``profile`` (default: the catalog's current
    profile) from the catalog's ratings (attached ones only)."""
    return _split(catalog.ratings(profile=profile, include_detached=False))


def _split(ratings: Iterable[Any]) -> tuple[list, list]:
    liked, disliked = [], []
    for r in ratings:
        if r.track_id is not None:
            (liked if r.rating > 0 else disliked).append(r.track_id)
    return liked, disliked


def rated_elsewhere(catalog: LibraryCatalog, ratings: Iterable[Any], vectors: TrackVectors,
                    *, max_windows: int | None = MAX_WINDOWS) -> list[tuple[TrackMeta, np.ndarray | None]]:
    """The rated songs that are not among ``vectors`` (their file is missing, their row purged,
    or they are not analysed), as ``(meta, window embeddings or None)`` for
    :meth:`Recommender.rank`: each rating's copy of its track's artist, title and duration, and
    the analysis result of its fingerprint when the catalog still has one of ``vectors``' model."""
    away = [r for r in ratings if r.track_id not in vectors.index]
    wanted = sorted({r.fingerprint for r in away if r.fingerprint})
    arrays = {}
    if wanted and vectors.model_version:
        for fp, _classes, _probs, e in catalog.analysis_arrays(vectors.model_version, wanted):
            e = np.asarray(e, np.float32)
            arrays[fp] = even_windows(e[None] if e.ndim == 1 else e, max_windows)
    return [(TrackMeta(r.title or "", r.artist or "", "", r.duration), arrays.get(r.fingerprint)) for r in away]


def not_music_to_leave_out(catalog: LibraryCatalog, liked: Iterable[int], model_version: str | None) -> set[int]:
    """The tracks the music detector called not music (speech, other sounds), which the ranking
    leaves out -- unless the profile has liked such a track (a podcast listener gets podcasts).
    Empty for a catalog without the detector's verdicts."""
    find = getattr(catalog, "not_music_track_ids", None)
    if find is None:
        return set()
    not_music = find(model_version)
    return set() if not_music & set(liked) else not_music


def listening_signals(catalog: LibraryCatalog, profile: str,
                      config: RecommenderConfig | None) -> tuple[list[int], list[int]]:
    """The profile's listening history as the recommender's weak signals: ``(played, skipped)``
    track ids -- played: played through at least as often as skipped; skipped: skipped more
    often than played.  Empty unless ``config`` gives them a weight (``play_weight``,
    ``skip_weight``) and the catalog keeps a history (``play_stats``).  Read when the model
    trains (a change of likes), not at every play."""
    config = config or RecommenderConfig()
    stats = getattr(catalog, "play_stats", None)
    if stats is None or (config.play_weight <= 0 and config.skip_weight <= 0):
        return [], []
    history = stats(profile=profile)
    played = [tid for tid, s in history.items() if s.plays and s.plays >= s.skips]
    skipped = [tid for tid, s in history.items() if s.skips > s.plays]
    return played, skipped


class LibraryRecommender:
    """Long-lived recommendations over a catalog (one per app): caches the library's vectors
    (:class:`VectorCache`) and each profile's model in memory between calls, so a call after a
    like costs one retraining plus one ranking, and a call with unchanged likes only the ranking
    (or nothing: the scores are cached too).

    ``model_version``: the genre model whose embeddings to use when the catalog has its results
    (else, and when None, the version with the most results).  Each profile learns from its own
    likes (``catalog.ratings(profile=...)``) and keeps its own model, in memory and in its
    :class:`ProfileStore` file under ``<data dir>/profiles/<name>/``.
    """

    def __init__(self, data_dir: str | os.PathLike, *, model_version: str | None = None,
                 config: RecommenderConfig | None = None):
        self.store = ProfileStore(data_dir)
        self.model_version = model_version
        self.config = config
        self.cache = VectorCache()
        self._models: dict[str, Recommender] = {}
        self._lock = threading.Lock()

    def recommend(self, catalog: LibraryCatalog, *, profile: str | None = None,
                  top: int = 20) -> tuple[Ranking, dict]:
        """``(ranking, info)`` for ``profile`` (default: the catalog's current profile); see
        :func:`recommend_from_catalog`."""
        with self._lock:
            try:
                profile = catalog.find_profile(profile)
            except CatalogError as exc:
                raise UnknownProfile(str(exc)) from None
            ratings = list(catalog.ratings(profile=profile, include_detached=True))
            liked, disliked = _split(ratings)
            if not liked:
                who = "" if profile == DEFAULT_PROFILE else f" in profile '{profile}'"
                raise NoLikes(f"No liked tracks{who} yet: like a few tracks you enjoy (at least 3 to 5) "
                              "and recommendations will follow.")
            vectors = self.cache.vectors(catalog, model_version=self.model_version)
            rec = self._models.get(profile)
            if rec is not None and rec.is_current(vectors, liked, disliked, self.config):
                how = "cached"
            else:
                played, skipped = listening_signals(catalog, profile, self.config)
                rec, how = self.store.load_or_fit(profile, vectors, liked, disliked, config=self.config,
                                                  played_ids=played, skipped_ids=skipped)
                self._models[profile] = rec
            ranking = rec.rank(vectors, top=top, exclude=not_music_to_leave_out(catalog, liked, vectors.model_version),
                               rated_elsewhere=rated_elsewhere(catalog, ratings, vectors,
                                                               max_windows=self.cache.max_windows))
            info = {
                "profile": profile, "model": how, "liked": len(liked), "disliked": len(disliked),
                "liked_not_analysed": len(liked) - len(rec.liked), "analysed": len(vectors),
                "not_analysed": len(vectors.not_analysed), "model_version": vectors.model_version,
            }
            return ranking, info


def recommend_from_catalog(catalog: LibraryCatalog, data_dir: str | os.PathLike, *, profile: str | None = None,
                           top: int = 20, model_version: str | None = None,
                           config: RecommenderConfig | None = None) -> tuple[Ranking, dict]:
    """Everything ``recommend`` needs, in one call (safe on a worker thread with a catalog
    connection of its own; an app should keep one :class:`LibraryRecommender` instead, which
    caches between calls).  Returns ``(ranking, info)``; ``info`` has ``profile`` (its stored
    name), ``model`` ("loaded", "trained", "rebuilt", or "cached" from a LibraryRecommender),
    ``liked``, ``disliked``, ``liked_not_analysed``, ``not_analysed``, ``analysed``,
    ``model_version``.  Raises a :class:`RecommenderError` (``NotAnalysed``, ``NoLikes``,
    ``NothingToRecommend``, ``UnknownProfile``) whose text is the sentence to show.  ``profile``
    None: the catalog's current profile; ``model_version``: as for :class:`LibraryRecommender`.
    """
    return LibraryRecommender(data_dir, model_version=model_version, config=config).recommend(
        catalog, profile=profile, top=top)
