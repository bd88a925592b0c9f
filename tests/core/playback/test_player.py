"""Playback against a real PortAudio stream on a fake device (ALSA null PCM, see conftest.py).

The null device swallows audio as fast as the callback produces it, so the tests pace it: the
player's ``tap`` (called from the audio callback with every block handed to the device) records
a copy of the block and sleeps for half the block's duration, making the device run at 2x real
time.  What the tap records is exactly what the device received, which lets the gapless test
compare it sample by sample with the two decoded tracks.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from core import playback as P
from core.audio import decode
from tests import media

pytestmark = pytest.mark.skipif(not media.have_ffmpeg(), reason="ffmpeg is needed to generate fixture media")

SPEED = 2.0  # the paced fake device runs at twice real time
ROOT = Path(__file__).resolve().parents[3]


class Recorder:
    """The tap: records every block the device receives and paces the null device."""

    def __init__(self, speed: float = SPEED):
        self.blocks: list[np.ndarray] = []
        self.frames = 0
        self.sr = 44100
        self.speed = speed
        self.fail_after: int | None = None

    def __call__(self, out: np.ndarray) -> None:
        if self.fail_after is not None and len(self.blocks) >= self.fail_after:
            raise OSError("fake device unplugged")
        self.blocks.append(out.copy())
        self.frames += len(out)
        time.sleep(len(out) / self.sr / self.speed)

    def audio(self) -> np.ndarray:
        return np.concatenate(self.blocks) if self.blocks else np.zeros((0, 2), np.float32)


class Events:
    def __init__(self):
        self.items: list = []
        self.cond = threading.Condition()

    def __call__(self, event):
        with self.cond:
            self.items.append(event)
            self.cond.notify_all()

    def of(self, kind):
        with self.cond:
            return [e for e in self.items if isinstance(e, kind)]

    def mark(self) -> int:
        with self.cond:
            return len(self.items)

    def wait_for(self, pred, timeout: float = 10.0, since: int = 0):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for e in self.items[since:]:
                    if pred(e):
                        return e
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out; events: {[type(e).__name__ for e in self.items]}")
                self.cond.wait(left)

    def wait_state(self, state: str, timeout: float = 10.0, since: int = 0):
        return self.wait_for(lambda e: isinstance(e, P.StateChanged) and e.state == state and e.previous != state, timeout, since)


@pytest.fixture
def rig():
    rec, events = Recorder(), Events()
    p = P.Player(tap=rec, blocksize=512, buffer_seconds=1.0, position_interval=0.05)
    if not p.available:
        p.close()
        pytest.skip(f"no fake output device: {p.unavailable_reason} (is libasound2-plugins / ALSA installed?)")
    p.subscribe(events)
    yield p, rec, events
    p.close()


def _noise(tmp_path, name, seconds, sr=44100, channels=2, fmt="flac"):
    return media.make(tmp_path / f"{name}.{fmt}", kind="noise", seconds=seconds, sr=sr, channels=channels)


def _find(hay: np.ndarray, needle: np.ndarray) -> int:
    """Index where ``needle`` (a few frames) occurs exactly in ``hay`` (-1 if nowhere)."""
    cand = np.flatnonzero((hay[:, 0] == needle[0, 0]) & (hay[:, 1] == needle[0, 1]))
    for i in cand:
        if i + len(needle) <= len(hay) and np.array_equal(hay[i : i + len(needle)], needle):
            return int(i)
    return -1


def test_play_position_advances_and_is_accurate(rig, tmp_path):
    p, rec, ev = rig
    path = _noise(tmp_path, "a", 3.0)
    p.play(path)
    ev.wait_state(P.PLAYING)
    started = ev.wait_for(lambda e: isinstance(e, P.TrackStarted))
    assert started.info.sr == 44100 and started.sr == 44100
    positions = []
    for _ in range(6):
        time.sleep(0.08)
        # position vs what the device actually received (in its own frames): within 20 ms
        while True:
            before = rec.frames
            pos = p.position
            if rec.frames == before:  # no block was handed over meanwhile
                break
        handed = before / 44100
        positions.append(pos)
        assert abs(pos - handed) <= 0.020, (pos, handed)
    assert positions == sorted(positions) and positions[-1] > positions[0] + 0.1
    assert p.current == path and p.duration == pytest.approx(3.0, abs=0.01)
    evpos = ev.of(P.Position)
    assert evpos and all(e.track == path for e in evpos)


def test_pause_holds_and_resume_continues(rig, tmp_path):
    p, rec, ev = rig
    path = _noise(tmp_path, "a", 4.0)
    src, _ = decode.read(path)
    p.play(path)
    ev.wait_state(P.PLAYING)
    time.sleep(0.3)
    p.pause()
    ev.wait_state(P.PAUSED)
    time.sleep(0.05)
    held, n_blocks = p.position, len(rec.blocks)
    time.sleep(0.3)
    assert p.position == held
    assert len(rec.blocks) > n_blocks  # the stream runs on ...
    assert not np.any(rec.audio()[n_blocks * 512 :])  # ... in silence
    p.resume()
    ev.wait_state(P.PLAYING)
    time.sleep(0.3)
    assert p.position > held + 0.1
    # nothing lost: the block faded out at the pause is faded in again at the resume, and
    # then the track goes on sample for sample
    out = rec.audio()
    k = n_blocks * 512 + np.flatnonzero(np.any(out[n_blocks * 512 :] != 0, axis=1))[0]
    k -= k % 512  # the fade-in block (its first sample has gain 0)
    hf = int(round(held * 44100))
    np.testing.assert_array_equal(out[k + 512 : k + 4096], src[hf + 512 : hf + 4096])


def test_seek_jumps_and_plays_from_there(rig, tmp_path):
    p, rec, ev = rig
    path = _noise(tmp_path, "a", 5.0)
    src, _ = decode.read(path)
    p.play(path)
    ev.wait_state(P.PLAYING)
    time.sleep(0.2)
    p.seek(3.0)
    ev.wait_for(lambda e: isinstance(e, P.Position) and e.position >= 3.0)
    time.sleep(0.25)
    assert 3.0 <= p.position < 3.6
    tail = rec.audio()[-2048:]
    at = _find(src, tail[:64])
    assert at >= 3.0 * 44100, f"after the seek the device got audio from {at / 44100:.2f} s"
    np.testing.assert_array_equal(src[at : at + len(tail)], tail)


def test_two_tracks_back_to_back_without_a_gap(rig, tmp_path):
    p, rec, ev = rig
    a = _noise(tmp_path, "a", 1.3)
    b = media.make(tmp_path / "b.wav", kind="noise", seconds=1.1, sr=44100, channels=2, freq=330)
    p.play(a)
    p.enqueue(b)
    ev.wait_for(lambda e: isinstance(e, P.TrackEnded) and e.track == b)
    ev.wait_state(P.STOPPED)
    ya, _ = decode.read(a)
    yb, _ = decode.read(b)
    both = np.concatenate([ya, yb])
    out = rec.audio()
    # every sample of both tracks, in order, nothing dropped or inserted between them
    np.testing.assert_array_equal(out[: len(both)], both)
    assert not np.any(out[len(both) :]), "after the last track the device only gets silence"
    assert p.stats.underflows == 0
    kinds = [(type(e).__name__, getattr(e, "track", None)) for e in ev.items if isinstance(e, (P.TrackStarted, P.TrackEnded))]
    assert kinds == [("TrackStarted", a), ("TrackEnded", a), ("TrackStarted", b), ("TrackEnded", b)]
    assert ev.of(P.TrackEnded)[0].reason == "finished"


def test_rate_change_reopens_the_stream(rig, tmp_path):
    p, rec, ev = rig
    a = _noise(tmp_path, "a", 0.8)
    b = _noise(tmp_path, "b48", 0.8, sr=48000)
    rates = []
    p.subscribe(lambda e: rates.append((e.track, p.stream_rate)) if isinstance(e, P.TrackStarted) else None)
    p.play(a)
    p.enqueue(b)
    ev.wait_for(lambda e: isinstance(e, P.TrackEnded) and e.track == b)
    started = ev.of(P.TrackStarted)
    assert [(e.track, e.sr) for e in started] == [(a, 44100), (b, 48000)]
    assert rates == [(a, 44100), (b, 48000)]
    ya, _ = decode.read(a)
    yb, _ = decode.read(b)
    out = rec.audio()
    np.testing.assert_array_equal(out[: len(ya)], ya)
    k = _find(out, yb[:64])
    assert k >= len(ya)
    np.testing.assert_array_equal(out[k : k + len(yb)], yb)  # all of b, at its own rate


def test_queue_next_previous(rig, tmp_path):
    p, rec, ev = rig
    a, b, c = (_noise(tmp_path, n, 4.0) for n in "abc")
    p.enqueue(a, b)
    p.play_next(c)
    p.sync()
    assert p.queue == [c, a, b]
    p.play()
    ev.wait_for(lambda e: isinstance(e, P.TrackStarted) and e.track == c)
    p.sync()
    assert p.queue == [a, b] and p.current == c
    p.next()
    ev.wait_for(lambda e: isinstance(e, P.TrackStarted) and e.track == a)
    assert any(isinstance(e, P.TrackEnded) and e.track == c and e.reason == "skipped" for e in ev.items)
    m = ev.mark()
    p.previous()  # within the first 3 s: back to c
    ev.wait_for(lambda e: isinstance(e, P.TrackStarted) and e.track == c, since=m)
    p.sync()
    assert p.current == c and p.queue == [a, b]
    p.clear_queue()
    p.sync()
    assert p.queue == []
    p.stop()
    ev.wait_state(P.STOPPED)
    assert p.current is None


def test_volume_ramps_without_a_jump(rig, tmp_path):
    p, rec, ev = rig
    path = _noise(tmp_path, "a", 3.0)
    src, _ = decode.read(path)
    p.play(path)
    ev.wait_state(P.PLAYING)
    time.sleep(0.3)
    p.volume = 0.25
    time.sleep(0.3)
    out = rec.audio()
    n = min(len(out), len(src))
    mask = np.abs(src[:n, 0]) > 0.02
    ratio = out[:n, 0][mask] / src[:n, 0][mask]
    assert ratio[0] == pytest.approx(1.0, abs=1e-6) and ratio[-1] == pytest.approx(0.25, abs=1e-5)
    assert np.all(np.diff(ratio) <= 1e-5), "gain only goes down"
    idx = np.flatnonzero(mask)
    slope = np.abs(np.diff(ratio)) / np.diff(idx)
    assert np.max(slope) <= 0.75 / 512 * 1.01, "the change is spread over a whole block, not a step"
    moving = idx[(ratio < 0.999) & (ratio > 0.251)]
    assert moving.max() - moving.min() >= 400


def test_file_failing_mid_stream_reports_and_moves_on(rig, tmp_path):
    p, rec, ev = rig
    bad = media.make_truncated(tmp_path / "bad.wav", fmt="wav", keep=0.5, seconds=2.0)
    good = _noise(tmp_path, "good", 0.8)
    p.play(bad)
    p.enqueue(good)
    err = ev.wait_for(lambda e: isinstance(e, P.PlaybackError))
    assert err.track == bad and err.kind == "decode_failed" and "\n" not in err.message
    ev.wait_for(lambda e: isinstance(e, P.TrackEnded) and e.track == good and e.reason == "finished")
    ended_bad = [e for e in ev.of(P.TrackEnded) if e.track == bad][0]
    assert ended_bad.reason == "error" and 0.8 < ended_bad.position < 1.2  # it played up to the cut
    yg, _ = decode.read(good)
    out = rec.audio()
    k = _find(out, yg[:64])
    assert k > 0.8 * 44100
    np.testing.assert_array_equal(out[k : k + len(yg)], yg)


def test_unplayable_file_is_reported_and_skipped(rig, tmp_path):
    p, rec, ev = rig
    bad = media.make_text_as(tmp_path / "notes.mp3")
    good = _noise(tmp_path, "good", 0.5)
    p.enqueue(good)
    p.play(bad)
    err = ev.wait_for(lambda e: isinstance(e, P.PlaybackError))
    assert err.kind == "unsupported" and err.track == bad
    ev.wait_for(lambda e: isinstance(e, P.TrackStarted) and e.track == good)


def test_stream_failing_mid_track_stops_cleanly(rig, tmp_path):
    p, rec, ev = rig
    rec.fail_after = 20  # the "device" fails after 20 blocks
    path = _noise(tmp_path, "a", 3.0)
    p.play(path)
    err = ev.wait_for(lambda e: isinstance(e, P.PlaybackError))
    assert err.kind == "device" and "unplugged" in err.message
    ev.wait_state(P.STOPPED)
    assert any(isinstance(e, P.TrackEnded) and e.reason == "error" for e in ev.items)
    rec.fail_after = None  # the device is back: playing works again
    m = ev.mark()
    p.play(path)
    ev.wait_state(P.PLAYING, since=m)
    ev.wait_for(lambda e: isinstance(e, P.TrackStarted), since=m)


def test_no_output_device_is_a_state_not_a_crash(tmp_path):
    path = _noise(tmp_path, "a", 0.5)
    conf = tmp_path / "nodevice-asound.conf"  # the system's ALSA set-up, default on a card that is not there
    conf.write_text("</usr/share/alsa/alsa.conf>\npcm.!default { type hw card 99 }\n")
    code = f"""
