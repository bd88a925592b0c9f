"""What a listen was: a play, a skip, or neither, told from a :class:`core.playback.Player`'s events.

:class:`ListenCounter` is fed the player's events (``player.subscribe(counter.feed)``, or the
same events later on another thread, in order) and calls ``on_listen(track, kind)`` once per
listen that counts:

* a **play** (``"play"``) once the track has been heard for half its length or
  ``PLAY_AFTER_S`` (4 minutes), whichever comes first, or when it plays to its end.  Heard means
  played through: a seek forward is not heard (the listen goes on from the new place), so a
  play counted mid-track is counted the moment the threshold is passed, not when it ends.
* a **skip** (``"skip"``) when the track is left -- next, previous, another track, stop --
  within its first ``SKIP_WITHIN_S`` (30 s), before it counted as a play.

A listen that ends otherwise (left after 30 s but before half of it, a file that failed) counts
neither.  A track playing when the app quits was not left by the user: the caller simply stops
feeding events.
"""
from __future__ import annotations

from typing import Any, Callable

from core.playback.events import Position, TrackEnded, TrackStarted

PLAY = "play"
SKIP = "skip"
#: a track heard this long counts as played, whatever its length (seconds)
PLAY_AFTER_S = 240.0
#: a track left before this position counts as skipped (seconds)
SKIP_WITHIN_S = 30.0
#: two position reports further apart than this (or going back) are a seek, not listening
_MAX_STEP_S = 1.5


def play_threshold(duration: float | None) -> float:
    """Seconds a track of ``duration`` must be heard to count as played."""
    if not duration or duration <= 0:
        return PLAY_AFTER_S
    return min(duration / 2.0, PLAY_AFTER_S)


class ListenCounter:
    """Counts plays and skips from player events (see the module docstring).  Not thread-safe:
    feed it from one thread at a time."""

    def __init__(self, on_listen: Callable[[Any, str], None]):
        self._on_listen = on_listen
        self._track: Any = None
        self._duration = 0.0
        self._heard = 0.0
        self._last: float | None = None
        self._counted = False

    @property
    def heard(self) -> float:
        """Seconds of the current track heard so far."""
        return self._heard

    def feed(self, event: Any) -> None:
        if isinstance(event, TrackStarted):
            self._track, self._counted, self._heard = event.track, False, 0.0
            self._duration = float(getattr(event.info, "duration", 0.0) or 0.0)
            self._last = float(event.start)
        elif isinstance(event, Position):
            if event.track is not self._track or self._track is None:
                return
            if event.duration:
                self._duration = float(event.duration)
            self._advance(float(event.position))
        elif isinstance(event, TrackEnded):
            if event.track is not self._track or self._track is None:
                return
            if not self._counted and event.reason in ("skipped", "stopped"):
                self._advance(float(event.position))  # the last moments before it was left
            if not self._counted:
                if event.reason == "finished":
                    self._count(self._track, PLAY)
                elif event.reason in ("skipped", "stopped") and event.position < SKIP_WITHIN_S:
                    self._count(self._track, SKIP)
            self._track, self._last = None, None

    def _advance(self, position: float) -> None:
        if self._last is not None:
            step = position - self._last
            if 0.0 < step <= _MAX_STEP_S:
                self._heard += step
        self._last = position
        if not self._counted and self._track is not None and self._heard >= play_threshold(self._duration):
            self._count(self._track, PLAY)

    def _count(self, track: Any, kind: str) -> None:
        self._counted = True
        self._on_listen(track, kind)
