"""A track's loudness, measured from the spectrogram the analysis computes anyway, for volume
levelling of files without ReplayGain tags.

    weights = k_weights()                          # per STFT bin (core.features' N_FFT at SR)
    frame_ms = power_frames @ weights              # K-weighted mean square of every STFT frame
    integrated_loudness(frame_ms)                  # LUFS (None: silence)

The measure is ITU-R BS.1770 / EBU R128 integrated loudness: the signal K-weighted (a high
shelf of +4 dB above ~1.7 kHz and a high-pass at 38 Hz), its mean square taken over 400 ms
blocks every 100 ms, blocks below -70 LUFS left out, then blocks more than 10 LU below the
loudness of the rest, and ``-0.691 + 10 log10`` of what remains.  Here the K-weighting is applied
to the power spectrum of each STFT frame of the analysis's front end (periodic Hann, 2048 points,
hop 512, at 22050 Hz): by Parseval, each frame's weighted power is the mean square of the
K-weighted signal under its window, and Hann windows at a quarter-window hop cover every sample
with the same total weight, so a block's frames average to the block's mean square.  Doing it
in the time domain (libebur128, the reference, which ``bench/bench_loudness.py`` and the tests
compare with) costs as much as a sixth of the analysis of a track; this costs a few ms.

It runs on the mono 22050 Hz mix the analysis decodes, not on the file's own channels and rate:
:func:`track_loudness` turns that into the loudness of the file's channels.  BS.1770 adds the
channels' powers, and the mix ``(L + R) / 2`` of two alike channels has the power of one of them,
so a stereo file measures 3 dB louder than its mix when its channels are alike (6 dB when they
are unrelated): the estimate adds 3 dB, exact for alike channels and up to 3 dB low for unrelated
ones.

ReplayGain 2.0's reference is -18 LUFS: :func:`gain_of_loudness` gives the gain that brings a
track there, as a tagger would write it.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

#: ReplayGain 2.0's reference loudness
REFERENCE_LUFS = -18.0
#: a file with two or more channels reads this much louder under BS.1770 than its mono mix when
#: the channels are alike (two equal powers summed: +10 log10(2) dB)
STEREO_OFFSET_DB = 10.0 * math.log10(2.0)
ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0
BLOCK_S, STEP_S = 0.4, 0.1


def k_filter(sr: int) -> tuple[np.ndarray, np.ndarray]:
    """BS.1770's K-weighting at ``sr`` Hz as two biquads ``(b, a)`` each ``(2, 3)``: the high
    shelf and the high-pass of the standard, from their analog corner frequencies, gains and Qs
    by the bilinear transform (the standard gives the coefficients at 48 kHz; these equal them
    there)."""
    # stage 1: high shelf
    f0, gain_db, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = math.tan(math.pi * f0 / sr)
    vh = 10.0 ** (gain_db / 20.0)
    vb = vh ** 0.4996667741545416
    a0 = 1.0 + k / q + k * k
    b1 = [(vh + vb * k / q + k * k) / a0, 2.0 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0]
    a1 = [1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0]
    # stage 2: the RLB high-pass
    f0, q = 38.13547087602444, 0.5003270373238773
    k = math.tan(math.pi * f0 / sr)
    a0 = 1.0 + k / q + k * k
    b2 = [1.0, -2.0, 1.0]
    a2 = [1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0]
    return np.array([b1, b2]), np.array([a1, a2])


@lru_cache(maxsize=4)
def k_weights(sr: int = 22050, n_fft: int = 2048) -> np.ndarray:
    """``(n_fft // 2 + 1,)`` float32: ``P @ k_weights()`` is, for one-sided power spectra ``P``
    (``|rfft(window * frame)|**2``, periodic Hann), the mean square of the K-weighted signal under
    each window."""
    b, a = k_filter(sr)
    z = np.exp(-1j * 2.0 * np.pi * np.arange(n_fft // 2 + 1) / n_fft)
    h2 = np.ones(len(z))
    for bi, ai in zip(b, a):
        h = (bi[0] + bi[1] * z + bi[2] * z * z) / (ai[0] + ai[1] * z + ai[2] * z * z)
        h2 *= np.abs(h) ** 2
    fold = np.full(len(z), 2.0)  # the bins between DC and Nyquist stand for two of the full spectrum
    fold[0] = fold[-1] = 1.0
    w = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n_fft) / n_fft)
    # Parseval: sum |X|^2 over all n_fft bins = n_fft * sum (w x)^2; divided by sum w^2 to a mean square
    return (h2 * fold / (n_fft * float(np.sum(w * w)))).astype(np.float32)


def integrated_loudness(frame_ms, *, sr: int = 22050, hop: int = 512) -> float | None:
    """BS.1770 integrated loudness (LUFS) from the K-weighted mean squares of STFT frames
    centred every ``hop`` samples (the first at sample 0); None when nothing passes the gates."""
    ms = np.asarray(frame_ms, np.float64).reshape(-1)
    if not len(ms):
        return None
    block, step = BLOCK_S * sr / hop, STEP_S * sr / hop  # in frames
    n_blocks = int(math.floor((len(ms) - block) / step)) + 1 if len(ms) >= block else 1
    csum = np.concatenate([[0.0], np.cumsum(ms)])
    starts = np.minimum(np.ceil(np.arange(n_blocks) * step).astype(np.int64), len(ms) - 1)
    ends = np.minimum(np.ceil(np.arange(n_blocks) * step + block).astype(np.int64), len(ms))
    z = (csum[ends] - csum[starts]) / np.maximum(ends - starts, 1)
    lufs = -0.691 + 10.0 * np.log10(np.maximum(z, 1e-20))
    kept = z[lufs > ABSOLUTE_GATE_LUFS]
    if not len(kept):
        return None
    relative = -0.691 + 10.0 * math.log10(float(np.mean(kept))) + RELATIVE_GATE_LU
    kept = z[(lufs > ABSOLUTE_GATE_LUFS) & (lufs > relative)]
    return float(-0.691 + 10.0 * math.log10(float(np.mean(kept))))


def track_loudness(mono_lufs: float | None, channels: int | None) -> float | None:
    """The BS.1770 loudness of a file's own channels estimated from its mono mix's."""
    if mono_lufs is None:
        return None
    return mono_lufs + (STEREO_OFFSET_DB if (channels or 1) >= 2 else 0.0)


def gain_of_loudness(lufs: float | None) -> float | None:
    """ReplayGain 2.0's track gain for a loudness (dB to bring it to -18 LUFS)."""
    return None if lufs is None else REFERENCE_LUFS - lufs
