"""The per-profile model of taste (pure numpy: no TensorFlow).

A small network (:mod:`core.recommend.network`) is trained on the window embeddings of the liked
tracks (positives) against windows drawn at random from the other tracks (negatives, a fresh draw
every epoch, as many as there are positives), optionally with the disliked tracks' windows as
weighted hard negatives.  A track's score is the mean over its windows of the network's sigmoid
output, blended -- while the likes are few -- with the track's similarity to the liked tracks (a
prior worth ``prior_likes`` likes: weight ``prior_likes / (prior_likes + n_liked)``; see
``Recommender._calibrate``).  Nothing depends on the embedding dimension::

    rec = Recommender().fit(vectors, liked_ids, disliked_ids, seed=0)
    ranking = rec.rank(vectors, top=20)          # Ranking: .items, .not_analysed, ...
    for r in ranking: r.track_id, r.score, r.nearest_liked, r.genres
    rec.save(path); Recommender.load(path)       # npz; CorruptProfile on a bad file
"""
from __future__ import annotations

import contextlib
import dataclasses
import errno
import hashlib
import json
import math
import os
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any, Hashable, Iterable, Iterator

import numpy as np

from core.recommend.errors import CorruptProfile, NoLikes, NothingToRecommend, RecommenderError, StaleProfile
from core.recommend.network import MLP, Adam, NegativeSampler, logit, sigmoid, single_blas_thread
from core.recommend.songs import SeenSongs, fold, normalise_artist
from core.recommend.vectors import TrackMeta, TrackVectors

FORMAT_VERSION = 2  #: 2: the similarity prior's calibration is saved with the networks
KERNEL_WIDTH = 0.2  #: of the similarity prior's kernel density, in cosine (see Recommender.similarity)
CALIBRATION_SAMPLE = 1000  #: tracks whose scores set the scales of the blended score
TOP_CAPPED = 20  #: the album/artist caps apply to this many leading recommendations
MAX_PER_ALBUM = 2
MAX_PER_ARTIST = 3
N_NEAREST = 3  #: liked tracks named in each explanation
SHORTLIST_ABOVE_WINDOWS = 40_000  #: rank() scores a shortlist exactly above this many windows
SHORTLIST_MIN = 1000
SHORTLIST_PER_ITEM = 20


@dataclasses.dataclass
class RecommenderConfig:
    """How a :class:`Recommender` trains; saved with the model (a changed config retrains it)."""

    hidden: tuple[int, ...] = (256, 64)  #: hidden layer widths
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
    #: Listening history as weak signals (``fit(played_ids=..., skipped_ids=...)``): > 0: a track
    #: played through but not rated is an extra positive weighing this much of a like; a track
    #: skipped and not rated an extra hard negative weighing this much of an average liked window.
    #: 0: the history is not used.  Measured (``bench/eval_recommender.py --history``, 30 simulated
    #: listeners per setting): plays at 0.3 raised recall@10 with 5 likes of one genre (+0.058 ±
    #: 0.023) but lowered the AUC with 20 likes of one genre (-0.016 ± 0.006); skips at 0.5 lowered
    #: it in most settings; both together with 20 likes too (-0.026 ± 0.010, with dislikes).  Not
    #: better everywhere, so both are off by default.
    play_weight: float = 0.0
    skip_weight: float = 0.0

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


@dataclasses.dataclass(frozen=True)
class Recommendation:
    """One recommended track with its reasons."""

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


def _distinct(liked: Iterable[Hashable], disliked: Iterable[Hashable]) -> tuple[list, list]:
    """The liked ids once each, and the disliked ones once each that are not also liked."""
    liked = list(dict.fromkeys(liked))
    liked_set = set(liked)
    return liked, [t for t in dict.fromkeys(disliked) if t not in liked_set]


