"""Gapless playback on a sounddevice (PortAudio) output stream.

Three threads touch a :class:`Player`:

- **the audio callback** (PortAudio's thread) only copies from a pre-filled ring
  (:class:`core.playback.ringbuffer.AudioRing`) into the device buffer and applies a per-block linear
  volume ramp.  No allocation of audio buffers, no waiting, no logging, no Qt.  It records the
  frame counter and PortAudio's time stamps of the block it handed over, from which
  :attr:`Player.position` is computed.
- **the engine thread** (one per player) decodes (:func:`core.audio.decode.open_stream`) ahead of
  the callback to keep the ring full, runs the commands the public methods post, watches the
  frame counter cross track boundaries, and sends the events.
- **the caller** (the UI): every public method returns at once; the engine carries it out.

The output (:mod:`core.playback.output`) is a PortAudio device, or a :class:`NullOutput` for
tests of the player's logic.  The queue and the history are a :class:`PlayQueue`, which also
decides what plays next (shuffle, repeat off / all / one); a repeat is decoded gaplessly like any
next track.

Gapless: the next track of the queue is decoded straight after the current one into the same
ring while its rate matches the open stream, so the device receives the two tracks' samples
back to back.  A track at another rate is decoded once the ring has drained; the stream is then
reopened at the new rate.  A rate the device refuses is resampled (soxr HQ) to the device's rate.

Events (:mod:`core.playback.events`, plain callbacks from the engine thread; ``subscribe(fn)``):
:class:`StateChanged`, :class:`Position`, :class:`TrackStarted`, :class:`TrackEnded`,
:class:`PlaybackError`, :class:`QueueChanged`.

Without any output device the player is in state ``"no_device"`` (:attr:`Player.unavailable_reason`
says why) and every play request answers with a :class:`PlaybackError`.  A stream that fails
mid-track (device unplugged) stops cleanly with a :class:`PlaybackError`.  A file that fails
mid-stream plays up to the failure, sends a :class:`PlaybackError` and the queue moves on.
"""
from __future__ import annotations

import logging
import os
import queue as _queue
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from core.audio import decode
from core.errors import DecodeFailed, FileError, TooShort
from core.playback.events import (
    NO_DEVICE,
    PAUSED,
    PLAYING,
    STOPPED,
    Event,
    PlaybackError,
    Position,
    QueueChanged,
    StateChanged,
    TrackEnded,
    TrackStarted,
)
from core.playback.levelling import Levelling
from core.playback.output import NO_DEVICE_REASON, NullOutput, SoundDeviceOutput
from core.playback.queue import REPEAT_MODES, PlayQueue
from core.playback.ringbuffer import AudioRing

log = logging.getLogger(__name__)


def track_path(track: Any) -> str:
    """A queue item is a path (str / PathLike) or any object with a ``path`` attribute."""
    p = getattr(track, "path", track)
    return os.fspath(p)


@dataclass
class _Segment:
    """A track's audio in the ring, from absolute frame ``start`` to ``end`` (None: still decoding)."""

    track: Any
    info: decode.AudioInfo
    sr: int
    offset: float  # seconds into the track at ``start``
    start: int
    end: int | None = None
    error: FileError | None = None
    started: bool = False
    gain: float = 1.0  # volume levelling's factor for this track's samples (core.playback.levelling)


@dataclass
class _Pending:
    """The next track, opened, waiting for the ring to drain before the stream changes rate."""

    track: Any
    stream: decode.AudioStream
    start: float


@dataclass
class _CallbackStats:
    calls: int = 0
    underflows: int = 0  #: blocks the ring could not fill while audio was still expected
    device_underflows: int = 0  #: PortAudio's own output-underflow flags
    max_seconds: float = 0.0  #: worst run time of the callback body
    max_late: float = 0.0  #: worst delay between PortAudio's call time and our code running
    total_seconds: float = 0.0


