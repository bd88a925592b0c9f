"""The GTZAN-compatible log-mel front end (see ../shared/data/README.md for the recipe).

Training, analysis and display all call these functions; nothing re-implements them.

Shapes: a log-mel array is ``(n_mels, n_columns)`` float32, dB in [-80, 0], row 0 the lowest mel
band, one column = ``FRAMES_PER_COLUMN`` STFT frames (about 77.5 ms), 12.9 columns per second.
"""
from __future__ import annotations

import numpy as np

SR = 22050  #: sample rate the front end works at (Hz)
N_FFT = 2048
HOP_LENGTH = 512
N_MELS = 128
TOP_DB = 80.0
EXCERPT_SAMPLES = 661_500  #: 30 s at 22050 Hz
EXCERPT_FRAMES = 1292  #: centred STFT frames in a 30 s excerpt
EXCERPT_COLUMNS = 387  #: pooled columns in a 30 s excerpt
FRAMES_PER_COLUMN = EXCERPT_FRAMES / EXCERPT_COLUMNS  # ~3.338
COLUMNS_PER_SECOND = EXCERPT_COLUMNS / 30.0  # 12.9

#: Everything a model card must agree with; the model loader refuses a card that differs.
FRONTEND_PARAMS: dict = {
    "name": "gtzan-logmel-v1",
    "sr": SR,
    "n_fft": N_FFT,
    "hop_length": HOP_LENGTH,
    "window": "hann",
    "center": True,
    "n_mels": N_MELS,
    "mel_scale": "slaney",
    "mel_norm": "slaney",
    "power": 2.0,
    "db_ref": "max",
    "top_db": TOP_DB,
    "rescale": [-80.0, 0.0],
    "excerpt_samples": EXCERPT_SAMPLES,
    "excerpt_columns": EXCERPT_COLUMNS,
    "excerpt_frames": EXCERPT_FRAMES,
}


def mel_power(*, y: np.ndarray, sr: int = SR) -> np.ndarray:
    """Mel power spectrogram, shape ``(N_MELS, n_frames)``, librosa's defaults (centred, Hann)."""
    import librosa

    return librosa.feature.melspectrogram(
        y=np.asarray(y, dtype=np.float32), sr=sr, n_fft=N_FFT, hop_length=HOP_LENGTH, n_mels=N_MELS
    )


def pool_time(S: np.ndarray, *, n_columns: int) -> np.ndarray:
    """Mean-pool axis 1 of ``S`` into ``n_columns`` contiguous groups (edges by linspace)."""
    n_frames = S.shape[1]
    edges = np.linspace(0, n_frames, n_columns + 1)
    starts = edges[:-1].astype(np.int64)
    ends = np.maximum(edges[1:].astype(np.int64), starts + 1)
    ends = np.minimum(ends, n_frames)
    csum = np.concatenate([np.zeros((S.shape[0], 1), S.dtype), np.cumsum(S, axis=1, dtype=np.float64)], axis=1)
    return ((csum[:, ends] - csum[:, starts]) / (ends - starts)).astype(np.float32)


def n_columns_for(n_frames: int) -> int:
    """Columns for an excerpt of ``n_frames`` frames, keeping the 1292/387 ratio."""
    return max(1, int(round(n_frames / FRAMES_PER_COLUMN)))


def logmel_excerpt(*, y: np.ndarray, sr: int = SR, n_columns: int | None = None) -> np.ndarray:
    """The training representation of one excerpt (mono, at ``SR``).

    Returns ``(N_MELS, n_columns)`` float32 in [-80, 0]; ``n_columns`` defaults to the
    frames-per-column ratio of a 30 s excerpt (387 for 1292 frames).
    """
    import librosa

    if sr != SR:
        raise ValueError(f"logmel_excerpt needs audio at {SR} Hz, got {sr} Hz")
    S = mel_power(y=y, sr=sr)
    db = librosa.power_to_db(S, ref=np.max, top_db=TOP_DB)
    lo, hi = float(db.min()), float(db.max())
    if hi - lo < 1e-6:  # silence or a constant: no dynamic range to rescale
        db = np.full_like(db, -TOP_DB)
    else:
        db = TOP_DB * (db - lo) / (hi - lo) - TOP_DB
    cols = n_columns if n_columns is not None else n_columns_for(S.shape[1])
    return pool_time(db.astype(np.float32), n_columns=cols)


#: A trailing excerpt shorter than this is merged into the excerpt before it (a 30.4 s GTZAN file
#: is one excerpt, as in the training arrays; a 0.4 s tail would otherwise be normalised alone).
MIN_TAIL_SAMPLES = 5 * SR


def excerpt_bounds(n_samples: int) -> list[tuple[int, int]]:
    """Sample ranges ``[(start, end), ...]`` of the 30 s excerpts of a signal of ``n_samples``."""
    if n_samples <= 0:
        return []
    bounds = [(s, min(s + EXCERPT_SAMPLES, n_samples)) for s in range(0, n_samples, EXCERPT_SAMPLES)]
    if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] < MIN_TAIL_SAMPLES:
        tail = bounds.pop()
        bounds[-1] = (bounds[-1][0], tail[1])
    return bounds


def logmel_track(*, y: np.ndarray, sr: int = SR) -> np.ndarray:
    """The training representation of a whole track: its excerpts' log-mels side by side.

    ``y`` is mono float audio at ``SR``.  Returns ``(N_MELS, n_columns)`` float32 in [-80, 0],
    about 12.9 columns per second.  Each 30 s excerpt is normalised on its own, as in training.
    """
    y = np.asarray(y, dtype=np.float32)
    parts = [logmel_excerpt(y=y[a:b], sr=sr) for a, b in excerpt_bounds(len(y))]
    if not parts:
        return np.zeros((N_MELS, 0), np.float32)
    return np.concatenate(parts, axis=1)


def windows(S: np.ndarray, *, width: int, hop: int) -> np.ndarray:
    """Cut ``S`` ``(n_mels, n_columns)`` into model windows ``(n_windows, n_mels, width)``.

    Windows start every ``hop`` columns; the last window is aligned to the end so the tail is
    covered.  A log-mel shorter than ``width`` gives one window padded with -80 dB (silence).
    """
    n = S.shape[1]
    if n < width:
        pad = np.full((S.shape[0], width - n), -TOP_DB, dtype=np.float32)
        return np.concatenate([S, pad], axis=1)[None].astype(np.float32)
    starts = list(range(0, n - width + 1, hop))
    if starts[-1] != n - width:
        starts.append(n - width)
    return np.stack([S[:, s : s + width] for s in starts]).astype(np.float32)


def mfcc_from_logmel(*, S: np.ndarray, n_mfcc: int = 20) -> np.ndarray:
    """MFCCs of a dB log-mel: DCT-II (orthonormal) over the mel axis, first ``n_mfcc`` rows.

    Same as ``librosa.feature.mfcc(S=S, n_mfcc=n_mfcc)`` (dct_type 2, norm 'ortho').
    ``S`` is ``(..., n_mels, n_columns)`` in dB; returns ``(..., n_mfcc, n_columns)`` float32.
    """
    import scipy.fft

    S = np.asarray(S, dtype=np.float32)
    if S.ndim < 2:
        raise ValueError(f"mfcc_from_logmel needs (..., n_mels, n_columns), got shape {S.shape}")
    if not 1 <= n_mfcc <= S.shape[-2]:
        raise ValueError(f"n_mfcc must be in 1..{S.shape[-2]}, got {n_mfcc}")
    return scipy.fft.dct(S, axis=-2, type=2, norm="ortho")[..., :n_mfcc, :].astype(np.float32)