import json, sys, time
sys.path.insert(0, {str(ROOT)!r})
from core.playback import Player
events = []
p = Player()
p.subscribe(events.append)
p.play({str(path)!r})
p.sync()
p.close()
import sounddevice as sd
print(json.dumps({{"devices": len(sd.query_devices()), "state": p.state, "reason": p.unavailable_reason, "available": p.available,
    "events": [[type(e).__name__, getattr(e, "state", None) or getattr(e, "kind", None), getattr(e, "message", "")] for e in events]}}))
"""
    env = dict(os.environ, ALSA_CONFIG_PATH=str(conf), JACK_NO_START_SERVER="1", HOME=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout.strip().splitlines()[-1])
    if res["devices"]:
        pytest.skip("this machine has real sound cards, so 'no device at all' cannot be arranged")
    assert res["state"] == "no_device" and not res["available"]
    assert res["reason"] == "cannot play: no output device"
    assert res["events"][0][:2] == ["StateChanged", "no_device"]
    assert ["PlaybackError", "device", "cannot play: no output device"] in res["events"]


def test_missing_device_is_a_state_not_a_crash(tmp_path):
    events = Events()
    p = P.Player(device="no such output device")
    try:
        p.subscribe(events)
        assert p.state == P.NO_DEVICE and p.unavailable_reason == P.NO_DEVICE_REASON and not p.available
        p.play(_noise(tmp_path, "a", 0.5))
        err = events.wait_for(lambda e: isinstance(e, P.PlaybackError))
        assert err.kind == "device" and err.message == P.NO_DEVICE_REASON
        assert p.state == P.NO_DEVICE
    finally:
        p.close()


def test_device_that_stops_calling_back_is_detected(rig, tmp_path, monkeypatch):
    p, rec, ev = rig
    monkeypatch.setattr(P.Player, "WATCHDOG_SECONDS", 0.3)
    stall = threading.Event()
    orig = rec.__call__

    def tap(out):  # the "device" hangs: no further callbacks while stalled
        while stall.is_set():
            time.sleep(0.01)
        orig(out)

    p._tap = tap
    p.play(_noise(tmp_path, "a", 3.0))
    ev.wait_state(P.PLAYING)
    time.sleep(0.1)
    stall.set()
    err = ev.wait_for(lambda e: isinstance(e, P.PlaybackError), timeout=5)
    assert err.kind == "device" and "stopped responding" in err.message
    stall.clear()
    ev.wait_state(P.STOPPED)


# --- the engine's logic on a NullOutput (no device: the output is not the subject) ----------


@pytest.fixture
def null_rig():
    events = Events()
    out = P.NullOutput(rates={44100}, speed=2.0)
    p = P.Player(output=out, buffer_seconds=1.0, position_interval=0.05)
    p.subscribe(events)
    yield p, events
    p.close()


def test_a_rate_the_output_refuses_is_resampled_to_its_rate(null_rig, tmp_path):
    p, ev = null_rig
    path = _noise(tmp_path, "a48", 0.6, sr=48000)
    p.play(path)
    started = ev.wait_for(lambda e: isinstance(e, P.TrackStarted))
    assert started.info.sr == 48000 and started.sr == 44100 and p.stream_rate == 44100
    ended = ev.wait_for(lambda e: isinstance(e, P.TrackEnded))
    assert ended.reason == "finished" and ended.position == pytest.approx(0.6, abs=0.01)
    ev.wait_state(P.STOPPED)
    assert p.history == [path]


def test_previous_after_a_finished_track_plays_it_again(null_rig, tmp_path):
    p, ev = null_rig
    a, b = _noise(tmp_path, "a", 0.3), _noise(tmp_path, "b", 4.0)
    p.play(a)
    p.enqueue(b)
    ev.wait_for(lambda e: isinstance(e, P.TrackStarted) and e.track == b)
    p.sync()
    assert p.history == [a] and p.queue == []
    m = ev.mark()
    p.previous()
    ev.wait_for(lambda e: isinstance(e, P.TrackStarted) and e.track == a, since=m)
    p.sync()
    assert p.current == a and p.queue == [b] and p.history == []


def test_removing_the_pre_decoded_next_track_skips_it(null_rig, tmp_path):
    p, ev = null_rig
    a, b, c = (_noise(tmp_path, n, 0.8) for n in "abc")
    p.play(a)
    p.enqueue(b, c)
    ev.wait_for(lambda e: isinstance(e, P.TrackStarted) and e.track == a)
    p.sync()
    assert p.queue == [b, c]  # b is already decoded behind a, and still listed
    p.remove_from_queue(0)
    p.sync()
    assert p.queue == [c]
    ev.wait_for(lambda e: isinstance(e, P.TrackEnded) and e.track == c)
    assert [e.track for e in ev.of(P.TrackStarted)] == [a, c]


def test_levelling_scales_each_track_from_its_first_sample_and_stays_gapless(rig, tmp_path):
    """Track levelling: the tagged track plays at its ReplayGain factor, the untagged one after it
    as it is, sample for sample, with no gap between them; turned off, the next track plays as
    it is again."""
    from types import SimpleNamespace

    p, rec, ev = rig
    a = SimpleNamespace(path=str(_noise(tmp_path, "a", 1.2)), rg_track_gain=-6.0, rg_track_peak=0.9)
    b = SimpleNamespace(path=str(media.make(tmp_path / "b.wav", kind="noise", seconds=0.9, sr=44100, channels=2,
                                            freq=330)))
    p.levelling = P.Levelling("track")
    p.play(a)
    p.enqueue(b)
    ev.wait_for(lambda e: isinstance(e, P.TrackEnded) and e.track is b)
    ya, _ = decode.read(a.path)
    yb, _ = decode.read(b.path)
    factor = np.float32(P.Levelling("track").factor(a))
    assert factor == pytest.approx(10 ** (-6 / 20), rel=1e-6)
    want = np.concatenate([ya * factor, yb])
    out = rec.audio()
    np.testing.assert_array_equal(out[: len(want)], want)
    # off again: the same track plays at its own level
    p.levelling = P.Levelling("off")
    mark = ev.mark()
    n = len(rec.audio())
    p.play(a)
    ev.wait_for(lambda e: isinstance(e, P.TrackEnded) and e.track is a, since=mark)
    again = rec.audio()[n:]
    k = _find(again, ya[:64])
    assert k >= 0
    np.testing.assert_array_equal(again[k : k + len(ya)], ya)


def test_stop_after_current_ends_with_the_track_keeps_the_queue_and_turns_itself_off(rig, tmp_path):
    """Turned on while the next track is already decoded behind the current one: that track goes
    back to the queue, the device gets the current track to its last sample and then silence."""
    p, rec, ev = rig
    a = _noise(tmp_path, "a", 1.3)
    b = media.make(tmp_path / "b.wav", kind="noise", seconds=1.0, sr=44100, channels=2, freq=330)
    p.play(a)
    p.enqueue(b)
    ev.wait_state(P.PLAYING)
    time.sleep(0.4)  # the ring (1 s) already holds the start of b behind the end of a
    p.stop_after_current = True
    ev.wait_for(lambda e: isinstance(e, P.TrackEnded) and e.track == a)
    ev.wait_state(P.STOPPED)
    assert [e.track for e in ev.of(P.TrackStarted)] == [a]
    assert p.queue == [b] and p.stop_after_current is False
    ya, _ = decode.read(a)
    out = rec.audio()
    np.testing.assert_array_equal(out[: len(ya)], ya)
    assert not np.any(out[len(ya):]), "nothing of the next track reached the device"
    # off again in time, the queue goes on as usual
    mark = ev.mark()
    p.play(a)
    p.stop_after_current = True
    p.stop_after_current = False
    ev.wait_for(lambda e: isinstance(e, P.TrackEnded) and e.track == b, since=mark)