class Player:
    """Gapless player.  See the module docstring for threads and events.

    ``output``: where the audio goes; by default a :class:`SoundDeviceOutput` on ``device`` (a
    sounddevice device, index or name; None = default output) with ``channels`` (None: up to 2),
    ``latency`` (PortAudio's suggested latency, ``"high"`` = robust on a busy machine) and
    ``blocksize`` (0: PortAudio chooses).  ``buffer_seconds``: decoded audio kept ahead of the
    device.  ``tap``: for tests and measurements only, called from the audio callback with each
    output block (a view: copy it) after the volume is applied.  ``switch_interval``: lowers
    Python's thread switch interval (``sys.setswitchinterval``, a process-wide setting) so the
    callback gets the GIL back quickly; None leaves it alone.
    """

    #: a running stream whose callback has not been called for this long has lost its device
    WATCHDOG_SECONDS = 3.0

    def __init__(
        self,
        *,
        device: Any = None,
        buffer_seconds: float = 2.0,
        block_frames: int = 4096,
        latency: Any = "high",
        blocksize: int = 0,
        position_interval: float = 0.1,
        tap: Callable[[np.ndarray], None] | None = None,
        channels: int | None = None,
        switch_interval: float | None = 0.001,
        output: SoundDeviceOutput | NullOutput | None = None,
    ):
        self._buffer_seconds = float(buffer_seconds)
        self._block_frames = int(block_frames)
        self._position_interval = float(position_interval)
        self._tap = tap
        self._listeners: list[Callable[[Event], None]] = []
        self._listeners_lock = threading.Lock()

        self._tracks = PlayQueue()  # upcoming (not yet in the ring) and played tracks
        self._qlock = threading.Lock()

        if output is None:
            output = SoundDeviceOutput(device, channels=channels, latency=latency, blocksize=blocksize)
        self._out = output
        self.unavailable_reason: str | None = output.unavailable_reason
        self._state = NO_DEVICE if output.unavailable_reason else STOPPED

        # engine-owned playback state
        self._ring: AudioRing | None = None
        self._segments: list[_Segment] = []
        self._dec: Any = None  # iterator of the segment being decoded (the last one)
        self._dec_stream: decode.AudioStream | None = None
        self._carry: np.ndarray | None = None
        self._pending: _Pending | None = None
        self._last_position_event = 0.0
        self._stream_died: str | None = None
        self._watch_calls, self._watch_since = -1, 0.0

        self._levelling = Levelling()
        self._stop_after = False

        # shared with the callback (plain attribute reads/writes)
        self._volume = 1.0
        self._gain = 1.0
        self._paused = False
        self._cb_last: tuple | None = None  # (start_frame, n_frames, dac_time, current_time)
        self._cb_error: BaseException | None = None
        self._stats = _CallbackStats()
        self._expect_more = False  # the engine will still write audio (so an empty ring is an underflow)
        self._gain_ramp = np.arange(65536, dtype=np.float32)
        self._gain_buf = np.zeros(65536, np.float32)

        if switch_interval and sys.getswitchinterval() > switch_interval:
            # The callback runs Python: after each numpy call that lets go of the GIL it must win
            # it back from the decoder thread, which by default may keep it 5 ms.  Process-wide.
            sys.setswitchinterval(switch_interval)

        self._cmds: _queue.Queue = _queue.Queue()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="melograph-player", daemon=True)
        self._thread.start()

    @property
    def available(self) -> bool:
        return self._state != NO_DEVICE

    @property
    def output_name(self) -> str | None:
        """The output device's name (None: there is none)."""
        return self._out.name

    # ------------------------------------------------------------------------------------------
    # events

    def subscribe(self, fn: Callable[[Event], None]) -> Callable[[], None]:
        """Call ``fn(event)`` for every event (from the engine thread).  ``fn`` gets the current
        state at once (a :class:`StateChanged` with ``previous == state``).  Returns an
        unsubscribe function."""
        with self._listeners_lock:
            self._listeners.append(fn)
        self._safe_call(fn, StateChanged(self._state, self._state, self.unavailable_reason or ""))

        def unsubscribe():
            with self._listeners_lock:
                if fn in self._listeners:
                    self._listeners.remove(fn)

        return unsubscribe

    def _emit(self, event: Event) -> None:
        with self._listeners_lock:
            fns = list(self._listeners)
        for fn in fns:
            self._safe_call(fn, event)

    @staticmethod
    def _safe_call(fn, event) -> None:
        try:
            fn(event)
        except Exception:  # a listener's bug must not stop playback
            log.exception("player event listener failed on %r", event)

    def _set_state(self, state: str, reason: str = "") -> None:
        if state != self._state:
            prev, self._state = self._state, state
            self._emit(StateChanged(state, prev, reason))

    # ------------------------------------------------------------------------------------------
    # public API (all non-blocking: the engine thread carries the request out)

    @property
    def state(self) -> str:
        return self._state

    @property
    def current(self) -> Any:
        """The track being heard (None when stopped)."""
        seg = self._current_segment()
        return seg.track if seg else None

    @property
    def duration(self) -> float:
        seg = self._current_segment()
        return seg.info.duration if seg else 0.0

    @property
    def position(self) -> float:
        """Seconds into the current track of the audio the device is playing now: the frame
        counter of the last block handed to the device, advanced by the stream clock since
        PortAudio stamped that block (so within one block, typically a few ms)."""
        seg = self._current_segment()
        if seg is None:
            return 0.0
        frame = self._audible_frame()
        if seg.end is not None:
            frame = min(frame, seg.end)
        return seg.offset + max(0, frame - seg.start) / seg.sr

    @property
    def volume(self) -> float:
        return self._volume

    @volume.setter
    def volume(self, value: float) -> None:
        """Linear gain 0..1; the callback ramps to it over one block (no clicks)."""
        self._volume = float(min(1.0, max(0.0, value)))

    @property
    def levelling(self) -> Levelling:
        """Volume levelling (:class:`core.playback.levelling.Levelling`): each track's samples are
        scaled by its ReplayGain factor as they are decoded, so the change falls exactly on the
        track boundary and gapless playback stays gapless.  A new setting applies from the audio
        not yet decoded (the ring holds about ``buffer_seconds`` ahead)."""
        return self._levelling

    @levelling.setter
    def levelling(self, value: Levelling) -> None:
        if not isinstance(value, Levelling):
            raise TypeError("levelling must be a core.playback.levelling.Levelling")
        self._levelling = value
        if not self._closed:
            self._post(self._do_levelling)

    @property
    def stats(self) -> _CallbackStats:
        """Audio callback statistics (underflows, worst-case run time)."""
        return self._stats

    @property
    def stream_rate(self) -> int:
        """The rate of the open output stream (0 when none is open)."""
        return self._out.rate

    def play(self, track: Any = None, *, start: float = 0.0, paused: bool = False) -> None:
        """Play ``track`` now (at ``start`` s), or, without a track, resume / start the queue.
        ``paused``: load ``track`` at ``start`` and hold it there, silent, in state ``"paused"``
        (``resume`` plays it from there)."""
        if track is None:
            self._post(self._do_play_default)
        else:
            self._post(self._do_play, track, float(start), "skipped", bool(paused))

    def pause(self) -> None:
        self._post(self._do_pause)

    def resume(self) -> None:
        self._post(self._do_resume)

    def toggle(self) -> None:
        self._post(lambda: self._do_resume() if self._state == PAUSED else self._do_pause())

    def stop(self) -> None:
        self._post(self._do_stop)

    def seek(self, seconds: float) -> None:
        """Jump to ``seconds`` in the current track (the queued audio is dropped at once)."""
        self._post(self._do_seek, float(seconds))

    def next(self) -> None:
        self._post(self._do_next)

    def previous(self) -> None:
        """Back to the start of the track after its first 3 s, else to the previous track."""
        self._post(self._do_previous)

    def enqueue(self, *tracks: Any) -> None:
        """Add tracks at the end of the queue."""
        self._post(self._do_queue_edit, lambda q: q.append(*tracks), False)

    def play_next(self, *tracks: Any) -> None:
        """Put tracks at the head of the queue (they play after the current one)."""
        self._post(self._do_queue_edit, lambda q: q.play_next(*tracks), True)

    def clear_queue(self) -> None:
        self._post(self._do_queue_edit, PlayQueue.clear, True)

    def remove_from_queue(self, index: int) -> None:
        """Take out the track at ``index`` of :attr:`queue` as it is when the engine gets to it
        (to take out tracks the user picked, use :meth:`remove_tracks`)."""
        self._post(self._do_queue_edit, lambda q: q.remove(index), True)

    def remove_tracks(self, tracks) -> None:
        """Take these entries out of the queue, all at once, by identity (the objects listed
        by :attr:`queue` or sent in :class:`QueueChanged`): whatever else changes the queue in
        between, exactly these go.  Entries no longer queued are ignored."""
        tracks = list(tracks)
        self._post(self._do_queue_edit, lambda q: q.remove_items(tracks), True)

    def move_tracks(self, tracks, before: Any = None) -> None:
        """Move these entries of the queue (by identity, in their queue order) to just before
        the entry ``before`` (None, or an entry no longer queued: to the end)."""
        tracks = list(tracks)
        self._post(self._do_queue_edit, lambda q: q.move_items(tracks, before), True)

    def move_tracks_to_top(self, tracks) -> None:
        """Move these entries of the queue (by identity) to its head, in their queue order."""
        tracks = list(tracks)
        self._post(self._do_queue_edit, lambda q: q.move_items(tracks, PlayQueue.TOP), True)

    def set_source(self, source) -> None:
        """Where the next track comes from once the queue is empty (a
        :class:`core.playback.queue.ViewSource`, or None: playback stops there)."""
        self._post(self._do_queue_edit, lambda q: setattr(q, "source", source), False)

    @property
    def shuffle(self) -> bool:
        """Play the queue in a random order (see :class:`PlayQueue`)."""
        return self._tracks.shuffle

    @shuffle.setter
    def shuffle(self, on: bool) -> None:
        self._post(self._do_queue_edit, lambda q: setattr(q, "shuffle", bool(on)), True)

    @property
    def repeat(self) -> str:
        """``"off"``, ``"all"`` (the round again after its last track) or ``"one"`` (the
        current track again)."""
        return self._tracks.repeat

    @repeat.setter
    def repeat(self, mode: str) -> None:
        if mode not in REPEAT_MODES:
            raise ValueError(f"repeat must be one of {', '.join(REPEAT_MODES)}, not {mode!r}")
        self._post(self._do_queue_edit, lambda q: setattr(q, "repeat", mode), True)

    @property
    def stop_after_current(self) -> bool:
        """Stop when the current track ends instead of going on with the queue (the queue is
        kept).  It turns itself off once playback has stopped there."""
        return self._stop_after

    @stop_after_current.setter
    def stop_after_current(self, on: bool) -> None:
        self._stop_after = bool(on)
        if not self._closed:
            self._post(self._do_stop_after)

    @property
    def queue(self) -> list:
        """The upcoming tracks, in order (a copy).  A next track already pre-decoded for
        gapless playback is still listed here until it starts."""
        with self._qlock:
            pre = [s.track for s in self._segments[1:]]
            if self._pending is not None:
                pre.append(self._pending.track)
            return [t for t in pre if not self._tracks.is_unqueued(t)] + list(self._tracks.upcoming)

    @property
    def history(self) -> list:
        """The tracks played, oldest first (a copy)."""
        with self._qlock:
            return list(self._tracks.history)

    def sync(self, timeout: float = 5.0) -> bool:
        """Wait until the engine has carried out every request made so far (for tests/scripts)."""
        ev = threading.Event()
        self._post(ev.set)
        return ev.wait(timeout)

    def close(self) -> None:
        """Stop playback and the engine thread; the player cannot be used afterwards."""
        if self._closed:
            return
        self._post(self._do_close)
        self._thread.join(5.0)
        self._closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _post(self, fn, *args) -> None:
        if self._closed:
            raise RuntimeError("the player is closed")
        self._cmds.put((fn, args))

    # ------------------------------------------------------------------------------------------
    # the audio callback: copy, ramp, count.  Nothing else.

    def _callback(self, outdata, frames, time_info, status):
        t0 = time.perf_counter()
        st = self._stats
        try:
            try:
                late = self._out.time - time_info.currentTime
                if late > st.max_late:
                    st.max_late = late
            except Exception:
                pass
            st.calls += 1
            if status.output_underflow:
                st.device_underflows += 1
            ring = self._ring
            target = 0.0 if self._paused else self._volume
            g0 = self._gain
            if g0 == 0.0 and target == 0.0 and self._paused:
                outdata.fill(0)  # paused: hold the ring where it is
                n = 0
                start = ring.read
            else:
                skipped = ring.read < ring.discard_to
                fading_out = self._paused  # the pause fade: play the block faded, but keep it queued
                start, n = ring.read_into(outdata, frames, advance=not fading_out)
                if n < frames:
                    outdata[n:].fill(0)
                    if self._expect_more:
                        st.underflows += 1
                if skipped:
                    g0 = 0.0  # fade in after a seek/skip
                if g0 != target and frames <= len(self._gain_buf):
                    gb = self._gain_buf[:frames]
                    np.multiply(self._gain_ramp[:frames], np.float32((target - g0) / frames), out=gb)
                    gb += np.float32(g0)
                    np.multiply(outdata, gb[:, None], out=outdata)
                elif target != 1.0:
                    np.multiply(outdata, np.float32(target), out=outdata)
                self._gain = target
                if fading_out:
                    n = 0  # (resuming fades the same frames in again: nothing is lost)
            self._cb_last = (start, n, time_info.outputBufferDacTime, time_info.currentTime)
            dt = time.perf_counter() - t0  # the callback's own work (a tap's is not counted)
            st.total_seconds += dt
            if dt > st.max_seconds:
                st.max_seconds = dt
            if self._tap is not None:
                self._tap(outdata)
        except BaseException as exc:  # a failing device/tap: stop the stream, the engine reports
            if isinstance(exc, self._out.stops):
                raise
            self._cb_error = exc
            raise self._out.abort from exc

    def _on_stream_lost(self) -> None:  # the output's thread: the stream stopped on its own
        err = self._cb_error
        self._stream_died = f"audio output stopped: {err}" if err else "audio output stopped (the device went away or failed)"

    # ------------------------------------------------------------------------------------------
    # engine thread

    def _run(self) -> None:
        while True:
            busy = self._dec is not None and self._ring is not None and self._ring.free() >= self._block_frames
            # decoding to do: don't wait; playing: poll at 5 ms for boundaries and events;
            # no stream: sleep until a request comes
            timeout = 0.0 if busy else (0.005 if self._out.is_open else None)
            try:
                fn, args = self._cmds.get(timeout=timeout) if timeout != 0.0 else self._cmds.get_nowait()
            except _queue.Empty:
                fn = None
            try:
                while fn is not None:
                    if fn == self._do_close:
                        self._do_close()
                        return
                    fn(*args)
                    try:
                        fn, args = self._cmds.get_nowait()
                    except _queue.Empty:
                        fn = None
                self._decode_some()
                self._monitor()
            except Exception as exc:  # an engine bug must not leave the device running
                log.exception("player engine failed")
                self._emit(PlaybackError(self.current, "device", f"playback failed: {exc}"))
                self._teardown(reason="error")
                self._set_state(STOPPED if self.available else NO_DEVICE)

    # --- decoding ---------------------------------------------------------------------------

    def _decode_some(self, max_blocks: int = 4) -> None:
        ring = self._ring
        for _ in range(max_blocks):
            if self._dec is None or ring is None:
                return
            if self._carry is not None:
                n = ring.write(self._carry)
                if n < len(self._carry):
                    self._carry = self._carry[n:]
                    return
                self._carry = None
            if ring.free() < 1:
                return
            seg = self._segments[-1]
            try:
                block = next(self._dec)
            except StopIteration:
                self._end_decoding(seg, None)
                continue
            except FileError as exc:
                self._end_decoding(seg, exc)
                continue
            except Exception as exc:  # an unexpected decoder failure is a decode failure
                self._end_decoding(seg, DecodeFailed(track_path(seg.track), f"decoding failed: {exc}"))
                continue
            if seg.gain != 1.0:
                block = block * np.float32(seg.gain)
            n = ring.write(block)
            if n < len(block):
                self._carry = block[n:]

    def _gain_of(self, track: Any) -> float:
        try:
            return self._levelling.factor(track)
        except Exception:  # a track object with odd values plays as it is
            return 1.0

    def _do_levelling(self) -> None:
        if self._dec is not None and self._segments:
            self._segments[-1].gain = self._gain_of(self._segments[-1].track)

    def _end_decoding(self, seg: _Segment, err: FileError | None) -> None:
        self._close_decoder()
        seg.end = self._ring.written
        seg.error = err
        self._open_next_from_queue()

    def _close_decoder(self) -> None:
        if self._dec_stream is not None:
            try:
                self._dec_stream.close()
            except Exception:
                pass
        self._dec = None
        self._dec_stream = None
        self._carry = None

    def _open_track(self, track: Any, start: float) -> decode.AudioStream:
        """Open ``track`` for decoding at the rate the stream should run at: its own, or the
        output's default when the output refuses that (raises FileError)."""
        out = self._out
        s = decode.open_stream(track_path(track), channels=out.channels, block_frames=self._block_frames, start=start)
        want = s.info.sr if out.supports(s.info.sr) else out.default_rate
        if want != s.info.sr:
            s.close()
            s = decode.open_stream(
                track_path(track), sr=want, channels=out.channels, block_frames=self._block_frames, start=start
            )
        return s

    def _open_next_from_queue(self) -> None:
        """Gapless: start decoding the next queued track right after the current one, while the
        rates match; a track at another rate waits (``_pending``) until the ring has drained.
        Nothing follows while :attr:`stop_after_current` is on."""
        if self._stop_after and self._segments:
            self._expect_more = False
            return
        failed: set[int] = set()  # (repeat must not retry a file that just failed, forever)
        while self._dec is None and self._pending is None:
            with self._qlock:
                track = self._tracks.pop_next(skip=bool(failed))
            if track is None or id(track) in failed:
                if track is not None:
                    with self._qlock:
                        self._tracks.give_back(track)
                self._expect_more = False
                return
            try:
                s = self._open_track(track, 0.0)
            except FileError as exc:
                failed.add(id(track))
                w = self._ring.written
                self._segments.append(_Segment(track, _no_info(track), self._out.rate or 44100, 0.0, w, w, exc))
                continue
            if s.sr == self._out.rate:
                self._start_segment(track, s, 0.0)
            else:
                self._pending = _Pending(track, s, 0.0)
                self._expect_more = False  # the ring will drain on purpose

    def _start_segment(self, track: Any, s: decode.AudioStream, start: float, *, replace: bool = False) -> None:
        """Queue ``track``'s audio after what the ring holds or, with ``replace``, instead of it:
        then the first block is decoded *before* the ring is emptied, so the device never waits
        for the decoder after a seek or a skip."""
        it = iter(s)
        first = None
        if replace:
            try:
                first = next(it)
            except StopIteration:
                first = None
            except Exception as exc:  # reported when the decoder reaches it, like any failure
                it = _raising(exc)
            self._ring.discard_all()
            self._segments = []
        seg = _Segment(track, s.info, s.sr, start, self._ring.written, gain=self._gain_of(track))
        self._segments.append(seg)
        self._dec_stream = s
        self._dec = it
        self._carry = None
        if first is not None:
            if seg.gain != 1.0:
                first = first * np.float32(seg.gain)
            n = self._ring.write(first)
            if n < len(first):
                self._carry = first[n:]
        self._expect_more = True

    # --- stream -----------------------------------------------------------------------------

    def _open_output(self, sr: int) -> None:
        self._out.close(abort=True)
        self._ring = AudioRing(max(int(self._buffer_seconds * sr), 4 * self._block_frames), self._out.channels)
        self._cb_last = None
        self._cb_error = None
        self._stream_died = None
        self._gain = self._volume
        self._out.open(sr, self._callback, self._on_stream_lost)

    def _start_output(self) -> None:
        # pre-fill, so the first blocks never underflow
        want = int(0.5 * self._out.rate)
        deadline = time.monotonic() + 2.0
        while self._dec is not None and self._ring.available() < want and time.monotonic() < deadline:
            self._decode_some(max_blocks=1)
        self._watch_calls, self._watch_since = self._stats.calls, time.monotonic()
        self._out.start()

    # --- commands ---------------------------------------------------------------------------

    def _cannot_play(self, track: Any) -> bool:
        if self._state == NO_DEVICE:
            self._emit(PlaybackError(track, "device", self.unavailable_reason or NO_DEVICE_REASON))
            return True
        return False

    def _do_play_default(self) -> None:
        if self._state == PAUSED:
            self._do_resume()
        elif self._state in (STOPPED, NO_DEVICE) and not self._segments:
            with self._qlock:
                track = self._tracks.pop_next()
            if track is not None:
                self._do_play(track, 0.0, "skipped")

    def _do_play(self, track: Any, start: float, reason: str, paused: bool = False) -> None:
        if self._cannot_play(track):
            return
        self._end_current(reason)
        with self._qlock:
            self._tracks.start_round(track)
        self._begin(track, start, paused=paused)

    def _begin(self, track: Any, start: float, *, paused: bool = False) -> None:
        """Play ``track`` from ``start`` now (``paused``: hold it there); on a file error, report
        it and go on with the queue."""
        failed: set[int] = set()  # (repeat must not retry a file that just failed, forever)
        while track is not None and id(track) not in failed:
            try:
                s = self._open_track(track, start)
            except FileError as exc:
                self._emit(PlaybackError(track, exc.kind, str(exc.reason)))
                self._emit(TrackEnded(track, "error", 0.0))
                failed.add(id(track))
                with self._qlock:
                    self._tracks.played(track)
                    track = self._tracks.pop_next(skip=True)
                start = 0.0
                continue
            try:
                if paused:  # held from its first block (a stream at rest: silent at once)
                    self._paused = True
                    if not self._out.active:
                        self._gain = 0.0
                if self._out.rate == s.sr and self._out.active:
                    self._start_segment(track, s, start, replace=True)
                else:
                    self._open_output(s.sr)
                    self._start_segment(track, s, start)
                    self._start_output()
            except Exception as exc:  # PortAudio refused
                s.close()
                self._device_failed(track, f"cannot play: {exc}")
                return
            with self._qlock:
                self._tracks.now_playing(track)
            self._paused = paused
            self._set_state(PAUSED if paused else PLAYING)
            self._emit_position(force=True)
            self._emit(QueueChanged(tuple(self.queue)))
            return
        if track is not None:  # every track left failed: stop, keeping it queued
            with self._qlock:
                self._tracks.give_back(track)
        self._teardown(reason="finished")
        self._set_state(STOPPED)

    def _device_failed(self, track: Any, message: str) -> None:
        self._emit(PlaybackError(track, "device", message))
        self._teardown(reason="error")
        if self._out.present():
            self._set_state(STOPPED, message)
        else:
            self._set_state(NO_DEVICE, NO_DEVICE_REASON)
            self.unavailable_reason = NO_DEVICE_REASON

    def _unroll(self) -> None:
        """Give back pre-decoded next tracks (and a pending one) to the head of the queue."""
        back = []
        if len(self._segments) > 1 and self._ring is not None:
            first_next = self._segments[1]
            if self._ring.rewind(first_next.start):
                back = [s.track for s in self._segments[1:]]
                del self._segments[1:]
                if self._dec is not None:
                    self._close_decoder()
                self._segments[0].end = first_next.start if self._segments[0].end is None else self._segments[0].end
        if self._pending is not None:
            back.append(self._pending.track)
            self._pending.stream.close()
            self._pending = None
        if back:
            with self._qlock:
                self._tracks.give_back(*back)

    def _end_current(self, reason: str, *, to_history: bool = True) -> None:
        """The current track stops being heard (skip/stop); the caller replaces or discards its
        audio.  Pre-decoded next tracks go back to the queue's head; the current one goes to the
        history unless ``to_history`` is false."""
        seg = self._current_segment()
        pos = self.position if seg else 0.0
        back = [s.track for s in self._segments[1:] if not s.started]
        if self._pending is not None:
            back.append(self._pending.track)
            self._pending.stream.close()
            self._pending = None
        self._close_decoder()  # the ring keeps playing until the next track replaces its audio
        self._segments = []
        with self._qlock:
            self._tracks.give_back(*back)
            if seg is not None and to_history:
                self._tracks.played(seg.track)
        if seg is not None and seg.started:
            self._emit(TrackEnded(seg.track, reason, pos))

    def _teardown(self, *, reason: str) -> None:
        self._end_current(reason)
        if self._ring is not None:
            self._ring.discard_all()
        self._expect_more = False
        self._out.close(abort=True)
        self._ring = None
        self._paused = False

    def _do_stop(self) -> None:
        if self._state == NO_DEVICE:
            return
        self._teardown(reason="stopped")
        self._set_state(STOPPED)

    def _do_pause(self) -> None:
        if self._state == PLAYING:
            self._paused = True
            self._set_state(PAUSED)
            self._emit_position(force=True)

    def _do_resume(self) -> None:
        if self._state == PAUSED:
            self._paused = False
            self._set_state(PLAYING)

    def _do_seek(self, seconds: float) -> None:
        seg = self._current_segment()
        if seg is None or not self._out.is_open:
            return
        seconds = max(0.0, seconds)
        track = seg.track
        self._unroll()
        self._close_decoder()
        if seg.info.duration and seconds >= seg.info.duration:
            self._do_next()
            return
        try:
            s = self._open_track(track, seconds)
        except TooShort:
            self._do_next()
            return
        except FileError as exc:
            self._emit(PlaybackError(track, exc.kind, exc.reason))
            self._do_next()
            return
        if s.sr != self._out.rate:  # cannot happen for the same file, but be safe
            s.close()
            self._do_play(track, seconds, "skipped")
            return
        started = seg.started
        self._start_segment(track, s, seconds, replace=True)
        self._segments[0].started = started
        self._cb_last = None
        self._emit_position(force=True)

    def _do_next(self) -> None:
        self._end_current("skipped")  # puts the pre-decoded tracks back at the queue's head
        with self._qlock:
            track = self._tracks.pop_next(skip=True)
        if track is None:
            self._teardown(reason="skipped")
            self._set_state(STOPPED)
        else:
            self._begin(track, 0.0)

    def _do_previous(self) -> None:
        seg = self._current_segment()
        if seg is not None and self.position > 3.0:
            self._do_seek(0.0)
            return
        with self._qlock:
            prev = self._tracks.pop_previous()
        if prev is None:
            if seg is not None:
                self._do_seek(0.0)
            return
        self._end_current("skipped", to_history=False)
        if seg is not None:  # it plays again after the previous one
            with self._qlock:
                self._tracks.play_next(seg.track)
        self._begin(prev, 0.0)

    def _do_stop_after(self) -> None:
        if self._stop_after:
            self._unroll()  # a next track already decoded goes back to the queue
        elif self._dec is None and self._pending is None and self._segments and self._ring is not None:
            self._open_next_from_queue()  # turned off in time: go on as before

    def _do_queue_edit(self, edit: Callable[[PlayQueue], Any], touches_head: bool) -> None:
        if touches_head:
            self._unroll()
        with self._qlock:
            edit(self._tracks)
        self._emit(QueueChanged(tuple(self.queue)))
        # the decoder may now have a next track to go on with
        if self._dec is None and self._pending is None and self._segments and self._ring is not None:
            self._open_next_from_queue()

    def _do_close(self) -> None:
        self._teardown(reason="stopped")
        if self._state != NO_DEVICE:
            self._set_state(STOPPED)

    # --- monitor: boundaries, events, drain, device health --------------------------------------

    def _current_segment(self) -> _Segment | None:
        segs = self._segments
        return segs[0] if segs else None

    def _audible_frame(self) -> int:
        ring = self._ring
        last = self._cb_last
        if ring is None:
            return 0
        if last is None:
            return max(ring.read, ring.discard_to)
        start, n, dac, now_cb = last
        if self._paused or n == 0:
            return start + n
        try:
            now = self._out.time
        except Exception:
            return start + n
        sr = self._out.rate
        est = start + (now - dac) * sr
        lo = start - max(0.0, dac - now_cb) * sr
        return int(min(start + n, max(lo, est)))

    def _monitor(self) -> None:
        if not self._out.is_open or self._ring is None:
            return
        if self._stream_died is not None or (self._cb_error is not None):
            msg = self._stream_died or f"audio output stopped: {self._cb_error}"
            self._stream_died = None
            self._device_failed(self.current, msg)
            return
        played = max(self._ring.read, self._ring.discard_to)
        calls, now = self._stats.calls, time.monotonic()
        if calls != self._watch_calls:
            self._watch_calls, self._watch_since = calls, now
        elif self._out.active and now - self._watch_since > self.WATCHDOG_SECONDS:
            self._device_failed(self.current, "audio output stopped responding (the device went away?)")
            return
        while self._segments:
            seg = self._segments[0]
            if not seg.started and played >= seg.start:
                seg.started = True
                if seg.error is None or seg.end != seg.start:  # not a file that failed to open
                    self._emit(TrackStarted(seg.track, seg.info, seg.sr, seg.offset))
            if seg.end is not None and played >= seg.end:
                self._segments.pop(0)
                with self._qlock:
                    self._tracks.played(seg.track)
                position = seg.offset + (seg.end - seg.start) / seg.sr
                if seg.error is not None:
                    self._emit(PlaybackError(seg.track, seg.error.kind, seg.error.reason))
                    self._emit(TrackEnded(seg.track, "error", position))
                else:
                    self._emit(TrackEnded(seg.track, "finished", position))
                if self._segments or self._pending is not None or self._dec is not None:
                    self._emit(QueueChanged(tuple(self.queue)))
                continue
            break
        if not self._segments and self._dec is None:
            if self._pending is not None:  # drained: switch the stream's rate, then go on
                p, self._pending = self._pending, None
                self._out.close(abort=False)
                try:
                    self._open_output(p.stream.sr)
                    self._start_segment(p.track, p.stream, p.start)
                    self._start_output()
                except Exception as exc:
                    p.stream.close()
                    self._device_failed(p.track, f"cannot play: {exc}")
                    return
                self._emit(QueueChanged(tuple(self.queue)))  # it left the queue's list now
                return
            # the queue ran out (or "stop after current"): let the device play its last
            # samples, then stop
            self._expect_more = False
            self._out.close(abort=False)
            self._ring = None
            self._paused = False
            self._stop_after = False
            self._set_state(STOPPED)
            return
        if self._state == PLAYING:
            self._emit_position()

    def _emit_position(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_position_event < self._position_interval:
            return
        seg = self._current_segment()
        if seg is None:
            return
        self._last_position_event = now
        self._emit(Position(seg.track, self.position, seg.info.duration))


def _raising(exc: BaseException):
    raise exc
    yield  # pragma: no cover  (makes this a generator)


def _no_info(track: Any) -> decode.AudioInfo:
    return decode.AudioInfo(path=track_path(track), duration=0.0, sr=0, channels=0, frames=0, codec="", container="", backend="")
