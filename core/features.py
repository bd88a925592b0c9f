"""The GTZAN-compatible log-mel front end (see ../shared/data/README.md for the recipe).

Training, analysis and display all call these functions; nothing re-implements them.

Shapes: a log-mel array is ``(n_mels, n_columns)`` float32, dB in [-80, 0], row 0 the lowest mel
band, one column per ``FRAMES_PER_COLUMN`` STFT frames (about 77.5 ms; the frame under the column's
centre, :func:`sample_time`), 12.9 columns per second.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np

SR = 22050  #: sample rate the front end works at (Hz)
N_FFT = 2048
HOP_LENGTH = 512
N_MELS = 128
TOP_DB = 80.0
EXCERPT_SAMPLES = 661_500  #: 30 s at 22050 Hz
EXCERPT_FRAMES = 1292  #: centred STFT frames in a 30 s excerpt
EXCERPT_COLUMNS = 387  #: columns in a 30 s excerpt
FRAMES_PER_COLUMN = EXCERPT_FRAMES / EXCERPT_COLUMNS  # ~3.338
#: Column ``i`` of ``c`` columns over ``n`` frames is frame ``floor((i + 0.5) * (n - SPAN_TRIM) / c)``
#: (:func:`sample_time`).  Measured on the 89 clips of gtzan_audio/: the training arrays are
#: point samples of the frames, not means (see :func:`sample_time`).
SPAN_TRIM = 1.7
COLUMNS_PER_SECOND = EXCERPT_COLUMNS / 30.0  # 12.9

#: Everything a model card must agree with; the model loader refuses a card that differs.
FRONTEND_PARAMS: dict = {
    "name": "gtzan-logmel-v2",
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
    "columns": {"from_frames": "point-sample", "span_trim": SPAN_TRIM},
}


def mel_power(*, y: np.ndarray, sr: int = SR, weighted: tuple[np.ndarray, list] | None = None) -> np.ndarray:
    """Mel power spectrogram, shape ``(N_MELS, n_frames)``, librosa's defaults (centred, Hann).

    Computed by :func:`mel_spectrogram` (numpy/scipy, about 6x faster than librosa and equal to
    ``librosa.feature.melspectrogram(y=y, sr=sr, n_mels=128)`` to float32 rounding;
    :func:`mel_power_librosa` is the reference the tests compare it with).
    """
    return mel_spectrogram(y=y, sr=sr, n_fft=N_FFT, hop_length=HOP_LENGTH, n_mels=N_MELS, weighted=weighted)


def mel_power_librosa(*, y: np.ndarray, sr: int = SR) -> np.ndarray:
    """Reference: ``librosa.feature.melspectrogram`` with the front end's parameters."""
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


def sample_columns(n_frames: int, n_columns: int) -> np.ndarray:
    """The frame index of each of ``n_columns`` columns over ``n_frames`` frames."""
    src = np.floor((np.arange(n_columns) + 0.5) * ((n_frames - SPAN_TRIM) / n_columns)).astype(np.int64)
    return np.clip(src, 0, n_frames - 1)


def sample_time(S: np.ndarray, *, n_columns: int) -> np.ndarray:
    """Point-sample axis 1 of ``S`` at ``n_columns`` frames (:func:`sample_columns`).

    This is how the training arrays were made, whatever ../shared/data/README.md's step 5 says
    (a mean over each group of ~3.34 frames).  The arrays were rendered as images: each pixel
    column shows the one frame under its centre.  On the 89 GTZAN clips of gtzan_audio/ (whole
    files, 387 columns) the means land 1.64 dB from the array rows (median mean-absolute error;
    worst 3.20) and change 4.8 dB from column to column where the arrays change 5.8; these samples
    land 0.11 dB away (worst 0.15; the arrays' own 8-bit step is 0.31 dB) and change as much as
    the arrays.  The shipped model then gives the same genre from audio as from the array for
    97.8 % of the clips (with means: 93.3 %; models/RESULTS.md).
    """
    return np.ascontiguousarray(S[:, sample_columns(S.shape[1], n_columns)], dtype=np.float32)


