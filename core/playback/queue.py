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

When the upcoming tracks run out, a ``source`` (a :class:`ViewSource`: the rows of a view, as
the library table shows them) hands out the next track, in its order or, with shuffle, drawn
the same way as the queue's (:func:`draw`): every row once before any again.  With a source,
repeat-all goes round the view instead of the round.

The player takes the next track off the queue before the current one ends (to decode it ahead
for gapless playback) and gives it back with :meth:`give_back` when that turns out early (a skip,
a queue edit): a repeat handed out is then dropped rather than queued.
"""
from __future__ import annotations

import random
from collections import Counter
from typing import Any, Callable, Sequence

REPEAT_MODES = ("off", "all", "one")


def _artist(track: Any) -> str | None:
    return getattr(track, "artist", None) or None


def draw(tracks: Sequence[Any], last_artist: str | None, rng: random.Random,
         artist_of: Callable[[Any], str | None] = _artist) -> int:
    """A random index into ``tracks`` (not empty) for shuffle: not ``last_artist`` where
    another is left, and the most frequent artist first when it needs every other slot to stay
    apart (more than half of what is left).  Tracks without an artist never count as the same."""
    artists = [artist_of(t) for t in tracks]
    idx = [i for i, a in enumerate(artists) if a is None or a != last_artist] or list(range(len(artists)))
    counts = Counter(a for a in artists if a is not None)
    n = len(artists)
    if counts:
        top, c = counts.most_common(1)[0]
        if top != last_artist and 2 * c > n:  # left for later, two of them would have to meet
            idx = [i for i in idx if artists[i] == top]
    return rng.choice(idx)


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
        #: where the next track comes from once ``upcoming`` is empty (None: nowhere)
        self.source: ViewSource | None = None
        # taken off, not yet heard to the end: (track, its index or None when it was no queued
        # entry, the current before, whether the source handed it out)
        self._handed: list[tuple[Any, int | None, Any, bool]] = []

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

    #: ``move_items``'s place for the head of the queue
    TOP = object()

    def move_items(self, tracks, before: Any = None) -> int:
        """Move these upcoming entries (by identity; one no longer queued is ignored), in their
        queue order, to just before the entry ``before`` (:attr:`TOP`: the head; None, or an
        entry not queued or among those moved: the end).  Returns how many moved."""
        ids = Counter(id(t) for t in tracks)
        moved, keep = [], []
        for t in self.upcoming:
            if ids[id(t)] > 0:
                ids[id(t)] -= 1
                moved.append(t)
            else:
                keep.append(t)
        if before is self.TOP:
            at = 0
        else:
            at = next((i for i, t in enumerate(keep) if t is before), len(keep)) if before is not None else len(keep)
        keep[at:at] = moved
        self.upcoming[:] = keep
        return len(moved)

    def clear(self) -> None:
        """Forget every upcoming track (the history stays)."""
        self.upcoming.clear()

    # --- playing ------------------------------------------------------------------------------
    def start_round(self, track: Any) -> None:
        """``track`` is played on request (not taken off the queue): it begins a new round."""
        self.current = track
        self.round = [track]
        self._handed.clear()
        if self.source is not None:
            self.source.requested(track)

    def now_playing(self, track: Any) -> None:
        """``track`` is being played now (the repeat-one track, the round's latest)."""
        self.current = track
        if not any(t is track for t in self.round):
            self.round.append(track)
        if self.source is not None:
            self.source.started(track)

    def pop_next(self, *, skip: bool = False) -> Any | None:
        """The next track to play, taken off the queue (None when there is none).  ``skip``: the
        user asked for the next track, so repeat-one moves on too."""
        if self._repeat == "one" and not skip and self.current is not None:
            self._handed.append((self.current, None, self.current, False))
            return self.current
        if not self.upcoming and self.source is not None:
            track = self.source.next_after(self.current, shuffle=self.shuffle, repeat=self._repeat, rng=self.rng,
                                           artist_of=self.artist_of)
            if track is not None:
                self._handed.append((track, None, self.current, True))
                del self._handed[:-8]
                self.current = track
            return track
        if not self.upcoming and self._repeat == "all" and self.round:
            self.upcoming = list(self.round)
            self.round = []
        if not self.upcoming:
            return None
        i = self._pick() if self.shuffle else 0
        track = self.upcoming.pop(i)
        self._handed.append((track, i, self.current, False))
        del self._handed[:-8]  # the player looks at most a few tracks ahead
        self.round.append(track)
        self.current = track
        return track

    def _pick(self) -> int:
        """A random upcoming index (:func:`draw`, after the current track's artist)."""
        last = self.artist_of(self.current) if self.current is not None else None
        return draw(self.upcoming, last, self.rng, self.artist_of)

    def give_back(self, *tracks: Any) -> None:
        """Undo :meth:`pop_next` for ``tracks`` (in the order they were handed out): each goes
        back where it was taken from; a repeat goes nowhere, and one from the source goes back
        to it (to be handed out again)."""
        for track in reversed(tracks):
            k = next((j for j in range(len(self._handed) - 1, -1, -1) if self._handed[j][0] is track), None)
            if k is None:
                self.upcoming.insert(0, track)
                continue
            _, index, before, from_source = self._handed.pop(k)
            self.current = before
            if from_source and self.source is not None:
                self.source.give_back(track)
            if index is not None:
                self.upcoming.insert(min(index, len(self.upcoming)), track)
                for j in range(len(self.round) - 1, -1, -1):
                    if self.round[j] is track:
                        del self.round[j]
                        break

    def is_unqueued(self, track: Any) -> bool:
        """``track`` was handed out as a repeat or by the source: it is not a queued entry."""
        return any(t is track and i is None for t, i, _c, _s in self._handed)

    def played(self, track: Any) -> None:
        """Record ``track`` in the history: it was played (or skipped, or failed)."""
        self.history.append(track)
        for j, (t, _i, _c, _s) in enumerate(self._handed):
            if t is track:
                del self._handed[: j + 1]
                break

    def pop_previous(self) -> Any | None:
        """The last track played, taken off the history (None when nothing was played)."""
        return self.history.pop() if self.history else None


class ViewSource:
    """The tracks to go on with once the queue is empty: the rows of a view (the library table as
    it is sorted and filtered now), read when a track is needed.

    ``rows()``: the rows shown now, a sequence replaced on change and never edited in place (it
    is read on the player's thread); ``make(row)``: the track to play for a row; ``key(obj)``:
    what tells rows apart, for rows and tracks alike (a catalog id; None: not a row).

    In order (:meth:`next_after`): the row after the current track, or after the last row
    played when the current track is not shown (a queued one), else the first row; after the
    last row, the first again with repeat-all, else nothing.  With shuffle: a row not played in
    this round, drawn by :func:`draw` after the current track's artist, so every row plays once
    before any again; once all have, a new round with repeat-all, else nothing, until the user
    plays a track again.
    """

    #: rows played recently, newest last: where "in order" goes on from
    RECENT = 64
    #: shuffle draws from at most this many of the rows not played yet, picked at random (the
    #: artists are counted among those: with thousands of rows that changes nothing a listener
    #: hears, and a track start costs a few milliseconds instead of tens)
    DRAW_FROM = 500

    def __init__(self, rows: Callable[[], Sequence[Any]], *, make: Callable[[Any], Any],
                 key: Callable[[Any], Any] = lambda obj: getattr(obj, "id", None)):
        self.rows, self.make, self.key = rows, make, key
        self.played: set = set()  # this shuffle round's rows
        self._recent: list = []

    def _note(self, track: Any) -> Any:
        k = self.key(track) if track is not None else None
        if k is not None:
            self.played.add(k)
            if not self._recent or self._recent[-1] != k:
                self._recent.append(k)
                del self._recent[:-self.RECENT]
        return k

    def started(self, track: Any) -> None:
        """``track`` is being played now."""
        self._note(track)

    def requested(self, track: Any) -> None:
        """The user played ``track``: after a round that has ended, a new one begins with it."""
        rows = self.rows()
        if rows and all(self.key(r) in self.played for r in rows):
            self.played.clear()
        self._note(track)

    def give_back(self, track: Any) -> None:
        """``track``, handed out by :meth:`next_after`, was not played after all."""
        k = self.key(track)
        self.played.discard(k)
        if self._recent and self._recent[-1] == k:
            self._recent.pop()

    def next_after(self, current: Any, *, shuffle: bool, repeat: str, rng: random.Random,
                   artist_of: Callable[[Any], str | None] = _artist) -> Any | None:
        """The next track after ``current`` (see the class), marked as played; None at the end."""
        rows = self.rows()
        if not rows:
            return None
        self._note(current)
        if shuffle:
            left = [r for r in rows if self.key(r) not in self.played]
            if not left:
                if repeat != "all":
                    return None
                self.played = set()  # a new round: every row again, the current one not first
                cur = self.key(current) if current is not None else None
                left = [r for r in rows if self.key(r) != cur] or list(rows)
            if len(left) > self.DRAW_FROM:  # a big view: a random sample is as good and costs less
                left = rng.sample(left, self.DRAW_FROM)
            last = artist_of(current) if current is not None else None
            row = left[draw(left, last, rng, artist_of)]
        else:
            pos = {self.key(r): i for i, r in enumerate(rows)}
            at = next((pos[k] for k in reversed(self._recent) if k in pos), -1)
            if at + 1 >= len(rows):
                if repeat != "all":
                    return None
                at = -1
            row = rows[at + 1]
        track = self.make(row)
        self._note(track)
        return track
