"""The play queue: the tracks to play next, the tracks played, and the order rules (shuffle,
repeat) that decide which track comes next.

Pure data, no threads and no audio: the :class:`core.playback.Player` holds one, edits it on its
engine thread and guards it with its own lock.  A track is any object (a path or a catalog row);
tracks are told apart by identity (``is``), so the same song queued twice is two entries.

The order rules:

- ``shuffle``: the next track is drawn at random from the upcoming ones, so every queued track
  plays once before any plays again; where it can, the draw avoids the artist just heard
  (``artist_of(track)``; tracks without an artist never count as the same artist).
- ``repeat``: ``"off"``; ``"all"``: when the upcoming tracks run out, the round (every track
  played since the round began: the last track started with :meth:`start_round`, and the ones
  taken off the queue after it) is queued again; ``"one"``: the current track is handed out
  again (a skip, :meth:`pop_next` with ``skip=True``, still moves on).

The player takes the next track off the queue before the current one ends (to decode it ahead
for gapless playback) and gives it back with :meth:`give_back` when that turns out early (a skip,
a queue edit): a repeat handed out is then dropped rather than queued.
"""
from __future__ import annotations

import random
from collections import Counter
from typing import Any, Callable

REPEAT_MODES = ("off", "all", "one")


def _artist(track: Any) -> str | None:
    return getattr(track, "artist", None) or None


class PlayQueue:
    """``upcoming``: the tracks still to play, in the user's order.  ``history``: the tracks
    played, oldest first (the last one is where :meth:`pop_previous` goes back to).
    ``current``: the track last handed out or started.  ``rng``: the shuffle's random source (a
    seeded ``random.Random`` makes the order reproducible)."""

    def __init__(self, *, rng: random.Random | None = None, artist_of: Callable[[Any], str | None] = _artist):
        self.upcoming: list[Any] = []
        self.history: list[Any] = []
        self.current: Any = None
        self.round: list[Any] = []
        self.shuffle = False
        self._repeat = "off"
        self.rng = rng or random.Random()
        self.artist_of = artist_of
        # taken off, not yet heard to the end: (track, its index or None for a repeat, the current before)
        self._handed: list[tuple[Any, int | None, Any]] = []

    # --- modes --------------------------------------------------------------------------------
    @property
    def repeat(self) -> str:
        return self._repeat

    @repeat.setter
    def repeat(self, mode: str) -> None:
        if mode not in REPEAT_MODES:
            raise ValueError(f"repeat must be one of {', '.join(REPEAT_MODES)}, not {mode!r}")
        self._repeat = mode

    # --- edits --------------------------------------------------------------------------------
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

    def remove_items(self, tracks) -> int:
        """Take out these upcoming entries (by identity: each given object removes the entry
        that is that object; one gone already is ignored).  Returns how many were removed."""
        gone = Counter(id(t) for t in tracks)
        keep = []
        for t in self.upcoming:
            if gone[id(t)] > 0:
                gone[id(t)] -= 1
            else:
                keep.append(t)
        n = len(self.upcoming) - len(keep)
        self.upcoming[:] = keep
        return n

    def clear(self) -> None:
        """Forget every upcoming track (the history stays)."""
        self.upcoming.clear()

    # --- playing ------------------------------------------------------------------------------
    def start_round(self, track: Any) -> None:
        """``track`` is played on request (not taken off the queue): it begins a new round."""
        self.current = track
        self.round = [track]
        self._handed.clear()

    def now_playing(self, track: Any) -> None:
        """``track`` is being played now (the repeat-one track, the round's latest)."""
        self.current = track
        if not any(t is track for t in self.round):
            self.round.append(track)

    def pop_next(self, *, skip: bool = False) -> Any | None:
        """The next track to play, taken off the queue (None when there is none).  ``skip``: the
        user asked for the next track, so repeat-one moves on too."""
        if self._repeat == "one" and not skip and self.current is not None:
            self._handed.append((self.current, None, self.current))
            return self.current
        if not self.upcoming and self._repeat == "all" and self.round:
            self.upcoming = list(self.round)
            self.round = []
        if not self.upcoming:
            return None
        i = self._pick() if self.shuffle else 0
        track = self.upcoming.pop(i)
        self._handed.append((track, i, self.current))
        del self._handed[:-8]  # the player looks at most a few tracks ahead
        self.round.append(track)
        self.current = track
        return track

    def _pick(self) -> int:
        """A random upcoming index; not the current artist where another is left, and the most
        queued artist first when it needs every other slot to stay apart."""
        last = self.artist_of(self.current) if self.current is not None else None
        artists = [self.artist_of(t) for t in self.upcoming]
        idx = [i for i, a in enumerate(artists) if a is None or a != last] or list(range(len(artists)))
        counts = Counter(a for a in artists if a is not None)
        n = len(artists)
        if counts:
            top, c = counts.most_common(1)[0]
            if top != last and 2 * c > n:  # left for later, two of them would have to meet
                idx = [i for i in idx if artists[i] == top]
        return self.rng.choice(idx)

    def give_back(self, *tracks: Any) -> None:
        """Undo :meth:`pop_next` for ``tracks`` (in the order they were handed out): each goes
        back where it was taken from; a repeat goes nowhere."""
        for track in reversed(tracks):
            k = next((j for j in range(len(self._handed) - 1, -1, -1) if self._handed[j][0] is track), None)
            if k is None:
                self.upcoming.insert(0, track)
                continue
            _, index, before = self._handed.pop(k)
            self.current = before
            if index is not None:
                self.upcoming.insert(min(index, len(self.upcoming)), track)
                for j in range(len(self.round) - 1, -1, -1):
                    if self.round[j] is track:
                        del self.round[j]
                        break

    def is_repeat(self, track: Any) -> bool:
        """``track`` was handed out as a repeat (it is not a queued entry)."""
        return any(t is track and i is None for t, i, _c in self._handed)

    def played(self, track: Any) -> None:
        """Record ``track`` in the history: it was played (or skipped, or failed)."""
        self.history.append(track)
        for j, (t, _i, _c) in enumerate(self._handed):
            if t is track:
                del self._handed[: j + 1]
                break

    def pop_previous(self) -> Any | None:
        """The last track played, taken off the history (None when nothing was played)."""
        return self.history.pop() if self.history else None