def n_columns_for(n_frames: int) -> int:
    """Columns for an excerpt of ``n_frames`` frames, keeping the 1292/387 ratio."""
    return max(1, int(round(n_frames / FRAMES_PER_COLUMN)))


def logmel_excerpt(*, y: np.ndarray, sr: int = SR, n_columns: int | None = None,
                   weighted: tuple[np.ndarray, list] | None = None) -> np.ndarray:
    """The training representation of one excerpt (mono, at ``SR``).

    Returns ``(N_MELS, n_columns)`` float32 in [-80, 0]; ``n_columns`` defaults to the
    frames-per-column ratio of a 30 s excerpt (387 for 1292 frames).  ``weighted``: see
    :func:`mel_spectrogram` (the frames' weighted power, from the same STFT).
    """
    if sr != SR:
        raise ValueError(f"logmel_excerpt needs audio at {SR} Hz, got {sr} Hz")
    S = mel_power(y=y, sr=sr, weighted=weighted)
    db = power_to_db(S, top_db=TOP_DB)  # == librosa.power_to_db(S, ref=np.max, top_db=80)
    lo, hi = float(db.min()), float(db.max())
    cols = n_columns if n_columns is not None else n_columns_for(S.shape[1])
    if hi - lo < 1e-6:  # silence or a constant: no dynamic range to rescale
        return np.full((S.shape[0], cols), -TOP_DB, np.float32)
    # the min-max rescale is over the whole excerpt (every frame), then the columns are point
    # samples of the frames; rescaling the samples is the same and touches 3.3x fewer values
    out = sample_time(db, n_columns=cols)
    out -= np.float32(lo)
    out *= np.float32(TOP_DB / (hi - lo))
    out -= np.float32(TOP_DB)
    np.clip(out, -TOP_DB, 0.0, out=out)  # rounding must not leave the documented range
    return out


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


def excerpts(blocks) -> Iterator[np.ndarray]:
    """Cut a stream of mono float32 blocks (any lengths) into the excerpts of
    :func:`excerpt_bounds`: 30 s each, a tail shorter than ``MIN_TAIL_SAMPLES`` joined to the
    excerpt before it.  Yields 1-D float32 arrays; holds at most two excerpts in memory, so a
    long file is cut as it decodes.  If ``blocks`` stops early, what it gave is still yielded.
    """
    size = EXCERPT_SAMPLES
    buf = np.empty(size, np.float32)
    fill = 0
    prev = None  # a full excerpt held back until we know whether a short tail follows
    for y in blocks:
        y = np.asarray(y, np.float32).reshape(-1)
        while len(y):
            k = min(size - fill, len(y))
            buf[fill : fill + k] = y[:k]
            fill += k
            y = y[k:]
            if fill == size:
                if prev is not None:
                    yield prev
                prev, buf, fill = buf, np.empty(size, np.float32), 0
    tail = buf[:fill]
    if prev is not None:
        if fill and fill < MIN_TAIL_SAMPLES:
            yield np.concatenate([prev, tail])
            return
        yield prev
    if fill:
        yield tail.copy()


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


def window_starts(n_columns: int, *, width: int, hop: int) -> np.ndarray:
    """Start column of each model window of a log-mel of ``n_columns`` columns, ``(n_windows,)``.

    Windows start every ``hop`` columns; the last one is aligned to the end so the tail is
    covered.  Fewer columns than ``width`` give one window at 0 (filled by :func:`windows`).
    """
    if n_columns <= width:
        return np.zeros(1, np.int64)
    starts = np.arange(0, n_columns - width + 1, hop, dtype=np.int64)
    if starts[-1] != n_columns - width:
        starts = np.append(starts, n_columns - width)
    return starts


