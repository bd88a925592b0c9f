"""Volume levelling from ReplayGain tags: how loud each track plays.

A track's ReplayGain values (:mod:`core.audio.tags`, kept in the catalog) say how many dB it
must be turned up or down to reach ReplayGain's reference loudness; the album values do the
same for its whole album, so that a quiet song stays quieter than the loud one after it.

``Levelling(mode, preamp_db, untagged_db, prevent_clipping)``:

- ``mode``: ``"off"`` (every file as it is), ``"track"`` (each track to the reference; the album
  gain when a file has only that), ``"album"`` (each album to the reference; the track gain when
  a file has no album gain);
- ``preamp_db``: added to every tagged gain (ReplayGain's reference is quieter than most modern
  masters: many players let the user lift it a few dB);
- ``untagged_db``: the gain of a file without ReplayGain tags (typically a few dB down, where a
  tagged library sits, so that an untagged loud master does not jump out);
- ``prevent_clipping``: a gain that would push the file's recorded peak above full scale is
  lowered to just reach it.

:meth:`Levelling.factor` turns a track's tags into the linear factor the player multiplies its
samples by.  Plain Python: the player's engine thread calls it when it starts decoding a track.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any

MODES = ("off", "track", "album")
#: the pre-amp and the untagged gain a user may set, dB
PREAMP_RANGE = (-15.0, 15.0)


@dataclasses.dataclass(frozen=True)
class Levelling:
    mode: str = "off"
    preamp_db: float = 0.0
    untagged_db: float = 0.0
    prevent_clipping: bool = True

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"volume levelling must be one of {', '.join(MODES)}, not {self.mode!r}")
        for name in ("preamp_db", "untagged_db"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and PREAMP_RANGE[0] <= v <= PREAMP_RANGE[1]):
                raise ValueError(f"{name.replace('_db', '')} must be a number of dB between "
                                 f"{PREAMP_RANGE[0]:g} and {PREAMP_RANGE[1]:g}, not {v!r}")

    def gain_db(self, track: Any) -> float | None:
        """The dB this setting applies to ``track`` (anything with ``rg_track_gain`` ... attributes,
        or none of them), before the clipping limit; None when it is left as it is."""
        if self.mode == "off":
            return None
        tg, ag = _value(track, "rg_track_gain"), _value(track, "rg_album_gain")
        first, second = (tg, ag) if self.mode == "track" else (ag, tg)
        gain = first if first is not None else second
        if gain is None:
            return self.untagged_db or None
        return gain + self.preamp_db

    def _peak(self, track: Any) -> float | None:
        """The peak that belongs to the gain :meth:`gain_db` took (the other one when it is missing)."""
        tg, ag = _value(track, "rg_track_gain"), _value(track, "rg_album_gain")
        scope = "track" if (tg is not None and (self.mode == "track" or ag is None)) else "album"
        other = "album" if scope == "track" else "track"
        peak = _value(track, f"rg_{scope}_peak")
        return peak if peak is not None else _value(track, f"rg_{other}_peak")

    def factor(self, track: Any) -> float:
        """The linear factor for ``track``'s samples (1.0: untouched)."""
        db = self.gain_db(track)
        if db is None:
            return 1.0
        f = 10.0 ** (db / 20.0)
        if self.prevent_clipping:
            peak = self._peak(track)
            if peak is not None and peak > 0:
                f = min(f, 1.0 / peak)
        return float(f)


def _value(track: Any, name: str) -> float | None:
    v = getattr(track, name, None)
    if v is None:
        return None
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None
