"""Shuffle and repeat on the player: what it actually plays next (on a paced null output)."""
from __future__ import annotations

import pytest

from core import playback as P
from tests import media
from tests.core.playback.test_player import Events

pytestmark = pytest.mark.skipif(not media.have_ffmpeg(), reason="ffmpeg is needed to generate fixture media")


@pytest.fixture
def player():
    events = Events()
    p = P.Player(output=P.NullOutput(rates={44100}, speed=4.0), buffer_seconds=0.5, position_interval=0.05)
    p.subscribe(events)
    yield p, events
    p.close()


def _tone(tmp_path, name, seconds=0.3, freq=440.0):
    return media.make(tmp_path / f"{name}.wav", kind="tone", seconds=seconds, freq=freq)


def _started(ev):
    return [e.track for e in ev.of(P.TrackStarted)]


def test_repeat_one_plays_the_track_again_until_a_skip(player, tmp_path):
    p, ev = player
    a, b = _tone(tmp_path, "a"), _tone(tmp_path, "b", freq=550.0)
    p.repeat = "one"
    p.play(a)
    p.enqueue(b)
    ev.wait_for(lambda e: isinstance(e, P.TrackStarted) and _started(ev).count(a) >= 3)
    assert set(_started(ev)) == {a}
    assert all(e.reason == "finished" for e in ev.of(P.TrackEnded))  # back to back, not restarted
    p.sync()
    assert p.queue == [b]  # the repeat is not listed as queued
    p.next()
    ev.wait_for(lambda e: isinstance(e, P.TrackStarted) and e.track == b)
    p.repeat = "off"
    p.stop()


def test_repeat_all_plays_the_queue_again_after_its_last_track(player, tmp_path):
    p, ev = player
    a, b, c = (_tone(tmp_path, n, freq=f) for n, f in (("a", 330.0), ("b", 440.0), ("c", 550.0)))
    p.repeat = "all"
    p.enqueue(b, c)
    p.play(a)  # on request, then the queue: the round
    ev.wait_for(lambda e: isinstance(e, P.TrackStarted) and len(_started(ev)) >= 7, timeout=15)
    assert _started(ev)[:7] == [a, b, c, a, b, c, a]
    ends = [e.reason for e in ev.of(P.TrackEnded)]
    assert ends and set(ends) == {"finished"}  # gapless hand-overs, never a stop in between
    assert p.state == P.PLAYING
    p.repeat = "off"
    ev.wait_state(P.STOPPED, timeout=15)


def test_shuffle_on_the_player_plays_each_queued_track_once(player, tmp_path):
    p, ev = player
    tracks = [_tone(tmp_path, f"t{i}", seconds=0.2, freq=300.0 + 50 * i) for i in range(5)]
    p.shuffle = True
    p.enqueue(*tracks)
    p.play()
    ev.wait_for(lambda e: isinstance(e, P.TrackEnded) and len(ev.of(P.TrackEnded)) >= 5, timeout=15)
    assert sorted(map(str, _started(ev))) == sorted(map(str, tracks))
