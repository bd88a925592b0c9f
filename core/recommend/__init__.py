"""Personal recommendations from likes, with reasons (issue 7).  Pure numpy: no TensorFlow.

The input is the genre network's window embeddings (its convolutional trunk) for every analysed
track of the library.  A small per-user network is trained on the windows of the liked tracks
(positives) against windows drawn at random from the other tracks (negatives, a fresh draw every
epoch, as many as there are positives), with the disliked tracks' windows as weighted hard
negatives.  A track's score is the mean over its windows of the network's sigmoid output,
blended -- while the likes are few -- with the track's similarity to the liked tracks (a prior
worth ``prior_likes`` likes: weight ``prior_likes / (prior_likes + n_liked)``; see
``Recommender._calibrate``).  Nothing depends on the embedding dimension.

Everything here works on plain data so the catalog, the CLI and the desktop wire it thinly::

    vectors = TrackVectors.from_tracks(ids, embeddings, meta=[TrackMeta(...)], genre_probs=P,
                                       classes=["blues", ...])   # None embedding = not analysed
    rec = Recommender().fit(vectors, liked_ids, disliked_ids, seed=0)
    ranking = rec.rank(vectors, top=20)          # Ranking: .items, .not_analysed, ...
    for r in ranking: r.track_id, r.score, r.nearest_liked, r.genres
    rec.save(path); Recommender.load(path)       # npz; CorruptProfile on a bad file

``ProfileStore`` keeps one model file per profile under ``<data dir>/profiles/<name>/`` and
rebuilds it from that profile's likes (the catalog is the truth; ``catalog.ratings(profile=)``)
when it is missing, stale or corrupt;
``RetrainScheduler`` is a Qt-free debouncer for background retraining.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import re
import threading
import time
import unicodedata
import zipfile
from pathlib import Path
from typing import Any, Callable, Hashable, Iterable, Iterator, Sequence

import numpy as np

from core import catalog as _catalog  # pure Python (sqlite3): the profile-name rule lives there
from core.errors import MelographError

FORMAT_VERSION = 2  #: 2: the similarity prior's calibration is saved with the networks
KERNEL_WIDTH = 0.2  #: of the similarity prior's kernel density, in cosine (see Recommender.similarity)
CALIBRATION_SAMPLE = 1000  #: tracks whose scores set the scales of the blended score
TOP_CAPPED = 20  #: the album/artist caps apply to this many leading recommendations
MAX_PER_ALBUM = 2
MAX_PER_ARTIST = 3
DUPLICATE_SECONDS = 3.0  #: two versions of one song closer than this in duration are duplicates
N_NEAREST = 3  #: liked tracks named in each explanation
SHORTLIST_ABOVE_WINDOWS = 40_000  #: rank() scores a shortlist exactly above this many windows
SHORTLIST_MIN = 1000
SHORTLIST_PER_ITEM = 20
MAX_WINDOWS = 10  #: windows kept per track (evenly spaced) when building TrackVectors


# --------------------------------------------------------------------------- errors


class RecommenderError(MelographError):
    """A recommendation cannot be made; ``str(err)`` is the sentence to show the user."""


class NoLikes(RecommenderError):
    pass


class NothingToRecommend(RecommenderError):
    pass


class CorruptProfile(RecommenderError):
    """The saved model file cannot be used; rebuild it from the likes in the catalog."""


class StaleProfile(CorruptProfile):
    """The saved model file was written by another version of the format: retrain it."""


# --------------------------------------------------------------------------- plain data


@dataclasses.dataclass(frozen=True)
class TrackMeta:
    title: str = ""
    artist: str = ""
    album: str = ""
    duration: float | None = None  #: seconds


@dataclasses.dataclass(frozen=True)
class Recommendation:
    track_id: Hashable
    score: float  #: mean sigmoid output over the track's windows, in [0, 1]
    nearest_liked: list[tuple[Hashable, float]]  #: up to 3 (liked id, cosine similarity)
    genres: list[tuple[str, float]]  #: main genres (name, probability), most likely first

    def as_dict(self) -> dict:
        return {
            "track_id": self.track_id,
            "score": round(float(self.score), 4),
            "nearest_liked": [{"track_id": t, "similarity": round(float(s), 4)} for t, s in self.nearest_liked],
            "genres": [{"genre": g, "probability": round(float(p), 4)} for g, p in self.genres],
        }


@dataclasses.dataclass
class Ranking:
    """The result of :meth:`Recommender.rank`; iterable over its recommendations."""

    items: list[Recommendation]
    candidates: int  #: analysed tracks that could be recommended (not liked/disliked)
    not_analysed: int  #: tracks left out because they have no embeddings yet
    duplicates_hidden: int = 0

    def __iter__(self) -> Iterator[Recommendation]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]

    @property
    def ids(self) -> list:
        return [r.track_id for r in self.items]


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
                    meta: Sequence[TrackMeta | dict | None] | None = None,
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
            if max_windows and len(e) > max_windows:
                e = e[np.linspace(0, len(e) - 1, max_windows).round().astype(int)]
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
            m = [_as_meta(meta[i]) for i in keep]
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

    def track_of_window(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.ids)), self.n_windows)

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


def _as_meta(m) -> TrackMeta:
    if m is None:
        return TrackMeta()
    if isinstance(m, TrackMeta):
        return m
    if isinstance(m, dict):
        d = m.get("duration")
        return TrackMeta(title=m.get("title") or "", artist=m.get("artist") or "", album=m.get("album") or "",
                         duration=None if d is None else float(d))
    title, artist, album, duration = (list(m) + [None] * 4)[:4]
    return TrackMeta(title or "", artist or "", album or "", None if duration is None else float(duration))


# --------------------------------------------------------------------------- duplicate versions

_VERSION_WORDS = (
    r"remaster(?:ed)?|re-?master(?:ed)?|live|mono|stereo|version|edit|radio|single|album|deluxe|bonus|"
    r"demo|mix|remix|acoustic|unplugged|explicit|clean|anniversary|expanded|edition|session|take|"
    r"feat\.?|ft\.?|featuring|with|from|bonus track|instrumental|original"
)
_BRACKETS = re.compile(r"[\(\[\{]([^\)\]\}]*)[\)\]\}]")
_DASH_SUFFIX = re.compile(r"\s+[-–—]\s+(.*)$")
_FEAT = re.compile(r"\s*(?:\(|\[)?\b(?:feat\.?|ft\.?|featuring|with)\s.*$", re.IGNORECASE)
_VERSIONISH = re.compile(rf"\b(?:{_VERSION_WORDS})\b|\b(?:19|20)\d\d\b", re.IGNORECASE)


def _fold(text: str) -> str:
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
    return _fold(t)


def normalise_artist(artist: str) -> str:
    """Main artist, folded: ``"Beyoncé feat. Jay-Z"`` -> ``"beyonce"``; a leading "the" dropped."""
    a = _FEAT.sub("", artist or "")
    a = _fold(a)
    return a[4:] if a.startswith("the ") else a


def song_key(meta: TrackMeta) -> tuple[str, str] | None:
    title, artist = normalise_title(meta.title), normalise_artist(meta.artist)
    if not title or not artist:  # an unknown artist cannot tell two songs of one name apart
        return None
    return title, artist


def same_song(a: TrackMeta, b: TrackMeta, *, tolerance: float = DUPLICATE_SECONDS) -> bool:
    ka, kb = song_key(a), song_key(b)
    if ka is None or ka != kb:
        return False
    if a.duration is None or b.duration is None:
        return True
    return abs(a.duration - b.duration) <= tolerance


# --------------------------------------------------------------------------- the network


@dataclasses.dataclass
class RecommenderConfig:
    hidden: tuple[int, ...] = (256, 64)  #: hidden layer widths (issue's suggestion: (1024, 128))
    dropout: float = 0.3
    epochs: int = 30  #: early stop by epoch count (no validation set exists at fit time)
    min_steps: int = 0  #: few likes = tiny epochs: run more epochs (fresh draws) up to this many steps
    max_epochs: int = 400
    batch_size: int = 128
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4  #: L2 on the weights, decoupled (AdamW style)
    ensemble: int = 1  #: networks trained with different seeds, scores averaged
    #: > 0: disliked windows are extra negatives weighing this many average positive windows.
    #: Measured (bench/eval_recommender.py): 0.5, 1, 2 and 4 all ranked worse than 0, so by default
    #: a dislike only removes the track from the recommendations.
    dislike_weight: float = 0.0
    balance_tracks: bool = True  #: each liked track weighs the same, however many windows it has
    #: Few likes: the network's score is shrunk toward the similarity to the liked tracks, which
    #: counts as this many likes' worth of evidence: weight ``prior_likes / (prior_likes + n)``
    #: for ``n`` liked tracks (5 likes: half and half; 45 likes: 10 %).  0 = the network alone.
    #: See :meth:`Recommender.score`.  Measured by bench/eval_recommender.py.
    prior_likes: float = 5.0
    #: negatives drawn per epoch: as many as the positive windows, but at least this many (with
    #: 5 likes, 5 negatives an epoch sample the library thinly); the weights keep the classes
    #: balanced whatever the counts
    min_negatives: int = 0
    max_positives: int = 2048  #: cap of positive windows per epoch (a fresh subsample each epoch when above)

    def as_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["hidden"] = list(self.hidden)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "RecommenderConfig":
        fields = {f.name for f in dataclasses.fields(cls)}
        d = {k: v for k, v in d.items() if k in fields}
        if "hidden" in d:
            d["hidden"] = tuple(int(h) for h in d["hidden"])
        return cls(**d)


class NegativeSampler:
    """Draws negative windows uniformly from a pool, afresh on every call (one call per epoch)."""

    def __init__(self, pool: np.ndarray, rng: np.random.Generator):
        self.pool = np.asarray(pool, dtype=np.int64)
        self.rng = rng
        self.draws = 0

    def draw(self, n: int) -> np.ndarray:
        if len(self.pool) == 0 or n <= 0:
            return np.zeros(0, np.int64)
        self.draws += 1
        replace = n > len(self.pool)
        return self.pool[self.rng.choice(len(self.pool), size=n, replace=replace)]


def _single_blas_thread():
    try:
        from threadpoolctl import threadpool_limits

        return threadpool_limits(1, user_api="blas")
    except Exception:  # noqa: BLE001 - optional: without it training is only slower under load
        import contextlib

        return contextlib.nullcontext()


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # stable for any z


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, np.float64), 1e-7, 1 - 1e-7)
    return np.log(p) - np.log1p(-p)


class _MLP:
    """Dense ReLU layers with dropout, one logit output.  Parameters: ``[W0, b0, W1, b1, ...]``."""

    def __init__(self, params: list[np.ndarray]):
        self.params = params

    @classmethod
    def init(cls, d_in: int, hidden: Sequence[int], rng: np.random.Generator) -> "_MLP":
        params = []
        sizes = [d_in, *hidden, 1]
        for a, b in zip(sizes[:-1], sizes[1:]):
            params.append((rng.standard_normal((a, b)) * math.sqrt(2.0 / a)).astype(np.float32))
            params.append(np.zeros(b, np.float32))
        params[-2] *= 0.5 / math.sqrt(2.0)  # a smaller output layer starts near 0.5
        return cls(params)

    def logits(self, X: np.ndarray) -> np.ndarray:
        h = X
        n_layers = len(self.params) // 2
        for k in range(n_layers):
            h = h @ self.params[2 * k] + self.params[2 * k + 1]
            if k < n_layers - 1:
                np.maximum(h, 0, out=h)
        return h[:, 0]

    def loss_grad(self, X, y, w, dropout, rng):
        """Weighted binary cross-entropy (mean by ``w.sum()``) and its gradients."""
        n_layers = len(self.params) // 2
        acts, masks = [X], []
        h = X
        for k in range(n_layers):
            h = h @ self.params[2 * k] + self.params[2 * k + 1]
            if k < n_layers - 1:
                np.maximum(h, 0, out=h)
                if dropout > 0:
                    m = (rng.random(h.shape, dtype=np.float32) >= dropout).astype(np.float32) / (1 - dropout)
                    h = h * m
                else:
                    m = None
                masks.append(m)
                acts.append(h)
        z = h[:, 0]
        wsum = float(w.sum())
        loss = float(np.sum(w * (np.logaddexp(0, z) - y * z)) / wsum)
        dz = ((_sigmoid(z) - y) * w / wsum).astype(np.float32)[:, None]
        grads = [None] * len(self.params)
        g = dz
        for k in range(n_layers - 1, -1, -1):
            grads[2 * k] = acts[k].T @ g
            grads[2 * k + 1] = g.sum(axis=0)
            if k > 0:
                g = g @ self.params[2 * k].T
                g = g * (acts[k] > 0)
                if masks[k - 1] is not None:
                    g = g * masks[k - 1]
        return loss, grads


class _Adam:
    def __init__(self, params, lr, weight_decay, b1=0.9, b2=0.999, eps=1e-8):
        self.params, self.lr, self.wd, self.b1, self.b2, self.eps = params, lr, weight_decay, b1, b2, eps
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0

    def step(self, grads):
        self.t += 1
        c1 = 1 - self.b1 ** self.t
        c2 = 1 - self.b2 ** self.t
        lr_t = self.lr * math.sqrt(c2) / c1  # bias corrections folded into the step size
        eps = self.eps * math.sqrt(c2)
        for i, (p, g) in enumerate(zip(self.params, grads)):
            m, v = self.m[i], self.v[i]
            m *= self.b1
            m += (1 - self.b1) * g
            v *= self.b2
            g = g * g  # a new array: the caller's gradient is left alone
            g *= 1 - self.b2
            v += g
            np.sqrt(v, out=g)
            g += eps
            np.divide(m, g, out=g)
            g *= lr_t
            if self.wd and p.ndim == 2:
                p *= 1 - self.lr * self.wd
            p -= g


# --------------------------------------------------------------------------- the recommender


def _fingerprint(liked: Iterable, disliked: Iterable) -> str:
    h = hashlib.sha1()
    h.update(json.dumps(sorted(map(str, liked))).encode())
    h.update(b"|")
    h.update(json.dumps(sorted(map(str, disliked))).encode())
    return h.hexdigest()


def _unit_rows(A: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(A, axis=1, keepdims=True)
    return A / np.maximum(n, 1e-12)


class Recommender:
    """A per-user model of taste over window embeddings.  See the module docstring."""

    def __init__(self, config: RecommenderConfig | None = None):
        self.config = config or RecommenderConfig()
        self.members: list[_MLP] = []
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None
        self.liked: list = []  #: liked ids (analysed ones, used in training)
        self.disliked: list = []
        self.liked_all: list = []  #: every liked id given (the fingerprint is over these)
        self.disliked_all: list = []
        self.model_version = ""
        self.info: dict[str, Any] = {}
        self.calibration: dict[str, tuple[float, float]] | None = None  #: see _calibrate
        self._sim_cache = None

    # ------------------------------------------------------------------ training

    @property
    def fingerprint(self) -> str:
        return _fingerprint(self.liked_all, self.disliked_all)

    @property
    def is_fitted(self) -> bool:
        return bool(self.members)

    def fit(self, vectors: TrackVectors, liked_ids: Iterable[Hashable], disliked_ids: Iterable[Hashable] = (),
            *, seed: int = 0) -> "Recommender":
        """Train on ``vectors`` from the liked (and disliked) tracks.

        Raises :class:`NoLikes` when no liked track is analysed and :class:`NothingToRecommend`
        when every analysed track is liked.
        """
        t0 = time.perf_counter()
        cfg = self.config
        liked_all = list(dict.fromkeys(liked_ids))
        liked_set = set(liked_all)
        disliked_all = [t for t in dict.fromkeys(disliked_ids) if t not in liked_set]
        if not liked_all:
            raise NoLikes("No liked tracks yet: like a few tracks you enjoy (at least 3 to 5) "
                          "and recommendations will follow.")
        pos_rows = vectors.rows(liked_all)
        if len(pos_rows) == 0:
            raise NoLikes(f"None of your {len(liked_all)} liked track(s) has been analysed yet; "
                          "run the analysis first (python main.py analyze) or like analysed tracks.")
        dis_rows = vectors.rows(disliked_all)
        hard = dis_rows if cfg.dislike_weight > 0 else np.zeros(0, np.int64)  # else: ordinary "other" tracks
        other = np.setdiff1d(np.arange(len(vectors)), np.concatenate([pos_rows, hard]))
        if len(other) == 0 and len(hard) == 0:
            raise NothingToRecommend("Every analysed track is already liked: there is nothing left to "
                                     "recommend. Add music to the library (or analyse more of it).")
        self.liked = [vectors.ids[r] for r in pos_rows]
        self.disliked = [vectors.ids[r] for r in dis_rows]
        self.liked_all, self.disliked_all = liked_all, disliked_all
        self.model_version = vectors.model_version

        X = vectors.X
        # Standardise with library statistics (robust to the all-positive ReLU embeddings).
        sample = X if len(X) <= 20_000 else X[:: len(X) // 20_000]  # a spread-out sample is plenty
        self.mean = sample.mean(axis=0).astype(np.float32)
        self.std = (sample.std(axis=0) + 1e-3 * (sample.std() + 1e-6)).astype(np.float32)

        pos_w_idx = vectors.windows_of(pos_rows)
        n_win = vectors.n_windows
        if cfg.balance_tracks:
            per_track = 1.0 / n_win[pos_rows]
            pos_weight = np.repeat(per_track, n_win[pos_rows])
            pos_weight *= len(pos_weight) / pos_weight.sum()  # mean 1
        else:
            pos_weight = np.ones(len(pos_w_idx))
        dis_w_idx = vectors.windows_of(hard)
        neg_pool = vectors.windows_of(other)

        self.members = []
        draws = 0
        losses = []
        with _single_blas_thread():  # small matrices: BLAS threads only fight the other workers
            for k in range(max(1, cfg.ensemble)):
                rng = np.random.default_rng([seed, k])
                sampler = NegativeSampler(neg_pool, rng)
                net, loss = self._train_member(X, pos_w_idx, pos_weight.astype(np.float32), dis_w_idx,
                                               sampler, rng)
                self.members.append(net)
                draws += sampler.draws
                losses.append(loss)
        self.info = {
            "liked_used": len(pos_rows), "liked_not_analysed": len(liked_all) - len(pos_rows),
            "disliked_used": len(dis_rows), "positive_windows": int(len(pos_w_idx)),
            "negative_draws": draws, "final_loss": float(np.mean(losses)),
            "train_seconds": round(time.perf_counter() - t0, 3), "seed": seed,
        }
        self._fold_standardisation()
        self._calibrate(vectors, pos_rows, seed)
        self.info["train_seconds"] = round(time.perf_counter() - t0, 3)
        return self

    # ------------------------------------------------------------------ the similarity prior
    #
    # The final score blends two standardised scores: the network's (the logit of its mean window
    # output) and the similarity to the liked tracks -- a kernel density of the liked tracks on
    # the standardised mean embeddings, ``log sum_i exp(cos(x, liked_i) / KERNEL_WIDTH)``, which
    # sits between the two similarity baselines of bench/eval_recommender.py (cosine to the
    # centroid of the likes, cosine to the nearest like) and, unlike the centroid, follows a
    # taste with two distinct sides.  Each is standardised by its mean and standard deviation
    # over a sample of the library's non-liked tracks, measured once at fit time and saved with
    # the model, so a track's score never depends on which other tracks are ranked with it.  The
    # weight of the similarity, ``alpha = prior_likes / (prior_likes + n_liked)``, shrinks as
    # likes accumulate: from 5 likes the network has learnt little, from 50 it knows the taste.

    @property
    def alpha(self) -> float:
        k0 = max(0.0, float(self.config.prior_likes))
        n = len(self.liked)
        return k0 / (k0 + n) if k0 > 0 and n else 0.0

    def similarity(self, vectors: TrackVectors, rows: np.ndarray | None = None) -> np.ndarray:
        """Kernel density of the liked tracks at the tracks at ``rows`` (all when None):
        ``log sum_i exp(cos_i / KERNEL_WIDTH)`` over the liked tracks' standardised mean
        embeddings (0 when no liked track is among ``vectors``)."""
        cache = self._sim_cache
        if cache is not None and cache[0] is vectors and cache[1] == len(vectors.X):
            return cache[2] if rows is None else cache[2][rows]
        M = vectors.track_means()
        unit = lambda A: _unit_rows((A - self.mean) / self.std)  # noqa: E731 - as _unit_means
        liked = unit(M[vectors.rows(self.liked)])
        Ur = unit(M if rows is None else M[rows])
        if len(liked) == 0:
            return np.zeros(len(Ur), np.float64)
        with _single_blas_thread():
            z = (Ur @ (liked.T / np.float32(KERNEL_WIDTH))).astype(np.float64)
        top = z.max(axis=1, keepdims=True)
        sim = (top + np.log(np.exp(z - top).sum(axis=1, keepdims=True)))[:, 0]
        if rows is None:  # the whole library: kept for the ranking's second pass
            self._sim_cache = (vectors, len(vectors.X), sim)
        return sim

    def _calibrate(self, vectors: TrackVectors, pos_rows: np.ndarray, seed: int) -> None:
        self.calibration = None
        if self.alpha <= 0:
            return
        rows = np.setdiff1d(np.arange(len(vectors)), pos_rows)
        if len(rows) < 2:
            return  # nothing to standardise over: the network alone
        if len(rows) > CALIBRATION_SAMPLE:
            rows = np.sort(np.random.default_rng([seed, 7919]).choice(rows, CALIBRATION_SAMPLE, replace=False))
        ms = lambda a: (float(np.mean(a)), float(np.std(a)) + 1e-6)  # noqa: E731
        self.calibration = {"net": ms(_logit(self._window_mean_scores(vectors, rows))),
                            "similarity": ms(self.similarity(vectors, rows))}

    def _blend(self, net_scores: np.ndarray, vectors: TrackVectors, rows: np.ndarray | None = None) -> np.ndarray:
        """The final score from the network's mean window output of the tracks at ``rows``."""
        cal = self.calibration
        if not cal:
            return np.asarray(net_scores, np.float32)
        a = self.alpha
        (mn, sn), (ms_, ss) = cal["net"], cal["similarity"]
        z_net = (_logit(net_scores) - mn) / sn
        z_sim = (self.similarity(vectors, rows) - ms_) / ss
        return _sigmoid((1 - a) * z_net + a * z_sim).astype(np.float32)

    def _train_member(self, X, pos_idx, pos_w, dis_idx, sampler: NegativeSampler, rng):
        cfg = self.config
        net = _MLP.init(X.shape[1], cfg.hidden, rng)
        opt = _Adam(net.params, cfg.learning_rate, cfg.weight_decay)
        mean, std = self.mean, self.std
        loss = float("nan")
        n_pos = min(len(pos_idx), cfg.max_positives)
        n_per_epoch = n_pos + max(n_pos, cfg.min_negatives) + len(dis_idx)
        steps_per_epoch = max(1, math.ceil(n_per_epoch / cfg.batch_size))
        epochs = max(cfg.epochs, min(cfg.max_epochs, math.ceil(cfg.min_steps / steps_per_epoch)))
        for _ in range(epochs):
            p_idx, p_w = pos_idx, pos_w
            if len(p_idx) > cfg.max_positives:
                sel = rng.choice(len(p_idx), cfg.max_positives, replace=False)
                p_idx, p_w = p_idx[sel], p_w[sel]
            n_pos = len(p_idx)
            # fresh random negatives every epoch, as many as positives (at least min_negatives)
            neg = sampler.draw(max(n_pos, cfg.min_negatives))
            idx = np.concatenate([p_idx, neg, dis_idx])
            y = np.concatenate([np.ones(n_pos), np.zeros(len(neg) + len(dis_idx))]).astype(np.float32)
            w_neg = np.full(len(neg), p_w.sum() / max(len(neg), 1))  # class balance: negatives weigh as much
            w_dis = np.full(len(dis_idx), cfg.dislike_weight * p_w.mean())
            w = np.concatenate([p_w, w_neg, w_dis]).astype(np.float32)
            order = rng.permutation(len(idx))
            batch = cfg.batch_size
            epoch_loss = 0.0
            for s in range(0, len(order), batch):
                b = order[s : s + batch]
                xb = (X[idx[b]] - mean) / std
                loss_b, grads = net.loss_grad(xb, y[b], w[b], cfg.dropout, rng)
                opt.step(grads)
                epoch_loss += loss_b * len(b)
            loss = epoch_loss / len(order)
        return net, loss

    def _fold_standardisation(self):
        """Inference weights with the standardisation folded into the first layer."""
        self._score_cache = None
        self._sim_cache = None
        self._shortlist_cache = None
        self._infer = []
        for net in self.members:
            W0, b0 = net.params[0], net.params[1]
            W0f = (W0 / self.std[:, None]).astype(np.float32)
            b0f = (b0 - (self.mean / self.std) @ W0).astype(np.float32)
            self._infer.append(_MLP([W0f, b0f, *net.params[2:]]))

    # ------------------------------------------------------------------ scoring and ranking

    def _check(self, vectors: TrackVectors):
        if not self.members:
            raise RecommenderError("the recommender has not been trained yet")
        if vectors.dim != len(self.mean):
            raise RecommenderError(f"the embeddings have {vectors.dim} dimensions, the profile's model "
                                   f"{len(self.mean)}: retrain it")

    def window_scores(self, vectors: TrackVectors, chunk: int = 16384) -> np.ndarray:
        self._check(vectors)
        out = np.empty(len(vectors.X), np.float32)
        with _single_blas_thread():  # measured: one thread does the same work in less CPU time
            for s in range(0, len(vectors.X), chunk):
                xb = vectors.X[s : s + chunk]
                acc = np.zeros(len(xb), np.float32)
                for net in self._infer:
                    acc += _sigmoid(net.logits(xb))
                out[s : s + chunk] = acc / len(self._infer)
        return out

    def score(self, vectors: TrackVectors) -> np.ndarray:
        """``(n,)`` score of every track of ``vectors``, in (0, 1), higher is better: the mean
        over its windows of the network's sigmoid, blended with the similarity to the liked
        tracks while the likes are few (``config.prior_likes``; see ``_calibrate``).

        Cached per ``vectors`` object: ranking again with the same model (say, with a track just
        liked passed in ``exclude`` while the retraining runs) costs only the ranking pass.
        """
        if len(vectors) == 0:
            return np.zeros(0, np.float32)
        cache = getattr(self, "_score_cache", None)
        if cache is not None and cache[0] is vectors and cache[1] == len(vectors.X):
            return cache[2]
        w = self.window_scores(vectors)
        s = self._blend(np.add.reduceat(w, vectors.offsets[:-1]) / vectors.n_windows, vectors)
        self._score_cache = (vectors, len(vectors.X), s)
        return s

    def _unit_means(self, vectors: TrackVectors) -> np.ndarray:
        return _unit_rows((vectors.track_means() - self.mean) / self.std)

    def _window_mean_scores(self, vectors: TrackVectors, rows: np.ndarray) -> np.ndarray:
        """Exact scores (mean over windows) of the tracks at ``rows`` only."""
        idx = vectors.windows_of(rows)
        X = vectors.X[idx]
        acc = np.zeros(len(X), np.float32)
        with _single_blas_thread():
            for net in self._infer:
                acc += _sigmoid(net.logits(X))
        acc /= len(self._infer)
        n = vectors.n_windows[rows]
        starts = np.concatenate([[0], np.cumsum(n)[:-1]])
        return np.add.reduceat(acc, starts) / n

    def _shortlist_scores(self, vectors: TrackVectors, cand: np.ndarray, top: int) -> np.ndarray:
        """Scores for ranking a large library: every candidate is pre-scored once through the
        network at its mean embedding, and the best ``SHORTLIST_PER_ITEM * top`` (at least
        ``SHORTLIST_MIN``) get their exact window-mean score; the others get -inf (never shown).
        About 5x less work than scoring every window of 10,000 tracks."""
        cache = getattr(self, "_shortlist_cache", None)
        key = (id(vectors), len(vectors.X), top)
        if cache is not None and cache[0] == key and cache[1] is vectors:
            return cache[2]
        k = max(SHORTLIST_MIN, SHORTLIST_PER_ITEM * top)
        M = vectors.track_means()
        pre_c = np.zeros(len(cand), np.float32)
        with _single_blas_thread():
            for net in self._infer:
                pre_c += _sigmoid(net.logits(M[cand]))
        if self.calibration:
            self.similarity(vectors)  # the whole library once (cached): both passes index it
        pre_c = self._blend(pre_c / len(self._infer), vectors, cand)
        short = cand[np.argsort(-pre_c, kind="stable")[:k]]
        short.sort()
        scores = np.full(len(vectors), -np.inf, np.float32)
        scores[short] = self._blend(self._window_mean_scores(vectors, short), vectors, short)
        self._shortlist_cache = (key, vectors, scores)
        return scores

    def rank(self, vectors: TrackVectors, *, top: int = 20, exclude: Iterable[Hashable] = (),
             exact: bool | None = None) -> Ranking:
        """The ``top`` recommendations among ``vectors``, diversified and explained.

        Liked and disliked tracks (and other versions of them) are excluded, as is ``exclude``;
        at most 2 per album and 3 per artist in the first 20; one version of each song.
        Raises :class:`NothingToRecommend` when no candidate is left.

        ``exact``: score every window of every track (default: only when the library has at most
        ``SHORTLIST_ABOVE_WINDOWS`` windows; above, a shortlist by the mean embedding is scored
        exactly, see :meth:`_shortlist_scores`).
        """
        self._check(vectors)
        liked_rows = vectors.rows(self.liked)
        banned = set(self.liked_all) | set(self.disliked_all) | set(exclude)
        cand = np.array([i for i, t in enumerate(vectors.ids) if t not in banned], dtype=np.int64)
        if len(cand) == 0:
            raise NothingToRecommend("Every analysed track is liked or disliked: there is nothing left to "
                                     "recommend. Add music to the library (or analyse more of it).")
        if exact is None:
            exact = len(vectors.X) <= SHORTLIST_ABOVE_WINDOWS or \
                len(cand) <= max(SHORTLIST_MIN, SHORTLIST_PER_ITEM * top)
        cached = getattr(self, "_score_cache", None)
        if exact or (cached is not None and cached[0] is vectors and cached[1] == len(vectors.X)):
            scores = self.score(vectors)
        else:
            scores = self._shortlist_scores(vectors, cand, top)
        n_cand = len(cand)
        cand = cand[np.isfinite(scores[cand])]
        order = cand[np.argsort(-scores[cand], kind="stable")]
        # known versions of liked/disliked songs must not come back as "new"
        seen: dict[tuple, list[float | None]] = {}
        for r in vectors.rows(banned):
            m = vectors.meta[r]
            k = song_key(m)
            if k is not None:
                seen.setdefault(k, []).append(m.duration)
        picked: list[int] = []
        deferred: list[int] = []
        albums: dict[tuple, int] = {}
        artists: dict[str, int] = {}
        dup = 0

        def is_dup(m: TrackMeta) -> bool:
            k = song_key(m)
            if k is None or k not in seen:
                return False
            return any(d is None or m.duration is None or abs(d - m.duration) <= DUPLICATE_SECONDS
                       for d in seen[k])

        def take(r: int) -> None:
            picked.append(r)
            k = song_key(vectors.meta[r])
            if k is not None:
                seen.setdefault(k, []).append(vectors.meta[r].duration)

        # 1. the head: at most 2 per album and 3 per artist, capped tracks deferred
        head = min(top, TOP_CAPPED)
        pos = 0
        while pos < len(order) and len(picked) < head:
            r = int(order[pos])
            pos += 1
            m = vectors.meta[r]
            if is_dup(m):
                dup += 1
                continue
            artist = normalise_artist(m.artist)
            album = (artist, _fold(m.album)) if _fold(m.album or "") else None
            if (album and albums.get(album, 0) >= MAX_PER_ALBUM) or (artist and artists.get(artist, 0) >= MAX_PER_ARTIST):
                deferred.append(r)
                continue
            if album:
                albums[album] = albums.get(album, 0) + 1
            if artist:
                artists[artist] = artists.get(artist, 0) + 1
            take(r)
        # 2. the tail, by score (deferred tracks scored above everything not yet visited)
        for r in [*deferred, *order[pos:].tolist()]:
            if len(picked) >= top:
                break
            if is_dup(vectors.meta[r]):
                dup += 1
                continue
            take(r)
        return self._explain(vectors, scores, liked_rows, picked, n_cand, dup)

    def _explain(self, vectors, scores, liked_rows, picked, n_cand, dup) -> Ranking:
        U = self._unit_means(vectors)
        items = []
        sims = U[np.asarray(picked, np.int64)] @ U[liked_rows].T if picked else np.zeros((0, 0))
        for j, r in enumerate(picked):
            near = []
            if len(liked_rows):
                top_k = np.argsort(-sims[j], kind="stable")[:N_NEAREST]
                near = [(vectors.ids[liked_rows[i]], float(sims[j, i])) for i in top_k]
            items.append(Recommendation(vectors.ids[r], float(scores[r]), near, self._genres(vectors, r)))
        return Ranking(items, candidates=n_cand, not_analysed=len(vectors.not_analysed), duplicates_hidden=dup)

    @staticmethod
    def _genres(vectors: TrackVectors, r: int, k: int = 3, floor: float = 0.1) -> list[tuple[str, float]]:
        if vectors.genre_probs is None:
            return []
        p = vectors.genre_probs[r]
        names = vectors.classes or [str(i) for i in range(len(p))]
        order = np.argsort(-p, kind="stable")[:k]
        out = [(names[i], float(p[i])) for i in order if p[i] >= floor]
        return out or [(names[order[0]], float(p[order[0]]))]

    # ------------------------------------------------------------------ persistence

    def save(self, path: str | os.PathLike) -> Path:
        """Write the model to an ``.npz`` atomically (a crash never leaves half a file)."""
        if not self.members:
            raise RecommenderError("nothing to save: the recommender has not been trained")
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        header = {
            "format": FORMAT_VERSION, "config": self.config.as_dict(), "liked": self.liked,
            "disliked": self.disliked, "liked_all": self.liked_all, "disliked_all": self.disliked_all,
            "model_version": self.model_version, "info": self.info, "n_members": len(self.members),
            "fingerprint": self.fingerprint, "calibration": self.calibration,
        }
        arrays = {"header": np.frombuffer(json.dumps(header, default=str).encode(), dtype=np.uint8),
                  "mean": self.mean, "std": self.std}
        for k, net in enumerate(self.members):
            for j, p in enumerate(net.params):
                arrays[f"m{k}_p{j}"] = p
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Recommender":
        """Read a model saved by :meth:`save`; :class:`CorruptProfile` when it is unusable."""
        path = Path(path)
        if not path.exists():
            raise CorruptProfile(f"{path}: no saved recommender")
        try:
            with np.load(path, allow_pickle=False) as z:
                header = json.loads(bytes(z["header"]).decode())
                if header.get("format") != FORMAT_VERSION:
                    raise StaleProfile(f"{path}: saved by another version of Melograph "
                                       f"(format {header.get('format')!r}); it will be retrained")
                rec = cls(RecommenderConfig.from_dict(header["config"]))
                rec.mean = np.asarray(z["mean"], np.float32)
                rec.std = np.asarray(z["std"], np.float32)
                n_params = 2 * (len(rec.config.hidden) + 1)
                rec.members = [_MLP([np.asarray(z[f"m{k}_p{j}"], np.float32) for j in range(n_params)])
                               for k in range(int(header["n_members"]))]
            if not rec.members:
                raise ValueError("no networks in the file")
            d = len(rec.mean)
            if rec.std.shape != (d,) or rec.members[0].params[0].shape[0] != d:
                raise ValueError("inconsistent shapes")
            for net in rec.members:
                for p in net.params:
                    if not np.all(np.isfinite(p)):
                        raise ValueError("non-finite weights")
            rec.liked, rec.disliked = header["liked"], header["disliked"]
            rec.liked_all, rec.disliked_all = header["liked_all"], header["disliked_all"]
            rec.model_version = header.get("model_version", "")
            rec.info = header.get("info", {})
            cal = header.get("calibration")
            if cal is not None:
                cal = {k: (float(cal[k][0]), float(cal[k][1])) for k in ("net", "similarity")}
                if not all(np.isfinite(v).all() and v[1] > 0 for v in cal.values()):
                    raise ValueError("bad calibration")
            rec.calibration = cal
        except CorruptProfile:
            raise
        except (OSError, ValueError, KeyError, TypeError, IndexError, EOFError, zipfile.BadZipFile,
                json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CorruptProfile(f"{path}: the saved recommender is unreadable ({exc}); "
                                 "it will be rebuilt from your likes") from exc
        rec._fold_standardisation()
        return rec


# --------------------------------------------------------------------------- profiles

DEFAULT_PROFILE = _catalog.DEFAULT_PROFILE
MODEL_FILE = "recommender.npz"


def check_profile_name(name: str) -> str:
    """The catalog's rule (:func:`core.catalog.check_profile_name`), as a RecommenderError."""
    try:
        return _catalog.check_profile_name(name)
    except _catalog.CatalogError as exc:
        raise RecommenderError(str(exc)) from None


class UnknownProfile(RecommenderError):
    pass


def resolve_profile(catalog, name: str | None) -> str:
    """The stored name of profile ``name`` in ``catalog`` (names match regardless of case;
    None: the catalog's current profile).  :class:`UnknownProfile` when there is none."""
    check_profile_name(name or DEFAULT_PROFILE)
    try:
        return catalog.find_profile(name)
    except _catalog.CatalogError as exc:
        raise UnknownProfile(str(exc)) from None


class ProfileStore:
    """One recommender file per profile under ``<data_dir>/profiles/<name>/``.

    The likes are the truth (they live in the catalog); a model file is only a cache of the
    training, rebuilt whenever it is missing, corrupt, or trained from other likes.
    """

    def __init__(self, data_dir: str | os.PathLike):
        self.root = Path(data_dir) / "profiles"

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir())

    def path(self, name: str) -> Path:
        return self.root / check_profile_name(name) / MODEL_FILE

    def remove(self, name: str) -> bool:
        """Forget a profile's saved model (a cache: the likes live in the catalog)."""
        import shutil

        d = self.root / check_profile_name(name)
        if not d.is_dir():
            return False
        shutil.rmtree(d, ignore_errors=True)
        return True

    def rename(self, old: str, new: str) -> bool:
        """Move a profile's saved model along with a renamed profile (best effort: a model
        left behind is only retrained)."""
        src, dst = self.root / check_profile_name(old), self.root / check_profile_name(new)
        if not src.is_dir() or src == dst:
            return False
        try:
            if dst.exists():
                self.remove(new)
            os.replace(src, dst)
            return True
        except OSError:
            return False

    def create(self, name: str) -> Path:
        d = self.root / check_profile_name(name)
        d.mkdir(parents=True, exist_ok=True)
        return d

    def load(self, name: str) -> Recommender:
        return Recommender.load(self.path(name))

    def load_or_fit(self, name: str, vectors: TrackVectors, liked_ids: Iterable[Hashable],
                    disliked_ids: Iterable[Hashable] = (), *, config: RecommenderConfig | None = None,
                    seed: int = 0) -> tuple[Recommender, str]:
        """The profile's model for these likes: ``(recommender, how)`` where ``how`` is
        ``"loaded"`` (saved and current), ``"trained"`` (none saved, or the likes changed) or
        ``"rebuilt"`` (the saved file was corrupt)."""
        liked = list(dict.fromkeys(liked_ids))
        disliked = [t for t in dict.fromkeys(disliked_ids) if t not in set(liked)]
        path = self.path(name)
        how = "trained"
        if path.exists():
            try:
                rec = Recommender.load(path)
                same_data = (rec.model_version == vectors.model_version and len(rec.mean) == vectors.dim)
                # likes compare as strings: JSON round-trips ids
                if same_data and rec.fingerprint == _fingerprint(liked, disliked) and \
                        (config or RecommenderConfig()).as_dict() == rec.config.as_dict():
                    return rec, "loaded"
            except StaleProfile:
                how = "trained"
            except CorruptProfile:
                how = "rebuilt"
        rec = Recommender(config).fit(vectors, liked, disliked, seed=seed)
        rec.save(path)
        return rec, how


