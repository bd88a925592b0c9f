"""The play queue: the tracks to play next, in order, and the tracks played, oldest first.

Pure data, no threads and no audio: the :class:`core.playback.Player` holds one, edits it on its
engine thread and guards it with its own lock.  A track is any object (a path or a catalog row);
the queue compares nothing but positions.
"""
from __future__ import annotations

from typing import Any


class PlayQueue:
    """``upcoming``: the tracks still to play, next first.  ``history``: the tracks played,
    oldest first (the last one is where :meth:`pop_previous` goes back to)."""

    def __init__(self) -> None:
        self.upcoming: list[Any] = []
        self.history: list[Any] = []

    def append(self, *tracks: Any) -> None:
        """Add ``tracks`` at the end."""
        self.upcoming.extend(tracks)

    def play_next(self, *tracks: Any) -> None:
        """Put ``tracks``, in this order, at the head: they play before everything queued."""
        self.upcoming[0:0] = tracks

    def remove(self, index: int) -> None:
        """Take out the upcoming track at ``index`` (nothing when there is none there)."""
        if 0 <= index < len(self.upcoming):
            del self.upcoming[index]

    def clear(self) -> None:
        """Forget every upcoming track (the history stays)."""
        self.upcoming.clear()

    def pop_next(self) -> Any | None:
        """The next track to play, taken off the queue (None when it is empty)."""
        return self.upcoming.pop(0) if self.upcoming else None

    def played(self, track: Any) -> None:
        """Record ``track`` in the history: it was played (or skipped, or failed)."""
        self.history.append(track)

    def pop_previous(self) -> Any | None:
        """The last track played, taken off the history (None when nothing was played)."""
        return self.history.pop() if self.history else None
