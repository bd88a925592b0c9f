"""The play queue on its own: order of the upcoming tracks, and the history."""
from __future__ import annotations

from core.playback import PlayQueue


def test_append_and_pop_next_keep_order():
    q = PlayQueue()
    q.append("a", "b")
    q.append("c")
    assert q.upcoming == ["a", "b", "c"]
    assert [q.pop_next(), q.pop_next(), q.pop_next(), q.pop_next()] == ["a", "b", "c", None]


def test_play_next_goes_before_everything_queued_in_its_own_order():
    q = PlayQueue()
    q.append("a", "b")
    q.play_next("x", "y")
    assert q.upcoming == ["x", "y", "a", "b"]


def test_remove_and_clear():
    q = PlayQueue()
    q.append("a", "b", "c")
    q.remove(1)
    assert q.upcoming == ["a", "c"]
    q.remove(5)  # no track there: nothing happens
    q.remove(-1)
    assert q.upcoming == ["a", "c"]
    q.played("z")
    q.clear()
    assert q.upcoming == [] and q.history == ["z"]


def test_history_goes_back_from_the_last_played():
    q = PlayQueue()
    assert q.pop_previous() is None
    for t in ("a", "b", "c"):
        q.played(t)
    assert q.history == ["a", "b", "c"]
    assert q.pop_previous() == "c" and q.pop_previous() == "b"
    assert q.history == ["a"]