def fill_window(S: np.ndarray, width: int) -> np.ndarray:
    """A log-mel shorter than ``width`` columns repeated end to end up to ``width`` (a longer one is
    returned as it is).  A short track (a 10 s interlude, a jingle) then fills a 30 s model window
    with its own sound: padded with silence instead, the window is mostly -80 dB, which no
    training window resembled.  Measured with the shipped model on 10 s cuts of the 197 valid
    clips: 0.62 accuracy repeated, 0.16 padded with silence (5 s: 0.60 vs 0.16; 20 s: 0.65 vs 0.29).
    """
    S = np.asarray(S, dtype=np.float32)
    n = S.shape[1]
    if n >= width:
        return S
    if n == 0:
        return np.full((S.shape[0], width), -TOP_DB, np.float32)
    return np.tile(S, (1, -(-width // n)))[:, :width]


def windows(S: np.ndarray, *, width: int, hop: int) -> np.ndarray:
    """Cut ``S`` ``(n_mels, n_columns)`` into model windows ``(n_windows, n_mels, width)``
    starting at :func:`window_starts`.  A log-mel shorter than ``width`` gives one window: the
    log-mel repeated to fill it (:func:`fill_window`).
    """
    n = S.shape[1]
    if n < width:
        return fill_window(S, width)[None].astype(np.float32)
    return np.stack([S[:, s : s + width] for s in window_starts(n, width=width, hop=hop)]).astype(np.float32)


def dct_matrix(n_mels: int = N_MELS, n_mfcc: int = 20) -> np.ndarray:
    """The orthonormal DCT-II over the mel axis, first ``n_mfcc`` coefficients, as a float32
    ``(n_mels, n_mfcc)`` matrix ``M``: ``S.T @ M == mfcc_from_logmel(S=S).T``.  The MFCC
    networks and the floor's Keras layer apply it as weights."""
    import scipy.fft

    if not 1 <= n_mfcc <= n_mels:
        raise ValueError(f"n_mfcc must be in 1..{n_mels}, got {n_mfcc}")
    return np.ascontiguousarray(
        scipy.fft.dct(np.eye(n_mels), axis=0, type=2, norm="ortho")[:n_mfcc].T, dtype=np.float32)


def mfcc_from_logmel(*, S: np.ndarray, n_mfcc: int = 20) -> np.ndarray:
    """MFCCs of a dB log-mel: DCT-II (orthonormal) over the mel axis, first ``n_mfcc`` rows
    (:func:`dct_matrix`).

    Same as ``librosa.feature.mfcc(S=S, n_mfcc=n_mfcc)`` (dct_type 2, norm 'ortho').
    ``S`` is ``(..., n_mels, n_columns)`` in dB; returns ``(..., n_mfcc, n_columns)`` float32.
    """
    S = np.asarray(S, dtype=np.float32)
    if S.ndim < 2:
        raise ValueError(f"mfcc_from_logmel needs (..., n_mels, n_columns), got shape {S.shape}")
    return dct_matrix(S.shape[-2], n_mfcc).T @ S


# ---------------------------------------------------------------------------------------------
# Fast spectrogram core (numpy + scipy, no librosa import), files, and the display log-mel.
# Same maths as librosa 0.11's defaults: centred frames with zero padding, periodic Hann window,
# |STFT|^2, Slaney mel scale with Slaney area normalisation, power_to_db(ref=max, amin=1e-10).

_MEL_CACHE: dict = {}


def hz_to_mel(f):
    """The Slaney mel of ``f`` Hz (scalar or array; librosa's ``hz_to_mel``, ``htk=False``)."""
    f = np.asarray(f, dtype=np.float64)
    f_sp = 200.0 / 3
    min_log_hz, logstep = 1000.0, np.log(6.4) / 27.0
    mels = f / f_sp
    return np.where(f >= min_log_hz, min_log_hz / f_sp + np.log(np.maximum(f, 1e-12) / min_log_hz) / logstep, mels)


def mel_to_hz(m):
    """Hz of a Slaney mel ``m`` (scalar or array): the inverse of :func:`hz_to_mel`."""
    m = np.asarray(m, dtype=np.float64)
    f_sp = 200.0 / 3
    min_log_hz, logstep = 1000.0, np.log(6.4) / 27.0
    min_log_mel = min_log_hz / f_sp
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), f_sp * m)


def mel_filterbank(*, sr: int, n_fft: int, n_mels: int, fmin: float = 0.0, fmax: float | None = None) -> np.ndarray:
    """Slaney mel filterbank ``(n_mels, 1 + n_fft // 2)`` float32, area-normalised (Slaney);
    equal to ``librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels)``."""
    fmax = sr / 2.0 if fmax is None else fmax
    fftfreqs = np.linspace(0, sr / 2.0, 1 + n_fft // 2)
    mel_f = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fftfreqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2 : n_mels + 2] - mel_f[:n_mels]))[:, None]
    return weights.astype(np.float32)


