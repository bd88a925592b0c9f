"""Small formatting and scale helpers shared by the widgets (no Qt here)."""
from __future__ import annotations

import math


def format_time(seconds: float | None) -> str:
    """``m:ss`` (or ``h:mm:ss`` from one hour); ``--:--`` for None/NaN/negative."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return "--:--"
    s = int(seconds + 1e-6)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


# --- the Slaney mel scale (as librosa's default, htk=False), without importing librosa ---------
_F_SP = 200.0 / 3.0
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP  # 15
_LOGSTEP = math.log(6.4) / 27.0


def hz_to_mel(hz):
    """Slaney mel of ``hz`` (scalar or array)."""
    import numpy as np

    hz = np.asarray(hz, dtype=np.float64)
    lin = hz / _F_SP
    log = _MIN_LOG_MEL + np.log(np.maximum(hz, 1e-10) / _MIN_LOG_HZ) / _LOGSTEP
    out = np.where(hz >= _MIN_LOG_HZ, log, lin)
    return out if out.ndim else float(out)


def mel_to_hz(mel):
    """Hz of a Slaney ``mel`` (scalar or array)."""
    import numpy as np

    mel = np.asarray(mel, dtype=np.float64)
    lin = _F_SP * mel
    log = _MIN_LOG_HZ * np.exp(_LOGSTEP * (mel - _MIN_LOG_MEL))
    out = np.where(mel >= _MIN_LOG_MEL, log, lin)
    return out if out.ndim else float(out)


class MelScale:
    """Maps a continuous mel-band coordinate to Hz and back.

    Band ``i`` (row ``i`` of a log-mel, row 0 the lowest) is drawn over ``[i, i+1)``; its centre
    ``i + 0.5`` is the band's centre frequency: mel points are ``n_mels + 2`` values evenly spaced
    between ``hz_to_mel(fmin)`` and ``hz_to_mel(fmax)``, band ``i`` centred on point ``i + 1``.
    """

    def __init__(self, *, n_mels: int = 128, sr: int = 22050, fmin: float = 0.0, fmax: float | None = None):
        self.n_mels = int(n_mels)
        self.fmin = float(fmin)
        self.fmax = float(fmax if fmax is not None else sr / 2.0)
        self._m0 = hz_to_mel(self.fmin)
        self._step = (hz_to_mel(self.fmax) - self._m0) / (self.n_mels + 1)

    def band_to_hz(self, y):
        """Hz at band coordinate ``y`` (``i + 0.5`` = centre of band ``i``)."""
        import numpy as np

        return mel_to_hz(self._m0 + (np.asarray(y, dtype=np.float64) + 0.5) * self._step)

    def hz_to_band(self, hz):
        return (hz_to_mel(hz) - self._m0) / self._step - 0.5


def format_hz(hz: float) -> str:
    if hz >= 1000:
        k = hz / 1000.0
        return f"{k:.0f}k" if abs(k - round(k)) < 0.05 else f"{k:.1f}k"
    return f"{hz:.0f}"
