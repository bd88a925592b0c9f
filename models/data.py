"""Genre data sets in the shared npz format, windows and augmentation (numpy only).

The npz format (``../shared/data/README.md``): ``X`` (n, 128, n_columns) dB log-mel in [-80, 0],
``y`` int class index into ``genres``, ``genres`` class names; optional ``ids`` and ``split``.
"""
from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.features import N_MELS, TOP_DB, windows

DEFAULT_NPZ = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "gtzan_logmel" / "gtzan_logmel_trainval.npz"


class DataError(ValueError):
    """A data file that cannot be used, with a one-line reason."""


@dataclass
class GenreData:
    X: np.ndarray  # (n, 128, cols) float16/float32 dB
    y: np.ndarray  # (n,) int64
    genres: list[str]
    ids: np.ndarray  # (n,) str
    split: np.ndarray | None  # (n,) str or None
    path: str

    def __len__(self) -> int:
        return len(self.y)

    def subset(self, mask_or_idx) -> "GenreData":
        idx = np.asarray(mask_or_idx)
        return GenreData(self.X[idx], self.y[idx], list(self.genres), self.ids[idx],
                         None if self.split is None else self.split[idx], self.path)

    def part(self, name: str) -> "GenreData":
        if self.split is None:
            raise DataError(f"{self.path}: has no 'split' array, cannot select split {name!r}")
        mask = self.split == name
        if not mask.any():
            raise DataError(f"{self.path}: no clips with split {name!r} (splits: {sorted(set(self.split.tolist()))})")
        return self.subset(mask)


