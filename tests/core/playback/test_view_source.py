"""Going on from the library view once the queue runs out (``ViewSource``), and moving queue
entries (``PlayQueue.move_items``)."""
import random
from dataclasses import dataclass

import pytest

from core.playback.queue import PlayQueue, ViewSource


@dataclass(frozen=True)
class Row:
    id: int
    artist: str


@dataclass(frozen=True)
class Item:  # what the player gets for a row (a fresh object each time, like the app's PlayItem)
    id: int
    artist: str


def _view(rows):
    holder = {"rows": list(rows)}
    src = ViewSource(lambda: holder["rows"], make=lambda r: Item(r.id, r.artist))
    return src, holder


def _queue(rows, *, shuffle=False, repeat="off", seed=0):
    q = PlayQueue(rng=random.Random(seed))
    q.shuffle, q.repeat = shuffle, repeat
    src, holder = _view(rows)
    q.source = src
    return q, holder


def _play(q, n):
    """Take ``n`` tracks one after another, as the player does when each one ends."""
    out = []
    for _ in range(n):
        t = q.pop_next()
        if t is None:
            break
        q.now_playing(t)
        q.played(t)
        out.append(t.id)
    return out


ROWS = [Row(i, a) for i, a in enumerate("AABBCCDDEE")]


def test_in_order_it_goes_on_after_the_row_played_and_stops_at_the_end():
    q, _ = _queue(ROWS)
    q.start_round(Item(6, "D"))  # the user played row 6
    assert _play(q, 10) == [7, 8, 9]


def test_in_order_with_repeat_all_it_goes_round_the_view_not_one_track():
    q, _ = _queue(ROWS[:3], repeat="all")
    q.start_round(Item(1, "A"))
    assert _play(q, 7) == [2, 0, 1, 2, 0, 1, 2]


def test_without_a_source_repeat_all_loops_the_round():
    q = PlayQueue()
    q.repeat = "all"
    q.start_round(Item(1, "A"))
    assert [t.id for t in (q.pop_next(), q.pop_next())] == [1, 1]


def test_queued_tracks_come_first_then_the_view_goes_on_after_the_last_row_played():
    q, _ = _queue(ROWS)
    q.start_round(Item(2, "B"))
    q.append(Item(99, "Z"), Item(98, "Y"))  # queued, not in the view
    assert _play(q, 4) == [99, 98, 3, 4]


def test_a_filtered_view_is_read_when_the_next_track_is_needed():
    q, holder = _queue(ROWS)
    q.start_round(Item(0, "A"))
    holder["rows"] = [r for r in ROWS if r.artist in "CE"]  # the user filtered the table
    assert _play(q, 10) == [4, 5, 8, 9]


@pytest.mark.parametrize("seed", range(8))
def test_shuffle_plays_every_shown_row_once_before_any_again(seed):
    q, _ = _queue(ROWS, shuffle=True, repeat="all", seed=seed)
    q.start_round(Item(0, "A"))
    got = [0] + _play(q, 29)
    for k in range(3):
        assert sorted(got[10 * k: 10 * k + 10]) == list(range(10)), got


@pytest.mark.parametrize("seed", range(8))
def test_shuffle_never_plays_one_artist_twice_in_a_row_when_it_can_be_avoided(seed):
    rows = [Row(i, a) for i, a in enumerate("AAAABBBCCD")]  # 4 of A in 10: avoidable
    q, _ = _queue(rows, shuffle=True, seed=seed)
    q.start_round(Item(9, "D"))
    order = [9] + _play(q, 20)
    assert sorted(order) == list(range(10))
    artists = [rows[i].artist for i in order]
    assert all(a != b for a, b in zip(artists, artists[1:])), artists


def test_shuffle_without_repeat_ends_with_the_round_and_a_new_play_starts_another():
    q, _ = _queue(ROWS[:4], shuffle=True)
    q.start_round(Item(0, "A"))
    assert sorted([0] + _play(q, 10)) == [0, 1, 2, 3]
    assert q.pop_next() is None
    q.start_round(Item(2, "B"))  # the user plays a track again: a new round
    assert sorted([2] + _play(q, 10)) == [0, 1, 2, 3]


def test_a_track_from_the_view_given_back_is_no_queue_entry_and_comes_again():
    q, _ = _queue(ROWS)
    q.start_round(Item(3, "B"))
    t = q.pop_next()  # taken ahead for gapless playback, then the user skipped elsewhere
    assert t.id == 4 and q.is_unqueued(t)
    q.give_back(t)
    assert q.upcoming == [] and q.current.id == 3
    assert q.pop_next().id == 4


def test_the_source_is_asked_only_once_the_queue_is_empty():
    q, _ = _queue(ROWS, shuffle=True)
    q.start_round(Item(0, "A"))
    q.append(Item(50, "X"), Item(51, "Y"))
    assert {q.pop_next().id, q.pop_next().id} == {50, 51}
    assert q.pop_next().id in range(1, 10)


def test_move_items_to_a_place_to_the_top_and_to_the_bottom():
    a, b, c, d, e = (Item(i, "") for i in range(5))
    q = PlayQueue()
    q.append(a, b, c, d, e)
    assert q.move_items([d, b], c) == 2  # dragged, keeping their queue order
    assert q.upcoming == [a, b, d, c, e]
    q.move_items([e], PlayQueue.TOP)
    assert q.upcoming == [e, a, b, d, c]
    q.move_items([e, a], None)
    assert q.upcoming == [b, d, c, e, a]
    q.move_items([Item(9, "")], None)  # not queued: nothing moves
    assert q.upcoming == [b, d, c, e, a]


def test_move_items_tells_equal_entries_apart_by_identity():
    x1, x2, y = Item(1, "A"), Item(1, "A"), Item(2, "B")
    q = PlayQueue()
    q.append(x1, y, x2)
    q.move_items([x2], PlayQueue.TOP)
    assert q.upcoming[0] is x2 and q.upcoming[1] is x1 and q.upcoming[2] is y


def test_shuffle_over_a_big_view_still_plays_every_row_once_before_any_again():
    rows = [Row(i, f"artist {i % 40}") for i in range(3 * ViewSource.DRAW_FROM // 2)]  # drawn from samples
    q, _ = _queue(rows, shuffle=True, repeat="all", seed=3)
    q.start_round(Item(0, rows[0].artist))
    got = [0] + _play(q, len(rows) - 1)
    assert sorted(got) == list(range(len(rows)))
    artists = [rows[i].artist for i in got]
    assert all(a != b for a, b in zip(artists, artists[1:]))
