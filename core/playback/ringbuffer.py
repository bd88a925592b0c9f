"""A single-producer, single-consumer ring of float32 audio frames for the player.

The decoder thread writes (:meth:`AudioRing.write`), the audio callback reads
(:meth:`AudioRing.read_into`).  Positions are absolute frame counters (``written``, ``read``)
that only grow, so "frame N of the stream" has one meaning for both sides and for the player's
track marks.  Reading never allocates: it copies into the caller's array (at most two slices).

Two ways to drop queued audio without the producer touching the consumer's counter:

- :meth:`discard_all`: the consumer skips everything written so far (seek, skip, stop); the
  producer may write new audio right away, after the discarded part.
- :meth:`rewind`: the producer takes back what it wrote after frame ``at`` (a pre-decoded next
  track when the queue changes), if the consumer has not reached ``at``.

A short lock guards only the index updates (never I/O, never a wait), so the consumer's copy
and a producer's rewind cannot interleave.
"""
from __future__ import annotations

import threading

import numpy as np


class AudioRing:
    """``capacity`` frames of ``channels`` float32 samples."""

    def __init__(self, capacity: int, channels: int):
        self.capacity = int(capacity)
        self.channels = int(channels)
        self.buf = np.zeros((self.capacity, self.channels), np.float32)
        self.lock = threading.Lock()
        self.written = 0  #: frames published by the producer (absolute)
        self.read = 0  #: frames taken by the consumer (absolute)
        self.discard_to = 0  #: the consumer skips to here before reading

    # --- producer side ----------------------------------------------------------------------
    def free(self) -> int:
        return self.capacity - (self.written - max(self.read, self.discard_to))

    def write(self, block: np.ndarray) -> int:
        """Copy as much of ``block`` ``(n, channels)`` as fits; returns the frames written."""
        n = min(len(block), self.free())
        if n <= 0:
            return 0
        w = self.written
        a = w % self.capacity
        first = min(n, self.capacity - a)
        self.buf[a : a + first] = block[:first]
        if n > first:
            self.buf[: n - first] = block[first:n]
        self.written = w + n  # publish after the copy
        return n

    def discard_all(self) -> int:
        """Make the consumer skip everything written so far; returns the new start frame."""
        with self.lock:
            self.discard_to = self.written
            return self.written

    def rewind(self, at: int) -> bool:
        """Take back the frames written after ``at`` if none of them has been read."""
        with self.lock:
            if max(self.read, self.discard_to) > at or at > self.written:
                return False
            self.written = at
            return True

    # --- consumer side (the audio callback) -------------------------------------------------
    def read_into(self, out: np.ndarray, frames: int, *, advance: bool = True) -> tuple[int, int]:
        """Copy up to ``frames`` queued frames into ``out[:frames]``; returns
        ``(start_frame, n_copied)``.  ``out`` rows after ``n_copied`` are left untouched.
        With ``advance=False`` the frames stay queued (a peek: the pause fade-out)."""
        with self.lock:
            r = self.read
            if r < self.discard_to:
                r = self.discard_to
            n = self.written - r
            if n > frames:
                n = frames
            if n > 0:
                a = r % self.capacity
                first = self.capacity - a
                if first >= n:
                    out[:n] = self.buf[a : a + n]
                else:
                    out[:first] = self.buf[a:]
                    out[first:n] = self.buf[: n - first]
            else:
                n = 0
            self.read = r + n if advance else r
            return r, n

    def available(self) -> int:
        return self.written - max(self.read, self.discard_to)