def load_npz(path: str | Path) -> GenreData:
    """Load and validate a genre npz; raises ``DataError`` with a clear one-line reason."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file")
    try:
        d = np.load(path, allow_pickle=False)
        files = set(d.files)
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise DataError(f"{path}: not a readable npz file ({exc.__class__.__name__}: {exc})") from None
    missing = [k for k in ("X", "y", "genres") if k not in files]
    if missing:
        raise DataError(f"{path}: missing array(s) {', '.join(missing)} (need X, y, genres)")
    try:
        X, y, genres = d["X"], d["y"], d["genres"]
        ids = d["ids"] if "ids" in files else None
        split = d["split"] if "split" in files else None
    except (ValueError, OSError, zipfile.BadZipFile) as exc:
        raise DataError(f"{path}: an array cannot be read ({exc})") from None
    if X.ndim != 3 or X.shape[1] != N_MELS:
        raise DataError(f"{path}: X must have shape (n_clips, {N_MELS}, n_columns), got {X.shape}")
    if not np.issubdtype(X.dtype, np.floating):
        raise DataError(f"{path}: X must be floating point dB values, got dtype {X.dtype}")
    if X.shape[0] == 0 or X.shape[2] == 0:
        raise DataError(f"{path}: X is empty (shape {X.shape})")
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise DataError(f"{path}: y must have shape ({X.shape[0]},) to match X, got {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        raise DataError(f"{path}: y must be integer class indices, got dtype {y.dtype}")
    if genres.ndim != 1 or genres.shape[0] < 2:
        raise DataError(f"{path}: genres must be a 1-d list of class names, got shape {genres.shape}")
    if y.min() < 0 or y.max() >= len(genres):
        raise DataError(f"{path}: y has class indices outside 0..{len(genres) - 1}")
    for name, arr in (("ids", ids), ("split", split)):
        if arr is not None and (arr.ndim != 1 or arr.shape[0] != X.shape[0]):
            raise DataError(f"{path}: {name} must have shape ({X.shape[0]},), got {arr.shape}")
    if ids is None:
        ids = np.array([f"clip{i:05d}" for i in range(len(y))])
    return GenreData(X, y.astype(np.int64), [str(g) for g in genres], ids.astype(str),
                     None if split is None else split.astype(str), str(path))


def _id_number(clip_id: str) -> int | None:
    tail = clip_id.rsplit(".", 1)[-1]
    return int(tail) if tail.isdigit() else None


def artist_folds(ids, y, k: int) -> np.ndarray:
    """Fold index (0..k-1) of every clip for cross-validation inside one split, keeping artists
    apart as far as the ids allow.

    GTZAN numbers the clips of one artist consecutively, and the artist-filtered split moved
    whole artists to valid and test, so within one genre of one split a run of consecutive ids
    (``blues.00029`` .. ``blues.00049``) is one or more whole artists.  The runs are dealt out
    whole, largest first, each to the fold that has the fewest clips of that genre so far (of
    those, the one with the fewest clips of all genres, so the folds stay near one size).  Only
    a genre with fewer runs than ``k`` has its longest runs halved, and there an artist can
    straddle two folds.  (Random folds, or equal blocks of ids, let a network recognise the
    artist: a CNN member scored 0.84-0.87 on equal 5-fold id blocks of train against 0.56-0.58 on
    valid.)"""
    ids, y = np.asarray(ids).astype(str), np.asarray(y)
    if k < 2:
        raise ValueError(f"need at least 2 folds, got {k}")
    folds = np.empty(len(y), np.int64)
    total = np.zeros(k, np.int64)
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        if len(idx) < k:
            raise ValueError(f"class {c} has {len(idx)} clips, fewer than {k} folds")
        cid = ids[idx]
        nums = [_id_number(i) for i in cid]
        order = sorted(range(len(idx)), key=lambda t: (nums[t] is None, nums[t] or 0, cid[t]))
        runs, prev = [], None
        for t in order:
            n = nums[t]
            if runs and n is not None and prev is not None and n == prev + 1:
                runs[-1].append(idx[t])
            else:
                runs.append([idx[t]])
            prev = n
        while len(runs) < k:  # too few runs: halve the longest
            runs.sort(key=len)
            longest = runs.pop()
            runs += [longest[: len(longest) // 2], longest[len(longest) // 2:]]
        sizes = np.zeros(k, np.int64)
        for run in sorted(runs, key=len, reverse=True):
            f = min(range(k), key=lambda j: (sizes[j], total[j], j))
            folds[run] = f
            sizes[f] += len(run)
            total[f] += len(run)
    return folds


# --------------------------------------------------------------------------- normalisation


def feature_stats(X: np.ndarray, n_mfcc: int = 20) -> dict:
    """Per-band mean/variance of the log-mel and per-coefficient of the MFCCs over clips and time."""
    from core.features import mfcc_from_logmel

    Xf = np.asarray(X, dtype=np.float32)
    lm_mean = Xf.mean(axis=(0, 2))
    lm_var = Xf.var(axis=(0, 2))
    M = mfcc_from_logmel(S=Xf, n_mfcc=n_mfcc)
    return {"logmel": (lm_mean, np.maximum(lm_var, 1e-6)),
            "mfcc": (M.mean(axis=(0, 2)), np.maximum(M.var(axis=(0, 2)), 1e-6))}


# --------------------------------------------------------------------------- windows


def clip_windows(X: np.ndarray, *, width: int, hop: int) -> tuple[np.ndarray, np.ndarray]:
    """All model windows of every clip: ``(n_windows_total, 128, width)`` and the clip index of each."""
    wins, owner = [], []
    for i, S in enumerate(X):
        w = windows(np.asarray(S, dtype=np.float32), width=width, hop=hop)
        wins.append(w)
        owner.append(np.full(len(w), i))
    return np.concatenate(wins), np.concatenate(owner)


def track_probs(window_probs: np.ndarray, owner: np.ndarray, n_clips: int) -> np.ndarray:
    """Average window probabilities per clip: ``(n_clips, n_classes)``."""
    out = np.zeros((n_clips, window_probs.shape[1]), np.float64)
    np.add.at(out, owner, window_probs)
    counts = np.bincount(owner, minlength=n_clips)[:, None]
    return (out / np.maximum(counts, 1)).astype(np.float32)


def random_crops(X: np.ndarray, y: np.ndarray, *, width: int, per_clip: int, rng: np.random.Generator):
    """``per_clip`` random crops of ``width`` columns from every clip (shuffled)."""
    n, _, cols = X.shape
    idx = np.repeat(np.arange(n), per_clip)
    rng.shuffle(idx)
    if cols <= width:
        pad = np.full((n, X.shape[1], width - cols), -TOP_DB, dtype=np.float32)
        Xp = np.concatenate([np.asarray(X, np.float32), pad], axis=2)
        return Xp[idx], y[idx]
    starts = rng.integers(0, cols - width + 1, size=len(idx))
    out = np.empty((len(idx), X.shape[1], width), np.float32)
    for j, (i, s) in enumerate(zip(idx, starts)):
        out[j] = X[i, :, s : s + width]
    return out, y[idx]


def spec_augment(x: np.ndarray, *, rng: np.random.Generator, freq_masks: int = 2, freq_width: int = 12,
                 time_masks: int = 2, time_width: int = 4, fill: float | None = None) -> np.ndarray:
    """SpecAugment-style masks in place on a batch ``(b, 128, width)``; masked cells get the
    window's mean (or ``fill``)."""
    b, F, T = x.shape
    for k in range(b):
        v = float(x[k].mean()) if fill is None else fill
        for _ in range(freq_masks):
            w = int(rng.integers(0, freq_width + 1))
            if w:
                f0 = int(rng.integers(0, F - w + 1))
                x[k, f0 : f0 + w, :] = v
        for _ in range(time_masks):
            w = int(rng.integers(0, min(time_width, T - 1) + 1))
            if w:
                t0 = int(rng.integers(0, T - w + 1))
                x[k, :, t0 : t0 + w] = v
    return x


