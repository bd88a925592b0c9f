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


# --- the order rules: shuffle and repeat --------------------------------------------------------

import random  # noqa: E402
from collections import Counter  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import pytest  # noqa: E402


@dataclass(eq=False)
class T:
    """A queued track: told apart by identity, like the desktop's items."""

    name: str
    artist: str


def _library(spec: dict[str, int]) -> list[T]:
    return [T(f"{artist}{i}", artist) for artist, n in spec.items() for i in range(n)]


def _pops(q: PlayQueue, n: int) -> list:
    return [q.pop_next() for _ in range(n)]


def _adjacent_same_artist(order) -> int:
    return sum(1 for x, y in zip(order, order[1:]) if x.artist == y.artist)


@pytest.mark.parametrize("seed", range(40))
def test_shuffle_plays_every_track_once_before_any_again(seed):
    tracks = _library({"A": 3, "B": 3, "C": 2, "D": 1})
    q = PlayQueue(rng=random.Random(seed))
    q.shuffle, q.repeat = True, "all"
    q.append(*tracks)
    order = _pops(q, 3 * len(tracks))
    for k in range(3):  # each round is a permutation of the queue
        rnd = order[k * len(tracks):(k + 1) * len(tracks)]
        assert Counter(map(id, rnd)) == Counter(map(id, tracks))


@pytest.mark.parametrize("spec", [{"A": 3, "B": 3, "C": 3}, {"A": 4, "B": 2, "C": 1}, {"A": 5, "B": 4}])
def test_shuffle_never_puts_one_artist_twice_in_a_row_when_it_can_be_avoided(spec):
    shuffles = set()
    for seed in range(60):
        q = PlayQueue(rng=random.Random(seed))
        q.shuffle = True
        q.append(*_library(spec))
        order = _pops(q, sum(spec.values()))
        assert None not in order
        assert _adjacent_same_artist(order) == 0, [t.name for t in order]
        shuffles.add(tuple(t.name for t in order))
    assert len(shuffles) > 10  # and it is still random


def test_shuffle_repeats_an_artist_only_as_often_as_it_must():
    for seed in range(30):
        q = PlayQueue(rng=random.Random(seed))
        q.shuffle = True
        q.append(*_library({"A": 4, "B": 1}))
        order = _pops(q, 5)
        assert _adjacent_same_artist(order) == 2  # A B A A A is the best there is: A _ A _ A A


def test_the_same_seed_gives_the_same_order():
    def run(seed):
        q = PlayQueue(rng=random.Random(seed))
        q.shuffle = True
        q.append(*_library({"A": 3, "B": 3, "C": 3}))
        return [t.name for t in _pops(q, 9)]

    assert run(7) == run(7)


def test_repeat_one_replays_the_current_track_and_a_skip_moves_on():
    a, b = T("a", "A"), T("b", "B")
    q = PlayQueue()
    q.repeat = "one"
    q.append(b)
    q.start_round(a)
    assert q.pop_next() is a and q.pop_next() is a
    assert q.upcoming == [b]
    assert q.pop_next(skip=True) is b
    assert q.pop_next() is b and q.upcoming == []


def test_repeat_all_starts_the_round_again_after_the_last_track():
    a, b, c = T("a", "A"), T("b", "B"), T("c", "C")
    q = PlayQueue()
    q.repeat = "all"
    q.append(b, c)
    q.start_round(a)  # played on request, then the queue
    assert _pops(q, 7) == [b, c, a, b, c, a, b]


def test_without_repeat_the_queue_runs_out():
    q = PlayQueue()
    q.append("a")
    q.start_round("x")
    assert _pops(q, 2) == ["a", None]


def test_a_track_given_back_returns_where_it_was_and_a_repeat_is_dropped():
    a, b, c, d = (T(n, n.upper()) for n in "abcd")
    q = PlayQueue(rng=random.Random(1))
    q.shuffle = True
    q.append(b, c, d)
    q.start_round(a)
    nxt = q.pop_next()
    q.give_back(nxt)
    assert q.upcoming == [b, c, d] and q.current is a and q.round == [a]
    q.shuffle, q.repeat = False, "one"
    rep = q.pop_next()
    assert rep is a and q.is_unqueued(rep)
    q.give_back(rep)
    assert q.upcoming == [b, c, d] and not q.is_unqueued(a)


def test_remove_items_takes_out_those_entries_by_identity():
    x1, x2, y = T("x", "X"), T("x", "X"), T("y", "Y")  # the same song queued twice: two entries
    q = PlayQueue()
    q.append(x1, y, x2)
    assert q.remove_items([x2, T("x", "X")]) == 1
    assert q.upcoming == [x1, y] and q.upcoming[0] is x1


def test_an_unknown_repeat_mode_is_refused():
    with pytest.raises(ValueError, match="repeat must be one of"):
        PlayQueue().repeat = "twice"