def _mel_sparse(sr: int, n_fft: int, n_mels: int):
    key = (sr, n_fft, n_mels)
    fb = _MEL_CACHE.get(key)
    if fb is None:
        import scipy.sparse

        fb = scipy.sparse.csr_matrix(mel_filterbank(sr=sr, n_fft=n_fft, n_mels=n_mels))
        _MEL_CACHE[key] = fb
    return fb


def _hann(n: int) -> np.ndarray:
    key = ("hann", n)
    w = _MEL_CACHE.get(key)
    if w is None:
        w = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)).astype(np.float32)  # periodic
        _MEL_CACHE[key] = w
    return w


def mel_spectrogram(
    *,
    y: np.ndarray,
    sr: int = SR,
    n_fft: int = N_FFT,
    hop_length: int = HOP_LENGTH,
    n_mels: int = N_MELS,
    block_frames: int = 256,  # L2-sized blocks: 148 -> 86 ms CPU for 4 min (bench)
    weighted: tuple[np.ndarray, list] | None = None,
) -> np.ndarray:
    """Mel power spectrogram ``(n_mels, 1 + len(y) // hop_length)`` float32 of mono ``y``.

    Centred frames (zero padding of ``n_fft // 2`` each side), periodic Hann window, power 2,
    Slaney mel filterbank: librosa's ``melspectrogram`` defaults, computed in blocks of
    ``block_frames`` STFT frames so memory stays small for long signals.

    ``weighted=(weights, out)``: also appends to the list ``out`` the ``(n_frames,)`` float32
    ``P @ weights`` of every frame's one-sided power spectrum ``P`` (``weights``: ``(n_fft // 2 +
    1,)``; the loudness meter's K-weighting, :func:`core.audio.loudness.k_weights`).
    """
    import scipy.fft

    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1:
        raise ValueError(f"mel_spectrogram needs mono audio (n,), got shape {y.shape}")
    pad = n_fft // 2
    yp = np.pad(y, pad)
    n_frames = 1 + (len(yp) - n_fft) // hop_length if len(yp) >= n_fft else 0
    if n_frames <= 0:  # shorter than half a window: librosa pads the same way, one frame
        yp = np.pad(yp, (0, n_fft - len(yp)))
        n_frames = 1 + len(y) // hop_length
    fb = _mel_sparse(int(sr), int(n_fft), int(n_mels))
    win = _hann(n_fft)
    out = np.empty((n_mels, n_frames), np.float32)
    wout = np.empty(n_frames, np.float32) if weighted is not None else None
    step = yp.strides[0]
    tmp = np.empty((min(block_frames, n_frames), n_fft), np.float32)
    for a in range(0, n_frames, block_frames):
        b = min(n_frames, a + block_frames)
        frames = np.lib.stride_tricks.as_strided(yp[a * hop_length :], shape=(b - a, n_fft), strides=(step * hop_length, step))
        t = tmp[: b - a]
        np.multiply(frames, win, out=t)
        X = scipy.fft.rfft(t, axis=1, overwrite_x=True)
        v = X.view(np.float32)  # (re, im) pairs: |X|^2 = re^2 + im^2
        np.square(v, out=v)
        P = v[:, 0::2] + v[:, 1::2]
        out[:, a:b] = fb @ P.T
        if wout is not None:
            wout[a:b] = P @ weighted[0]
    if wout is not None:
        weighted[1].append(wout)
    return out


