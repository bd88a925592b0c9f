"""Volume levelling from ReplayGain tags: how loud each track plays.

A track's ReplayGain values (:mod:`core.audio.tags`, kept in the catalog) say how many dB it
must be turned up or down to reach ReplayGain's reference loudness; the album values do the
same for its whole album, so that a quiet song stays quieter than the loud one after it.

Files without tags get the same from the loudness the analysis measured
(:mod:`core.audio.loudness`): ``measured_track_gain`` / ``measured_track_peak``, and
``measured_album_gain`` from their album's tracks.

``Levelling(mode, preamp_db, untagged_db, prevent_clipping)``:

- ``mode``: ``"off"`` (every file as it is), ``"track"`` (each track to the reference; the album
  gain when a file has only that), ``"album"`` (each album to the reference; the track gain when
  a file has no album gain); tags first, the measurement when a file has no tags;
- ``preamp_db``: added to every tagged gain (ReplayGain's reference is quieter than most modern
  masters: many players let the user lift it a few dB);
- ``untagged_db``: the gain of a file with neither tags nor a measurement yet (typically a few
  dB down, where a levelled library sits, so that an unmeasured loud master does not jump out);
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

    def _source(self, track: Any) -> tuple[float | None, float | None, str, str]:
        """``(dB, peak, "rg" | "measured" | "", "track" | "album" | "")``: the gain this setting
        takes for ``track`` before the pre-amp, the peak that goes with it, and where it comes from."""
        scopes = ("track", "album") if self.mode == "track" else ("album", "track")
        for source in ("rg", "measured"):  # a tagger's values first, then the analysis's
            for scope in scopes:
                gain = _value(track, f"{source}_{scope}_gain")
                if gain is not None:
                    peak = _value(track, f"{source}_{scope}_peak")
                    if peak is None:
                        other = "album" if scope == "track" else "track"
                        peak = _value(track, f"{source}_{other}_peak")
                    return gain, peak, source, scope
        return None, None, "", ""

    def _applied(self, track: Any) -> tuple[float | None, float, float | None, str, str]:
        """``(dB before the clipping limit or None, linear factor, the chosen gain, its source,
        its scope)`` -- what :meth:`gain_db`, :meth:`factor` and :meth:`describe` report."""
        if self.mode == "off":
            return None, 1.0, None, "", ""
        gain, peak, source, scope = self._source(track)
        db = (self.untagged_db or None) if gain is None else gain + self.preamp_db
        if db is None:
            return None, 1.0, gain, source, scope
        f = 10.0 ** (db / 20.0)
        if self.prevent_clipping and peak is not None and peak > 0:
            f = min(f, 1.0 / peak)
        return db, float(f), gain, source, scope

    def describe(self, track: Any) -> str:
        """One line for the player's tooltip: what this setting does to ``track`` and why."""
        if self.mode == "off":
            return "Volume levelling off"
        db, f, gain, source, scope = self._applied(track)
        applied = 20.0 * math.log10(f)
        if gain is None:
            why = "no ReplayGain tags, not measured yet"
        else:
            why = f"{scope} gain from its {'ReplayGain tags' if source == 'rg' else 'measured loudness'}"
            if self.preamp_db:
                why += f", pre-amp {_db(self.preamp_db)}"
            if db is not None and abs(applied - db) > 0.05:
                why += ", held below its peak"
        return f"Levelled {_db(applied)} ({why})"

    def gain_db(self, track: Any) -> float | None:
        """The dB this setting applies to ``track`` (anything with ``rg_track_gain`` ... and
        ``measured_track_gain`` ... attributes, or none of them), before the clipping limit; None
        when it is left as it is."""
        return self._applied(track)[0]

    def factor(self, track: Any) -> float:
        """The linear factor for ``track``'s samples (1.0: untouched)."""
        return self._applied(track)[1]


def _db(x: float) -> str:
    """``+2.0 dB`` / ``−4.0 dB`` (a true minus sign)."""
    return f"{x:+.1f} dB".replace("-", "\u2212")


def _value(track: Any, name: str) -> float | None:
    v = getattr(track, name, None)
    if v is None:
        return None
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None
