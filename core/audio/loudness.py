"""A track's loudness, measured while the analysis decodes it, for volume levelling of files
without ReplayGain tags.

    meter = LoudnessMeter(sr=22050)
    for block in mono_blocks:          # float32 (n,)
        meter.add(block)
    meter.loudness                     # integrated loudness, LUFS (None: silence)
    meter.peak                         # sample peak, 1.0 = full scale

The measurement is EBU R128 / ITU-R BS.1770 integrated loudness (K-weighting, 400 ms blocks,
absolute and relative gates) by libebur128 through ``pyebur128``, the implementation ReplayGain
2.0 taggers use.  It runs on the mono 22050 Hz mix the analysis decodes anyway, not on the file's
own channels and rate: :func:`track_loudness` turns that into the loudness of the file's channels.
BS.1770 adds the channels' powers, and the mix ``(L + R) / 2`` of two alike channels has the
power of one of them, so a stereo file measures 3 dB louder than its mix when its channels are
alike (6 dB when they are unrelated): the estimate adds 3 dB, exact for alike channels and up to
3 dB low for unrelated ones -- compared with the full measurement in ``bench/bench_loudness.py``.

ReplayGain 2.0's reference is -18 LUFS: :func:`gain_of_loudness` gives the gain that brings a
track there, as a tagger would write it.
"""
from __future__ import annotations

import math

import numpy as np

#: ReplayGain 2.0's reference loudness
REFERENCE_LUFS = -18.0
#: a file with two or more channels reads this much louder under BS.1770 than its mono mix when
#: the channels are alike (two equal powers summed: +10 log10(2) dB)
STEREO_OFFSET_DB = 10.0 * math.log10(2.0)


class LoudnessMeter:
    """Integrated loudness and sample peak of a mono float stream at ``sr`` Hz, block by block."""

    def __init__(self, sr: int):
        from pyebur128 import MeasurementMode, R128State

        self._state = R128State(1, int(sr), MeasurementMode.MODE_I)
        self._peak = 0.0
        self._frames = 0

    def add(self, block: np.ndarray) -> None:
        y = np.ascontiguousarray(block, dtype=np.float32).reshape(-1)
        if not len(y):
            return
        self._state.add_frames(y, len(y))
        self._peak = max(self._peak, float(np.max(np.abs(y))))
        self._frames += len(y)

    @property
    def loudness(self) -> float | None:
        """Integrated loudness in LUFS; None for silence (nothing above the -70 LUFS gate) or no audio."""
        if self._frames == 0:
            return None
        from pyebur128 import get_loudness_global

        v = float(get_loudness_global(self._state))
        return v if math.isfinite(v) and v > -70.0 else None

    @property
    def peak(self) -> float:
        return self._peak


def track_loudness(mono_lufs: float | None, channels: int | None) -> float | None:
    """The BS.1770 loudness of a file's own channels estimated from its mono mix's."""
    if mono_lufs is None:
        return None
    return mono_lufs + (STEREO_OFFSET_DB if (channels or 1) >= 2 else 0.0)


def gain_of_loudness(lufs: float | None) -> float | None:
    """ReplayGain 2.0's track gain for a loudness (dB to bring it to -18 LUFS)."""
    return None if lufs is None else REFERENCE_LUFS - lufs
