"""Per-clip hand-made features for the non-deep floor, computed from the same log-mel.

Frame-level descriptors (per column of the dB log-mel): 20 MFCCs (``core.features.mfcc_from_logmel``),
their first differences' magnitude, and spectral descriptors over the mel axis computed on the
power recovered from dB (centroid, bandwidth, roll-off 85%, flatness, 6 band contrasts, loudness
and its frame-to-frame change).  Each descriptor is summarised over the clip by mean, standard
deviation, skew, kurtosis, median, min and max (``medians=False`` leaves the medians out: they are
the floor's only statistics that need a sort over time, which makes them most of its cost inside a
LiteRT model; ``shape=False`` leaves skew and kurtosis out: of all the statistics they move most
when one song comes in another format, as a codec's ~1 dB of noise per cell reshapes a
descriptor's distribution; the shipped floor leaves both out).

``smooth`` (odd, 1 = off) first averages the log-mel over that many neighbouring columns (edges
repeated).  The front end samples the frames as the training arrays do
(``core.features.sample_time``), so the shipped floor uses ``smooth=1``.
"""
from __future__ import annotations

import numpy as np

from core.features import mfcc_from_logmel

#: a descriptor whose variance is at most (DEGENERATE_REL * mean)**2 + DEGENERATE_ABS over the window
#: (a standard deviation below ~1e-5 of its size) is constant: skew and kurtosis are 0
DEGENERATE_REL = 1e-5
DEGENERATE_ABS = 1e-10


def _frame_descriptors(S: np.ndarray, n_mfcc: int = 20) -> np.ndarray:
    """``(n_descriptors, n_columns)`` for one log-mel ``S`` (128, n_columns) in dB."""
    S = np.asarray(S, np.float32)
    mf = mfcc_from_logmel(S=S, n_mfcc=n_mfcc)
    dmf = np.abs(np.diff(mf, axis=1, prepend=mf[:, :1]))
    P = 10.0 ** (S / 10.0)  # relative power
    bins = np.arange(S.shape[0], dtype=np.float32)[:, None]
    tot = P.sum(axis=0, keepdims=True) + 1e-10
    centroid = (P * bins).sum(axis=0, keepdims=True) / tot
    bandwidth = np.sqrt((P * (bins - centroid) ** 2).sum(axis=0, keepdims=True) / tot)
    cum = np.cumsum(P, axis=0) / tot
    rolloff = (cum < 0.85).sum(axis=0, keepdims=True).astype(np.float32)
    flatness = np.exp(np.log(P + 1e-10).mean(axis=0, keepdims=True)) / (P.mean(axis=0, keepdims=True) + 1e-10)
    bands = np.array_split(S, 6, axis=0)
    contrast = np.stack([np.percentile(b, 90, axis=0) - np.percentile(b, 10, axis=0) for b in bands])
    loud = S.mean(axis=0, keepdims=True)
    dloud = np.abs(np.diff(loud, axis=1, prepend=loud[:, :1]))
    return np.concatenate([mf, dmf, centroid, bandwidth, rolloff, flatness, contrast, loud, dloud]).astype(np.float32)


def clip_features(S: np.ndarray, n_mfcc: int = 20, medians: bool = True, shape: bool = True) -> np.ndarray:
    """One feature vector per clip: the 7 statistics of every frame descriptor (without the
    medians 6, without skew and kurtosis 2 fewer)."""
    D = _frame_descriptors(S, n_mfcc).astype(np.float64)
    mean = D.mean(1)
    c = D - mean[:, None]
    m2, m3, m4 = (c**2).mean(1), (c**3).mean(1), (c**4).mean(1)
    ok = m2 > (DEGENERATE_REL * mean) ** 2 + DEGENERATE_ABS
    safe = np.where(ok, m2, 1.0)
    skew = np.where(ok, m3 / safe**1.5, 0.0)
    kurt = np.where(ok, m4 / safe**2 - 3.0, 0.0)
    feats = ([mean, np.sqrt(m2)] + ([skew, kurt] if shape else []) + ([np.median(D, 1)] if medians else [])
             + [D.min(1), D.max(1)])
    return np.concatenate(feats).astype(np.float32)


def features_of(X: np.ndarray, n_mfcc: int = 20) -> np.ndarray:
    return np.stack([clip_features(S, n_mfcc) for S in X])


def band_features(S: np.ndarray, n_bands: int = 16, medians: bool = True) -> np.ndarray:
    """Mean, std, median (unless ``medians`` is false) and mean absolute change of the log-mel
    averaged into ``n_bands`` groups."""
    S = np.asarray(S, np.float32)
    B = S.reshape(n_bands, S.shape[0] // n_bands, -1).mean(1).astype(np.float64)
    dB = np.abs(np.diff(B, axis=1))
    parts = [B.mean(1), B.std(1)] + ([np.median(B, 1)] if medians else []) + [dB.mean(1)]
    return np.concatenate(parts).astype(np.float32)


def smooth_time(S: np.ndarray, k: int) -> np.ndarray:
    """Moving average of ``S`` (bands, columns) over ``k`` columns (odd), centred, edges repeated."""
    if k <= 1:
        return np.asarray(S, np.float32)
    if k % 2 == 0:
        raise ValueError("the smoothing width must be odd")
    h = k // 2
    P = np.pad(np.asarray(S, np.float32), ((0, 0), (h, h)), mode="edge")
    W = P.shape[1] - 2 * h
    return (sum(P[:, i : i + W] for i in range(k)) / np.float32(k)).astype(np.float32)


def window_features(S: np.ndarray, n_mfcc: int = 20, n_bands: int = 16, smooth: int = 1,
                    medians: bool = True, shape: bool = True) -> np.ndarray:
    """The floor's features of one window: ``clip_features`` then ``band_features`` of the
    (optionally time-smoothed) log-mel -- the same numbers as ``models.layers.ClipStatistics``."""
    S = smooth_time(S, smooth)
    return np.concatenate([clip_features(S, n_mfcc, medians, shape), band_features(S, n_bands, medians)])


def window_features_of(X: np.ndarray, n_mfcc: int = 20, n_bands: int = 16, smooth: int = 1,
                       medians: bool = True, shape: bool = True) -> np.ndarray:
    return np.stack([window_features(S, n_mfcc, n_bands, smooth, medians, shape) for S in X])