# --------------------------------------------------------------------------- background retraining


class RetrainScheduler:
    """Debounced background retraining, plain Python (``threading.Timer``; wrap it in Qt yourself).

    Call :meth:`notify` whenever likes or dislikes change; once they have stopped changing for
    ``delay`` seconds, ``job()`` runs on a worker thread (at most one at a time) and its result
    goes to ``on_result(result)`` (or the exception to ``on_error(exc)``), on that worker thread.
    A change that arrives while a job runs schedules one more run afterwards; a result that was
    overtaken by a newer change is dropped rather than delivered stale.

    ``job`` is typically ``lambda: store.load_or_fit(profile, vectors, likes(), dislikes())[0]
    .rank(vectors, top=50)`` reading the likes from the catalog at the time it runs.
    """

    def __init__(self, job: Callable[[], Any], on_result: Callable[[Any], None],
                 on_error: Callable[[BaseException], None] | None = None, *, delay: float = 1.0):
        self.job, self.on_result, self.on_error, self.delay = job, on_result, on_error, float(delay)
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._generation = 0
        self._running = False
        self._pending = False
        self._closed = False
        self._idle = threading.Event()
        self._idle.set()

    def notify(self) -> None:
        """Likes changed: (re)start the quiet-period timer."""
        with self._lock:
            if self._closed:
                return
            self._generation += 1
            self._idle.clear()
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self.delay, self._fire)
            self._timer.daemon = True
            self._timer.start()

    def _fire(self) -> None:
        with self._lock:
            self._timer = None
            if self._closed:
                self._idle.set()
                return
            if self._running:
                self._pending = True
                return
            self._running = True
            gen = self._generation
        try:
            result, error = self.job(), None
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            result, error = None, exc
        with self._lock:
            self._running = False
            stale = gen != self._generation or self._closed
            again = self._pending and not self._closed
            self._pending = False
        if not stale:
            try:
                if error is None:
                    self.on_result(result)
                elif self.on_error is not None:
                    self.on_error(error)
            except Exception:  # noqa: BLE001 - a broken callback must not kill the scheduler
                import logging

                logging.getLogger(__name__).exception("recommendation callback failed")
        with self._lock:
            if again or (stale and not self._closed and self._timer is None):
                # a change arrived while training: train once more on the latest likes
                self._timer = threading.Timer(0.0 if again else self.delay, self._fire)
                self._timer.daemon = True
                self._timer.start()
            elif self._timer is None:
                self._idle.set()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no retraining is scheduled or running (for tests and shutdown)."""
        return self._idle.wait(timeout)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if not self._running:
                self._idle.set()


# --------------------------------------------------------------------------- catalog wiring


class NotAnalysed(RecommenderError):
    """No analysis results (window embeddings) in the catalog yet."""


def _shipped_model_version() -> str | None:
    """The shipped genre model's version from its card (plain JSON: no TensorFlow)."""
    card = Path(__file__).resolve().parent.parent / "models" / "shipped" / "card.json"
    try:
        return str(json.loads(card.read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def vectors_from_catalog(catalog, *, model_version: str | None = None,
                         max_windows: int | None = MAX_WINDOWS) -> TrackVectors:
    """TrackVectors of every present track of ``catalog`` (a ``core.catalog.Catalog``).

    Embeddings come from the analysis results of ``model_version`` (default: the shipped model's
    version when the catalog has results for it, else the version with the most results).
    Tracks without a result are counted in ``not_analysed``.  Raises :class:`NotAnalysed` when
    the catalog has no analysis results at all.  (:class:`VectorCache` does the same and only
    reads what changed since its last call.)
    """
    return VectorCache(max_windows=max_windows).vectors(catalog, model_version=model_version)




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

    def vectors(self, catalog, *, model_version: str | None = None) -> TrackVectors:
        with self._lock:
            versions = catalog.analysis_version_counts()
            counts = dict(versions)
            if model_version is None:
                shipped = _shipped_model_version()
                model_version = shipped if shipped in counts else (versions[0][0] if versions else None)
            if not counts.get(model_version):
                raise NotAnalysed("No track has been analysed yet"
                                  + (f" with the genre model {model_version}" if model_version else "")
                                  + ": run the analysis first (python main.py analyze), then ask again.")
            if model_version != self._version:
                self._arrays.clear()
                self._classes = None
                self._version = model_version
            tracks = catalog.tracks(include_missing=False, sort="artist")
            done = catalog.analysed_fingerprints(model_version)
            for fp in [fp for fp in self._arrays if fp not in done]:  # results removed
                del self._arrays[fp]
            wanted = sorted({t.fingerprint for t in tracks if t.fingerprint in done and t.fingerprint not in self._arrays})
            for fp, classes, probs, e in catalog.analysis_arrays(model_version, wanted):
                if self._classes is None:
                    self._classes = classes
                if e.ndim == 1:
                    e = e[None]
                if self.max_windows and len(e) > self.max_windows:  # pick before converting
                    e = e[np.linspace(0, len(e) - 1, self.max_windows).round().astype(int)]
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


def ratings_from_catalog(catalog, profile: str | None = None) -> tuple[list, list]:
    """(liked track ids, disliked track ids) of ``profile`` (default: the catalog's current
    profile) from the catalog's ratings (attached ones only)."""
    liked, disliked = [], []
    for r in catalog.ratings(profile=profile, include_detached=False):
        (liked if r.rating > 0 else disliked).append(r.track_id)
    return liked, disliked


class LibraryRecommender:
    """Long-lived recommendations over a catalog (one per app): caches the library's vectors
    (:class:`VectorCache`) and each profile's model in memory between calls, so a call after a
    like costs one retraining plus one ranking, and a call with unchanged likes only the ranking
    (or nothing: the scores are cached too).

        lib = LibraryRecommender(data_dir)
        ranking, info = lib.recommend(catalog, profile="Anna", top=20)   # on a worker thread

    Each profile learns from its own likes (``catalog.ratings(profile=...)``) and keeps its own
    model, in memory and under ``<data dir>/profiles/<name>/``.
    """

    def __init__(self, data_dir: str | os.PathLike, *, config: RecommenderConfig | None = None):
        self.store = ProfileStore(data_dir)
        self.config = config
        self.cache = VectorCache()
        self._models: dict[str, Recommender] = {}
        self._lock = threading.Lock()

    def recommend(self, catalog, *, profile: str | None = None, top: int = 20) -> tuple[Ranking, dict]:
        """``(ranking, info)`` for ``profile`` (default: the catalog's current profile); see
        :func:`recommend_from_catalog`."""
        with self._lock:
            profile = resolve_profile(catalog, profile)
            liked, disliked = ratings_from_catalog(catalog, profile)
            if not liked:
                who = "" if profile == DEFAULT_PROFILE else f" in profile '{profile}'"
                raise NoLikes(f"No liked tracks{who} yet: like a few tracks you enjoy (at least 3 to 5) "
                              "and recommendations will follow.")
            vectors = self.cache.vectors(catalog)
            rec = self._models.get(profile)
            cfg = self.config or RecommenderConfig()
            if (rec is not None and rec.fingerprint == _fingerprint(liked, disliked)
                    and rec.model_version == vectors.model_version and len(rec.mean) == vectors.dim
                    and rec.config.as_dict() == cfg.as_dict()):
                how = "cached"
            else:
                rec, how = self.store.load_or_fit(profile, vectors, liked, disliked, config=self.config)
                self._models[profile] = rec
            ranking = rec.rank(vectors, top=top)
            info = {
                "profile": profile, "model": how, "liked": len(liked), "disliked": len(disliked),
                "liked_not_analysed": len(liked) - len(rec.liked), "analysed": len(vectors),
                "not_analysed": len(vectors.not_analysed), "model_version": vectors.model_version,
            }
            return ranking, info


def recommend_from_catalog(catalog, data_dir: str | os.PathLike, *, profile: str | None = None,
                           top: int = 20, config: RecommenderConfig | None = None) -> tuple[Ranking, dict]:
    """Everything ``recommend`` needs, in one call (safe on a worker thread with a catalog
    connection of its own; an app should keep one :class:`LibraryRecommender` instead, which
    caches between calls).  Returns ``(ranking, info)``; ``info`` has ``profile``, ``model``
    ("loaded", "trained", "rebuilt", or "cached" from a LibraryRecommender), ``liked``,
    ``disliked``, ``liked_not_analysed``, ``not_analysed``, ``analysed``, ``model_version``.
    Raises a :class:`RecommenderError` (``NotAnalysed``, ``NoLikes``, ``NothingToRecommend``,
    ``UnknownProfile``) whose text is the sentence to show.  ``profile`` None: the catalog's
    current profile.
    """
    return LibraryRecommender(data_dir, config=config).recommend(catalog, profile=profile, top=top)