def mixup(x: np.ndarray, y_soft: np.ndarray, *, alpha: float, rng: np.random.Generator):
    """Mixup of a batch with a shuffled copy of itself (one lambda per example)."""
    if alpha <= 0:
        return x, y_soft
    lam = rng.beta(alpha, alpha, size=len(x)).astype(np.float32)
    lam = np.maximum(lam, 1 - lam)
    perm = rng.permutation(len(x))
    x = lam[:, None, None] * x + (1 - lam[:, None, None]) * x[perm]
    y_soft = lam[:, None] * y_soft + (1 - lam[:, None]) * y_soft[perm]
    return x.astype(np.float32), y_soft.astype(np.float32)


def same_genre_mix(x: np.ndarray, y: np.ndarray, *, p: float, rng: np.random.Generator,
                   max_db: float = 6.0) -> np.ndarray:
    """Mix a fraction ``p`` of the windows of a batch ``(b, 128, width)`` with another window of
    the same genre (labels unchanged), in place: the two are added as powers, the second
    ``0..max_db`` dB quieter, and the sum is brought back to 0 dB at its loudest cell and clipped to
    [-80, 0] like the front end's output.  A window then sounds like two recordings of the genre
    at once -- new combinations of instruments and production that no one artist of the train
    clips has, which is what a model must cope with on other artists."""
    if p <= 0:
        return x
    y = np.asarray(y)
    partner = np.arange(len(y))
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        partner[idx] = rng.permutation(idx)
    pick = np.flatnonzero((rng.random(len(y)) < p) & (partner != np.arange(len(y))))
    if not len(pick):
        return x
    gain = rng.uniform(-max_db, 0.0, size=(len(pick), 1, 1)).astype(np.float32)
    a = x[pick].astype(np.float32)
    b = x[partner[pick]].astype(np.float32) + gain
    top = np.maximum(a, b)
    mixed = top + 10.0 * np.log10(1.0 + 10.0 ** ((np.minimum(a, b) - top) / 10.0))
    mixed -= mixed.max(axis=(1, 2), keepdims=True)
    x[pick] = np.clip(mixed, -TOP_DB, 0.0)
    return x


def spectral_augment(x: np.ndarray, *, rng: np.random.Generator, eq_db: float = 6.0, shift: int = 2,
                     scale: float = 0.15, low: float | None = -TOP_DB) -> np.ndarray:
    """Recording-condition augmentation in place on ``(b, 128, width)`` dB windows.

    - random EQ: a smooth random curve over the mel axis (3 cosines), up to about ``eq_db`` dB;
    - mel shift: roll the bands by up to ``shift`` bins (edge bands repeated);
    - contrast: scale the dB values by 1 +- ``scale`` around 0 dB (the window's loudest level).
    Results are clipped to [``low``, 0] like the front end's output ([-80, 0]; ``low=None``: only
    the top, for windows already scaled by :func:`contrast_normalise`).
    """
    b, F, _ = x.shape
    f = np.linspace(0, np.pi, F, dtype=np.float32)[None, :]
    if eq_db:
        amp = rng.uniform(-1, 1, size=(b, 3)).astype(np.float32) * (eq_db / 2)
        ph = rng.uniform(0, 2 * np.pi, size=(b, 3)).astype(np.float32)
        curve = sum(amp[:, k : k + 1] * np.cos((k + 1) * f + ph[:, k : k + 1]) for k in range(3))
        x += curve[:, :, None]
    if shift:
        for k, s in enumerate(rng.integers(-shift, shift + 1, size=b)):
            if s > 0:
                x[k, s:] = x[k, :-s].copy()
                x[k, :s] = x[k, s : s + 1]
            elif s < 0:
                x[k, :s] = x[k, -s:].copy()
                x[k, s:] = x[k, s - 1 : s]
    if scale:
        x *= rng.uniform(1 - scale, 1 + scale, size=(b, 1, 1)).astype(np.float32)
    if low is None:
        np.minimum(x, 0.0, out=x)
    else:
        np.clip(x, low, 0.0, out=x)
    return x