def likes_fingerprint(liked: Iterable, disliked: Iterable) -> str:
    """A digest of the likes and dislikes a model was trained from (ids compared as strings: JSON
    round-trips them), to tell whether a saved model is still current."""
    h = hashlib.sha1()
    h.update(json.dumps(sorted(map(str, liked))).encode())
    h.update(b"|")
    h.update(json.dumps(sorted(map(str, disliked))).encode())
    return h.hexdigest()


def _unit_rows(A: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(A, axis=1, keepdims=True)
    return A / np.maximum(n, 1e-12)


class Recommender:
    """A profile's model of taste over window embeddings.  See the module docstring."""

    def __init__(self, config: RecommenderConfig | None = None):
        self.config = config or RecommenderConfig()
        self.members: list[MLP] = []
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None
        self.liked: list = []  #: liked ids (analysed ones, used in training)
        self.disliked: list = []
        self.liked_all: list = []  #: every liked id given (the fingerprint is over these)
        self.disliked_all: list = []
        self.model_version = ""
        self.info: dict[str, Any] = {}
        self.calibration: dict[str, tuple[float, float]] | None = None  #: see _calibrate
        self._infer: list[MLP] = []  #: the members with the standardisation folded in
        self._score_cache = None
        self._sim_cache = None
        self._shortlist_cache = None

    # ------------------------------------------------------------------ training

    @property
    def fingerprint(self) -> str:
        return likes_fingerprint(self.liked_all, self.disliked_all)

    def is_current(self, vectors: TrackVectors, liked_ids: Iterable[Hashable],
                   disliked_ids: Iterable[Hashable] = (), config: RecommenderConfig | None = None) -> bool:
        """Whether this model is what :meth:`fit` would train now: from these likes and
        dislikes, with ``config`` (None: the default one), on embeddings of ``vectors``' model."""
        return (self.model_version == vectors.model_version and len(self.mean) == vectors.dim
                and self.fingerprint == likes_fingerprint(*_distinct(liked_ids, disliked_ids))
                and (config or RecommenderConfig()).as_dict() == self.config.as_dict())

    def fit(self, vectors: TrackVectors, liked_ids: Iterable[Hashable], disliked_ids: Iterable[Hashable] = (),
            *, seed: int = 0, played_ids: Iterable[Hashable] = (), skipped_ids: Iterable[Hashable] = ()) -> "Recommender":
        """Train on ``vectors`` from the liked (and disliked) tracks, and, when the config gives
        them a weight, the weak signals of the listening history: ``played_ids`` (played through)
        and ``skipped_ids`` (left early); a rated track's rating wins over its history.

        Raises :class:`NoLikes` when no liked track is analysed and :class:`NothingToRecommend`
        when every analysed track is liked.
        """
        t0 = time.perf_counter()
        cfg = self.config
        liked_all, disliked_all = _distinct(liked_ids, disliked_ids)
        if not liked_all:
            raise NoLikes("No liked tracks yet: like a few tracks you enjoy (at least 3 to 5) "
                          "and recommendations will follow.")
        pos_rows = vectors.rows(liked_all)
        if len(pos_rows) == 0:
            raise NoLikes(f"None of your {len(liked_all)} liked track(s) has been analysed yet; "
                          "run the analysis first (python main.py analyze) or like analysed tracks.")
        dis_rows = vectors.rows(disliked_all)
        hard = dis_rows if cfg.dislike_weight > 0 else np.zeros(0, np.int64)  # else: ordinary "other" tracks
        rated = set(liked_all) | set(disliked_all)
        played_rows = vectors.rows([t for t in dict.fromkeys(played_ids) if t not in rated]) \
            if cfg.play_weight > 0 else np.zeros(0, np.int64)
        skipped_rows = vectors.rows([t for t in dict.fromkeys(skipped_ids) if t not in rated]) \
            if cfg.skip_weight > 0 else np.zeros(0, np.int64)
        skipped_rows = np.setdiff1d(skipped_rows, played_rows)
        other = np.setdiff1d(np.arange(len(vectors)), np.concatenate([pos_rows, hard, played_rows, skipped_rows]))
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

        n_win = vectors.n_windows
        train_pos = np.concatenate([pos_rows, played_rows]).astype(np.int64)
        track_w = np.concatenate([np.ones(len(pos_rows)), np.full(len(played_rows), cfg.play_weight)])
        pos_w_idx = vectors.windows_of(train_pos)
        if cfg.balance_tracks:
            pos_weight = np.repeat(track_w / n_win[train_pos], n_win[train_pos])
        else:
            pos_weight = np.repeat(track_w, n_win[train_pos])
        liked_windows = int(n_win[pos_rows].sum())
        pos_weight *= liked_windows / pos_weight[:liked_windows].sum()  # the liked windows' mean: 1
        dis_w_idx = vectors.windows_of(np.concatenate([hard, skipped_rows]).astype(np.int64))
        dis_rel = np.concatenate([np.full(int(n_win[hard].sum()), cfg.dislike_weight),
                                  np.full(int(n_win[skipped_rows].sum()), cfg.skip_weight)]).astype(np.float32)
        neg_pool = vectors.windows_of(other)

        self.members = []
        draws = 0
        losses = []
        with single_blas_thread():  # small matrices: BLAS threads only fight the other workers
            for k in range(max(1, cfg.ensemble)):
                rng = np.random.default_rng([seed, k])
                sampler = NegativeSampler(neg_pool, rng)
                net, loss = self._train_member(X, pos_w_idx, pos_weight.astype(np.float32), dis_w_idx, dis_rel,
                                               sampler, rng)
                self.members.append(net)
                draws += sampler.draws
                losses.append(loss)
        self.info = {
            "liked_used": len(pos_rows), "liked_not_analysed": len(liked_all) - len(pos_rows),
            "disliked_used": len(dis_rows), "played_used": len(played_rows), "skipped_used": len(skipped_rows),
            "positive_windows": int(len(pos_w_idx)),
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
        with single_blas_thread():
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
        self.calibration = {"net": ms(logit(self._window_mean_scores(vectors, rows))),
                            "similarity": ms(self.similarity(vectors, rows))}

    def _blend(self, net_scores: np.ndarray, vectors: TrackVectors, rows: np.ndarray | None = None) -> np.ndarray:
        """The final score from the network's mean window output of the tracks at ``rows``."""
        cal = self.calibration
        if not cal:
            return np.asarray(net_scores, np.float32)
        a = self.alpha
        (mn, sn), (ms_, ss) = cal["net"], cal["similarity"]
        z_net = (logit(net_scores) - mn) / sn
        z_sim = (self.similarity(vectors, rows) - ms_) / ss
        return sigmoid((1 - a) * z_net + a * z_sim).astype(np.float32)

    def _train_member(self, X, pos_idx, pos_w, dis_idx, dis_rel, sampler: NegativeSampler, rng):
        """One network; ``dis_rel``: each hard negative window's weight, in average positive windows."""
        cfg = self.config
        net = MLP.init(X.shape[1], cfg.hidden, rng)
        opt = Adam(net.params, cfg.learning_rate, cfg.weight_decay)
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
            w_dis = dis_rel * p_w.mean()
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
            self._infer.append(MLP([W0f, b0f, *net.params[2:]]))

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
        with single_blas_thread():  # measured: one thread does the same work in less CPU time
            for s in range(0, len(vectors.X), chunk):
                xb = vectors.X[s : s + chunk]
                acc = np.zeros(len(xb), np.float32)
                for net in self._infer:
                    acc += sigmoid(net.logits(xb))
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
        cache = self._score_cache
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
        with single_blas_thread():
            for net in self._infer:
                acc += sigmoid(net.logits(X))
        acc /= len(self._infer)
        n = vectors.n_windows[rows]
        starts = np.concatenate([[0], np.cumsum(n)[:-1]])
        return np.add.reduceat(acc, starts) / n

    def _shortlist_scores(self, vectors: TrackVectors, cand: np.ndarray, top: int) -> np.ndarray:
        """Scores for ranking a large library: every candidate is pre-scored once through the
        network at its mean embedding, and the best ``SHORTLIST_PER_ITEM * top`` (at least
        ``SHORTLIST_MIN``) get their exact window-mean score; the others get -inf (never shown).
        About 5x less work than scoring every window of 10,000 tracks."""
        cache = self._shortlist_cache
        key = (id(vectors), len(vectors.X), top)
        if cache is not None and cache[0] == key and cache[1] is vectors:
            return cache[2]
        k = max(SHORTLIST_MIN, SHORTLIST_PER_ITEM * top)
        M = vectors.track_means()
        pre_c = np.zeros(len(cand), np.float32)
        with single_blas_thread():
            for net in self._infer:
                pre_c += sigmoid(net.logits(M[cand]))
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
             exact: bool | None = None,
             rated_elsewhere: Iterable[tuple[TrackMeta, np.ndarray | None]] = ()) -> Ranking:
        """The ``top`` recommendations among ``vectors``, diversified and explained.

        Liked and disliked tracks (and other versions of them, :func:`core.songs.is_version`:
        by their tags, or by their sound when untagged) are excluded, as is ``exclude``; at most
        2 per album and 3 per artist in the first 20; one version of each song.  Raises
        :class:`NothingToRecommend` when no candidate is left.

        ``rated_elsewhere``: liked or disliked songs that are not among ``vectors`` (their file is
        missing, or not analysed), as ``(meta, window embeddings or None)``: their versions are
        not recommended either.

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
        cached = self._score_cache
        if exact or (cached is not None and cached[0] is vectors and cached[1] == len(vectors.X)):
            scores = self.score(vectors)
        else:
            scores = self._shortlist_scores(vectors, cand, top)
        n_cand = len(cand)
        cand = cand[np.isfinite(scores[cand])]
        order = cand[np.argsort(-scores[cand], kind="stable")]
        # known versions of liked/disliked songs must not come back as "new"
        seen = SeenSongs()
        windows = lambda r: vectors.X[vectors.offsets[r]:vectors.offsets[r + 1]]  # noqa: E731
        for r in vectors.rows(banned):
            seen.add(vectors.meta[r], windows(r))
        for meta, embeddings in rated_elsewhere:
            seen.add(meta, embeddings)
        picked: list[int] = []
        deferred: list[int] = []
        albums: dict[tuple, int] = {}
        artists: dict[str, int] = {}
        dup = 0

        def take(r: int) -> None:
            picked.append(r)
            seen.add(vectors.meta[r], windows(r))

        # 1. the head: at most 2 per album and 3 per artist, capped tracks deferred
        head = min(top, TOP_CAPPED)
        pos = 0
        while pos < len(order) and len(picked) < head:
            r = int(order[pos])
            pos += 1
            m = vectors.meta[r]
            if seen.has(m, windows(r)):
                dup += 1
                continue
            artist = normalise_artist(m.artist)
            album = (artist, fold(m.album)) if fold(m.album or "") else None
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
            if seen.has(vectors.meta[r], windows(r)):
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
        """Write the model to an ``.npz`` atomically: into a temporary file beside it, then
        renamed over it, so a crash never leaves half a file.  A write that fails (a full disk,
        a folder where the file goes, no permission) raises :class:`RecommenderError` in one
        line and leaves nothing behind; the model in memory is still usable."""
        if not self.members:
            raise RecommenderError("nothing to save: the recommender has not been trained")
        path = Path(path)
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
        tmp = None
        try:
            if path.is_dir():
                raise IsADirectoryError(errno.EISDIR, "a folder is in the way", str(path))
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
            with open(fd, "wb") as f:
                np.savez(f, **arrays)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
            tmp = None
        except OSError as exc:
            raise RecommenderError(f"{path}: cannot save the recommender ({exc.strerror or exc}); "
                                   "the recommendations are not affected, it is trained again next time") from exc
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
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
                rec.members = [MLP([np.asarray(z[f"m{k}_p{j}"], np.float32) for j in range(n_params)])
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
