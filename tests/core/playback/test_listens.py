"""Plays and skips told from a real player's events (NullOutput: a device that drops the audio,
here at several times real time), and a track loaded paused at a position."""
from __future__ import annotations

import threading
import time

import pytest

from core import playback as P
from core.playback.listens import PLAY_AFTER_S, SKIP_WITHIN_S, ListenCounter, play_threshold
from tests import media

pytestmark = pytest.mark.skipif(not media.have_ffmpeg(), reason="ffmpeg is needed to generate fixture media")


class Listens:
    def __init__(self):
        self.items: list[tuple[object, str]] = []
        self.states: list[str] = []
        self.cond = threading.Condition()
        self.counter = ListenCounter(self._listen)

    def _listen(self, track, kind):
        self.items.append((track, kind))

    def __call__(self, event):  # the player's thread
        with self.cond:
            self.counter.feed(event)
            if isinstance(event, P.StateChanged):
                self.states.append(event.state)
            self.cond.notify_all()

    def wait(self, pred, timeout=20.0):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not pred():
                left = deadline - time.monotonic()
                assert left > 0, f"timed out: listens {self.items}, states {self.states}"
                self.cond.wait(left)


@pytest.fixture
def rig():
    listens = Listens()
    p = P.Player(output=P.NullOutput(speed=8.0), buffer_seconds=1.0, position_interval=0.05)
    p.subscribe(listens)
    yield p, listens
    p.close()


def _tone(tmp_path, name, seconds):
    return str(media.make(tmp_path / f"{name}.flac", kind="tone", seconds=seconds, sr=22050, channels=1))


def test_the_thresholds():
    assert play_threshold(60.0) == 30.0
    assert play_threshold(3600.0) == PLAY_AFTER_S == 240.0
    assert play_threshold(None) == PLAY_AFTER_S
    assert SKIP_WITHIN_S == 30.0


def test_a_track_played_to_its_end_is_one_play(rig, tmp_path):
    p, listens = rig
    a = _tone(tmp_path, "a", 2.0)
    p.play(a)
    listens.wait(lambda: listens.items and listens.states[-1] == "stopped")
    assert listens.items == [(a, "play")]


def test_leaving_a_track_in_its_first_30_s_is_a_skip(rig, tmp_path):
    p, listens = rig
    a, b = _tone(tmp_path, "a", 80.0), _tone(tmp_path, "b", 80.0)
    p.play(a)
    listens.wait(lambda: p.position > 2.0)
    p.play(b)  # another track: a is left at ~2 s
    listens.wait(lambda: listens.items)
    assert listens.items == [(a, "skip")]
    listens.wait(lambda: p.position > 1.0)
    p.stop()  # stopping counts too
    listens.wait(lambda: len(listens.items) == 2)
    assert listens.items[1] == (b, "skip")


def test_half_the_track_heard_is_a_play_at_that_moment(rig, tmp_path):
    p, listens = rig
    a = _tone(tmp_path, "a", 40.0)
    p.play(a)
    listens.wait(lambda: listens.items, timeout=20.0)
    assert listens.items == [(a, "play")]
    assert 20.0 <= p.position < 38.0  # counted once past half, before the end
    p.stop()
    time.sleep(0.2)
    assert listens.items == [(a, "play")]  # and once only


def test_a_seek_is_not_listening(rig, tmp_path):
    """Jumping past half of a 70 s track and leaving it there: neither a play (1 s heard) nor a
    skip (left at 41 s, after the first 30 s)."""
    p, listens = rig
    a = _tone(tmp_path, "a", 70.0)
    p.play(a)
    listens.wait(lambda: p.position > 0.2)
    p.seek(40.0)
    listens.wait(lambda: p.position > 41.0)
    p.stop()
    listens.wait(lambda: listens.states[-1] == "stopped")
    assert listens.items == []
    assert listens.counter.heard < 5.0


def test_a_track_loaded_paused_holds_its_position_and_resumes_there(rig, tmp_path):
    p, listens = rig
    a = _tone(tmp_path, "a", 20.0)
    p.play(a, start=7.5, paused=True)
    listens.wait(lambda: "paused" in listens.states)
    assert "playing" not in listens.states  # never a moment of sound
    time.sleep(0.3)
    assert p.state == "paused" and p.current == a
    assert p.position == pytest.approx(7.5, abs=0.05)
    p.resume()
    listens.wait(lambda: p.position > 8.5)
    assert listens.states[-1] == "playing"
