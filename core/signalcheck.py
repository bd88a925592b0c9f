"""The one check of decoded audio that every analysis path shares (the library analysis, the
``predict`` command, ``core.features.logmel_file``): samples that are not numbers, silence, and
audio shorter than one STFT frame.

- A NaN or infinite sample (a broken decoder, a damaged float WAV) is taken as 0 and counted
  (:class:`SignalStats`); the rest of the file is analysed as it is, with a note.  A -20 dBFS
  noise file with a few NaNs is therefore noise, not silence.
- Silent: the peak of the finite samples is below ``SILENCE_PEAK`` (-80 dBFS) everywhere -- a
  file of ten minutes of silence has no genre (and is no "classical" track); kind ``silent``.
- Too short: fewer samples than one STFT window (``core.features.N_FFT``, about 93 ms); kind
  ``too_short``.
"""
from __future__ import annotations

import math

import numpy as np

from core.errors import FileError, TooShort

#: peak amplitude below which a whole file counts as silent (-80 dBFS)
SILENCE_PEAK = 1e-4
#: samples (at 22050 Hz) of one STFT window: less audio than this cannot be analysed
MIN_SAMPLES = 2048


class Silent(FileError):
    """The file has no sound above -80 dBFS."""

    kind = "silent"


class SignalStats:
    """Running totals over the decoded blocks of one file: ``samples``, ``peak`` (of the finite
    samples) and ``nonfinite`` (NaN / inf samples, replaced by 0 in the blocks :meth:`add` returns)."""

    def __init__(self) -> None:
        self.samples = 0
        self.peak = 0.0
        self.nonfinite = 0

    def add(self, y: np.ndarray) -> np.ndarray:
        """Count block ``y`` (float) and return it with NaN / inf samples set to 0."""
        y = np.asarray(y)
        self.samples += len(y)
        if not len(y):
            return y
        hi, lo = float(y.max()), float(y.min())  # NaN and inf show in these: no pass over a mask when clean
        if not (math.isfinite(hi) and math.isfinite(lo)):
            bad = ~np.isfinite(y)
            self.nonfinite += int(bad.sum())
            y = np.where(bad, np.float32(0.0), y).astype(y.dtype, copy=False)
            hi, lo = float(y.max()), float(y.min())
        self.peak = max(self.peak, hi, -lo)
        return y

    def note(self) -> str | None:
        """A sentence for the result's note when samples were not numbers, else None."""
        if not self.nonfinite:
            return None
        return f"{self.nonfinite} sample{'s' if self.nonfinite != 1 else ''} were not numbers (NaN/inf) and were taken as silence"

    def check(self, path, *, sr: int = 22050) -> None:
        """Raise :class:`~core.errors.TooShort` or :class:`Silent` (see the module docstring)."""
        check_signal(path, samples=self.samples, peak=self.peak, sr=sr)


def check_signal(path, *, samples: int, peak: float, sr: int = 22050) -> None:
    """Raise :class:`~core.errors.TooShort` (fewer than ``MIN_SAMPLES``) or :class:`Silent`
    (``peak`` below ``SILENCE_PEAK``; a NaN peak counts as no sound) for decoded audio."""
    if samples < MIN_SAMPLES:
        raise TooShort(path, f"only {1000 * samples / sr:.0f} ms of audio, too short to analyse")
    if not peak >= SILENCE_PEAK:
        raise Silent(path, "the file is silent (no sound above -80 dBFS): there is no genre to tell")