def power_to_db(S: np.ndarray, *, top_db: float | None = TOP_DB, amin: float = 1e-10) -> np.ndarray:
    """``10 log10(S / max(S))`` floored ``top_db`` below its maximum, float32: the same as
    ``librosa.power_to_db(S, ref=np.max, amin=amin, top_db=top_db)``."""
    S = np.asarray(S, dtype=np.float32)
    if S.size == 0:
        return S.copy()
    db = np.maximum(S, np.float32(amin))
    np.log(db, out=db)  # natural log: numpy's float32 log is vectorised, log10 is 3x slower here
    db *= np.float32(10.0 / np.log(10.0))
    db -= db.max()  # ref = max(S): the same float ops on the same value, so the maximum is exactly 0 dB
    if top_db is not None:
        np.maximum(db, db.max() - np.float32(top_db), out=db)
    return db


def logmel_file(path, *, start: float = 0.0, duration: float | None = None) -> np.ndarray:
    """The training representation (:func:`logmel_track`) of an audio file, or of the excerpt
    ``[start, start + duration)`` seconds.  Returns ``(N_MELS, n_columns)`` float32 in [-80, 0],
    12.9 columns per second; the same as ``logmel_track(y=decode.read(path, sr=SR, mono=True)[0])``.

    Decodes as a stream (:func:`core.audio.decode.mono_stream` for a whole file, else
    :func:`core.audio.decode.open_stream`; mono, ``SR``), one 30 s excerpt at a time, so memory stays small for hours-long files (and it is faster than decoding whole).
    Raises the :mod:`core.errors` taxonomy; :class:`~core.errors.TooShort` when there is less
    than one STFT window (about 93 ms) of audio.
    """
    from core.audio import decode
    from core.errors import TooShort

    if not start and duration is None:  # a whole file: MP3s decode straight at SR (as read() and the analysis)
        blocks = decode.mono_stream(path, sr=SR, block_frames=EXCERPT_SAMPLES)
    else:
        blocks = (b[:, 0] for b in decode.stream(path, sr=SR, channels=1, block_frames=EXCERPT_SAMPLES, start=start,
                                                 duration=duration))
    parts: list[np.ndarray] = []
    total = 0
    for x in excerpts(blocks):  # one excerpt of audio at a time
        total += len(x)
        if len(x) >= N_FFT:  # (only a whole file can be shorter: tails join the excerpt before)
            parts.append(logmel_excerpt(y=x, sr=SR))
    if total < N_FFT:
        raise TooShort(path, f"only {1000 * total / SR:.0f} ms of audio")
    return np.concatenate(parts, axis=1)


DISPLAY_N_MELS = 128
DISPLAY_HOP_LENGTH = 512


def display_logmel(
    *,
    y: np.ndarray,
    sr: int,
    n_mels: int = DISPLAY_N_MELS,
    n_fft: int = N_FFT,
    hop_length: int = DISPLAY_HOP_LENGTH,
    top_db: float = TOP_DB,
) -> np.ndarray:
    """Full-resolution log-mel for display: ``(n_mels, n_frames)`` float32, C-contiguous, dB
    relative to the whole signal's maximum, floored at ``-top_db`` (values in [-top_db, 0]).

    ``y`` mono at ``sr`` Hz (any rate; the filterbank spans 0..sr/2).  One column every
    ``hop_length / sr`` seconds (23.2 ms at 22050 Hz); column ``i`` is centred on sample
    ``i * hop_length``.  Not min-max rescaled (that is the training representation's step).
    For a long track pass the result to :func:`downsample_columns`.
    """
    S = mel_spectrogram(y=y, sr=sr, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels)
    return np.ascontiguousarray(power_to_db(S, top_db=top_db), dtype=np.float32)


def downsample_columns(S: np.ndarray, *, max_columns: int) -> np.ndarray:
    """Mean-pool the time axis of ``S`` ``(n_rows, n_columns)`` down to at most ``max_columns``
    columns (unchanged when already narrower).  float32, C-contiguous.  Column ``j`` of the
    result covers input columns ``int(j * n / max_columns) .. int((j + 1) * n / max_columns)``."""
    if S.shape[1] <= max_columns:
        return np.ascontiguousarray(S, dtype=np.float32)
    return np.ascontiguousarray(pool_time(S, n_columns=max_columns))