#: :func:`contrast_normalise`'s methods and their settings.  "top-bands" (the shipped hybrid's,
#: in front of members trained without it): the two top mel bands (10.2-11 kHz, where resamplers
#: and encoders differ) replaced by the band below them and the min-max stretch redone from the
#: 0.05 % quietest cells of the bands below; "low-min": the min-max stretch redone from the 0.1 %
#: quietest cells of the mel bands below ~9 kHz; "mean": the mean of the bands below ~7 kHz
#: brought to -40 dB (a stronger normalisation that also removes the clip's overall contrast).
NORM_METHODS = ("top-bands", "low-min", "mean")
LOW_MIN_BANDS, LOW_MIN_QUANTILE = 120, 0.001
TOP_BANDS_KEEP, TOP_BANDS_QUANTILE = 126, 0.0005
NORM_BANDS, NORM_REF_DB = 112, -40.0


def norm_method(value) -> str | None:
    """The contrast normalisation a card or option names: None (off), a method of
    ``NORM_METHODS``; ``True`` (the first runs' flag) is ``"mean"``."""
    if value is None or value is False:
        return None
    if value is True:
        return "mean"
    if value not in NORM_METHODS:
        raise ValueError(f"contrast normalisation must be one of {NORM_METHODS}, not {value!r}")
    return str(value)


def low_min_cells(n_columns: int, *, bands: int = LOW_MIN_BANDS, q: float = LOW_MIN_QUANTILE) -> int:
    """How many of the quietest cells "low-min" (and "top-bands") reads: ``q`` of the
    ``bands x n_columns`` cells."""
    return max(1, int(round(q * bands * n_columns)))


def contrast_normalise(X: np.ndarray, *, method: str = "low-min") -> np.ndarray:
    """Undo the front end's min-max stretch on log-mel windows ``(..., 128, cols)`` (new float32).

    The front end's last step maps an excerpt's dB range onto [-80, 0] (``../shared/data/README.md``
    step 4); the dB maximum is 0 already, so the step multiplies every value by
    ``80 / |quietest cell|`` whenever the quietest cell is above -80 dB.  That cell is often in
    the top mel band, which an encoder's or a resampler's low-pass moves by several dB, so such a
    clip comes out 5-25 % more or less contrasted from an MP3 or a 44.1 kHz copy than from the
    original file.  Both methods multiply by a factor that the stretch cancels out of:

    - ``"low-min"``: the same min-max step again, but with a robust minimum of the bands an
      encoder leaves alone -- the ``LOW_MIN_QUANTILE`` quantile of the lowest ``LOW_MIN_BANDS``
      mel bands is brought to -80 dB and what falls below is floored there.  A window whose
      quiet cells reach -80 dB there already (the usual case) is left as it is.
    - ``"top-bands"``: the bands from ``TOP_BANDS_KEEP`` up (10.2-11 kHz: the last ~0.6 kHz below
      22050 Hz's Nyquist, which a resampler's anti-alias filter cuts by 4 to 100 dB and a
      subband MP3 decoder keeps) are replaced by the band below them, and the min-max step is
      redone from the ``TOP_BANDS_QUANTILE`` quantile of the bands below, floored at -80 dB.  The
      answer then no longer depends on how a file reached 22050 Hz.
    - ``"mean"``: the mean of the lowest ``NORM_BANDS`` bands is brought to ``NORM_REF_DB``.

    ``models.layers.ContrastNormalise`` computes the same in Keras."""
    X = np.asarray(X, np.float32)
    if method == "mean":
        m = X[..., :NORM_BANDS, :].mean(axis=(-2, -1), keepdims=True, dtype=np.float64)
        return (X * (np.float64(NORM_REF_DB) / np.minimum(m, -1.0))).astype(np.float32)
    if method == "top-bands":
        X = X.copy()
        X[..., TOP_BANDS_KEEP:, :] = X[..., TOP_BANDS_KEEP - 1 : TOP_BANDS_KEEP, :]
        bands, q = TOP_BANDS_KEEP, TOP_BANDS_QUANTILE
    elif method == "low-min":
        bands, q = LOW_MIN_BANDS, LOW_MIN_QUANTILE
    else:
        raise ValueError(f"contrast normalisation must be one of {NORM_METHODS}, not {method!r}")
    k = low_min_cells(X.shape[-1], bands=bands, q=q)
    flat = X[..., :bands, :].reshape(*X.shape[:-2], -1)
    low = np.partition(flat, k - 1, axis=-1)[..., k - 1][..., None, None]
    out = X * (np.float32(TOP_DB) / np.maximum(-low, 1.0)).astype(np.float32)
    return np.maximum(out, -TOP_DB).astype(np.float32)


