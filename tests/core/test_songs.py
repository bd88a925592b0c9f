"""Song identity (core/songs.py): when a like follows a track to another file, and when a track is
a version of another."""
from __future__ import annotations

import numpy as np
import pytest

from core.songs import is_version, normalise_title, same_recording, same_song, song_key
from core.recommend.vectors import TrackMeta


def _song(title="Eple", artist="Röyksopp", duration=8.0):
    return TrackMeta(title or "", artist or "", "", duration)


def _sound(seed=0, windows=3, dim=64):
    return np.abs(np.random.default_rng(seed).standard_normal((windows, dim))).astype(np.float32)


def test_a_reencode_with_the_same_tags_is_the_same_song():
    liked = _song(duration=8.0)
    assert same_song(liked, _song(duration=7.94))
    assert same_song(liked, _song("EPLE", "Royksopp", 8.9))  # case and accents do not matter
    assert same_song(liked, _song("Eple (Remastered 2011)", "The Röyksopp feat. X", 8.5))


def test_another_length_or_another_name_is_another_song():
    liked = _song(duration=8.0)
    assert not same_song(liked, _song(duration=9.5))  # a live take, an edit: more than a second off
    assert not same_song(liked, _song(duration=None))  # unknown: not enough to move a like
    assert not same_song(liked, _song("Eple 2", duration=8.0))
    assert not same_song(liked, _song(artist="Air", duration=8.0))


def test_without_tags_the_sound_decides():
    sound = _sound(0)
    near = sound * 1.01 + 0.001  # a re-encode: the analysis barely changes
    other = _sound(1)
    untagged = _song(None, None, 8.02)
    assert same_song(_song(), untagged, sound, near)
    assert same_song(_song(None, None), untagged, sound, near)
    assert not same_song(_song(), untagged, sound, other)
    assert not same_song(_song(), untagged)  # not analysed: unknown
    assert not same_song(_song(), _song(None, None, 12.0), sound, near)  # the length still counts
    # tagged on both sides, the tags decide, whatever the sound
    assert not same_song(_song(), _song("Remind Me"), sound, sound)


def test_the_same_recording_compares_windows_in_step():
    a = _sound(0, windows=4)
    assert same_recording(a, a.copy())
    assert not same_recording(a, a[::-1].copy())  # the same windows in another order: another track
    assert same_recording(a, np.vstack([a, a[-1:]]))  # one window more (a second longer): the means
    assert not same_recording(a, np.vstack([a, a, a]))
    assert not same_recording(a, a[:, :32])  # another model's embeddings


def test_versions_are_looser_than_the_same_song():
    liked = _song(duration=200.0)
    assert is_version(liked, _song("Eple (Live)", duration=202.5))
    assert not is_version(liked, _song("Eple (Live)", duration=420.0))
    assert is_version(liked, _song(duration=None))  # an unknown length matches a version
    sound = _sound(3)
    assert is_version(liked, _song(None, None, 200.5), sound, sound)
    assert not is_version(liked, _song(None, None, 200.5), sound, _sound(4))


@pytest.mark.parametrize("title,expected", [("Song (Remastered 2011)", "song"), ("Song (Part 2)", "song part 2")])
def test_titles_normalise_to_the_song(title, expected):
    assert normalise_title(title) == expected


def test_no_key_without_an_artist_or_a_title():
    assert song_key(_song("Eple", "")) is None
    assert song_key(_song("", "Röyksopp")) is None
    assert song_key(_song("Eple", "The Röyksopp")) == ("eple", "royksopp")