def codec_augment(X: np.ndarray, *, rng: np.random.Generator, p: float = 0.7, max_cut_db: float = 40.0,
                  first_cut_band: int = 96, contrast: float = 0.25, tilt_db: float = 3.0) -> np.ndarray:
    """What encoders and resamplers do to a whole clip's log-mel ``(n, 128, cols)`` (in the front
    end's [-80, 0] dB), in place on a fraction ``p`` of the clips: a low-pass (the bands from a
    random band >= ``first_cut_band`` up attenuated along a ramp to up to ``max_cut_db`` dB at the
    top), a contrast factor up to ``1 + contrast`` either way and a spectral tilt of up to
    ``tilt_db`` dB from bottom to top; then the front end's own normalisation again (0 dB at the
    loudest cell, floored at -80 dB, stretched to [-80, 0]) -- so the augmented clip is one that
    the front end could have produced from another copy of the song."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"the codec-augmentation fraction must be between 0 and 1, got {p}")
    n, F, _ = X.shape
    f = np.arange(F, dtype=np.float32)
    for i in np.flatnonzero(rng.random(n) < p):
        start = int(rng.integers(first_cut_band, F))
        ramp = np.clip((f - start + 1) / (F - start), 0.0, 1.0) * np.float32(rng.uniform(0.0, max_cut_db))
        tilt = np.float32(rng.uniform(-tilt_db, tilt_db)) * (f / (F - 1) - 0.5)
        s = np.float32(np.exp(rng.uniform(-np.log1p(contrast), np.log1p(contrast))))
        y = X[i].astype(np.float32) * s + (tilt - ramp)[:, None]
        y -= y.max()
        np.maximum(y, -TOP_DB, out=y)
        lo = float(y.min())
        if lo < -1e-6:
            y *= np.float32(TOP_DB / -lo)
        X[i] = y
    return X


def time_blur(x: np.ndarray, *, p: float, rng: np.random.Generator) -> np.ndarray:
    """Front-end augmentation in place on ``(b, 128, width)`` dB windows: a fraction ``p`` of them
    is averaged over time with the kernel ``[a, 1 - 2a, a]``, ``a`` uniform in [0, 1/3] per window
    (edge columns repeated).  It imitates a front end that averages frames where the arrays
    point-sample them (audio then changes less from column to column than the arrays: 4.5 vs
    5.6 dB); no shipped member uses it."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"the time-blur fraction must be between 0 and 1, got {p}")
    b = len(x)
    pick = np.flatnonzero(rng.random(b) < p)
    if len(pick) == 0:
        return x
    a = rng.uniform(0.0, 1.0 / 3.0, size=(len(pick), 1, 1)).astype(np.float32)
    w = x[pick]
    left = np.concatenate([w[:, :, :1], w[:, :, :-1]], axis=2)
    right = np.concatenate([w[:, :, 1:], w[:, :, -1:]], axis=2)
    x[pick] = a * left + (1.0 - 2.0 * a) * w + a * right
    return x
