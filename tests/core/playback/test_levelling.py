"""Volume levelling's arithmetic: which ReplayGain value a mode takes, the pre-amp, untagged
files, the clipping limit, and settings a user cannot give."""
from __future__ import annotations

from types import SimpleNamespace as T

import pytest

from core.playback.levelling import Levelling


def db(x: float) -> float:
    return 10 ** (x / 20)


LOUD = T(rg_track_gain=-9.0, rg_track_peak=1.0, rg_album_gain=-7.0, rg_album_peak=1.0)
QUIET = T(rg_track_gain=4.0, rg_track_peak=0.3, rg_album_gain=-7.0, rg_album_peak=1.0)


def test_off_leaves_every_file_as_it_is():
    assert Levelling().factor(LOUD) == 1.0 and Levelling("off", preamp_db=6).factor(QUIET) == 1.0


def test_track_mode_evens_out_tracks_and_album_mode_keeps_an_albums_dynamics():
    tr, al = Levelling("track"), Levelling("album")
    assert tr.factor(LOUD) == pytest.approx(db(-9)) and tr.factor(QUIET) == pytest.approx(db(4))
    assert al.factor(LOUD) == pytest.approx(db(-7)) == al.factor(QUIET)  # one album, one gain


def test_a_missing_value_falls_back_to_the_other_scope():
    only_album = T(rg_album_gain=-3.0)
    only_track = T(rg_track_gain=-5.0)
    assert Levelling("track").factor(only_album) == pytest.approx(db(-3))
    assert Levelling("album").factor(only_track) == pytest.approx(db(-5))


def test_preamp_and_untagged_gain():
    assert Levelling("track", preamp_db=3).factor(LOUD) == pytest.approx(db(-6))
    assert Levelling("track", untagged_db=-6).factor(T()) == pytest.approx(db(-6))
    assert Levelling("track").factor("/a/plain/path.flac") == 1.0  # a queue item without tags


def test_a_gain_never_pushes_the_recorded_peak_over_full_scale_unless_asked():
    assert Levelling("track").factor(QUIET) == pytest.approx(db(4))  # 0.3 x 1.58 = 0.47: room
    hot = T(rg_track_gain=6.0, rg_track_peak=0.8)
    assert Levelling("track").factor(hot) == pytest.approx(1 / 0.8)
    assert Levelling("track", prevent_clipping=False).factor(hot) == pytest.approx(db(6))
    clipped = T(rg_track_gain=-1.0, rg_track_peak=1.25)  # a master that clips already
    assert Levelling("track").factor(clipped) == pytest.approx(0.8)


@pytest.mark.parametrize("kwargs", [{"mode": "loud"}, {"mode": "track", "preamp_db": 40},
                                    {"mode": "track", "preamp_db": float("nan")},
                                    {"mode": "track", "untagged_db": "6"}])
def test_a_setting_out_of_range_is_refused_in_one_sentence(kwargs):
    with pytest.raises(ValueError) as e:
        Levelling(**kwargs)
    assert "\n" not in str(e.value)


def test_odd_values_on_a_track_count_as_missing():
    assert Levelling("track").factor(T(rg_track_gain=float("nan"), rg_album_gain="x")) == 1.0


def test_a_file_without_tags_is_levelled_by_its_measured_loudness_and_tags_win():
    measured = T(measured_track_gain=-8.0, measured_track_peak=0.6, measured_album_gain=-6.0)
    assert Levelling("track").factor(measured) == pytest.approx(db(-8))
    assert Levelling("album").factor(measured) == pytest.approx(db(-6))
    both = T(rg_track_gain=-2.0, measured_track_gain=-8.0)
    assert Levelling("track").factor(both) == pytest.approx(db(-2))  # a tagger's value first
    boosted = T(measured_track_gain=9.0, measured_track_peak=0.5)
    assert Levelling("track").factor(boosted) == pytest.approx(2.0)  # 9 dB would clip: up to the peak
    assert Levelling("track", untagged_db=-6).factor(measured) == pytest.approx(db(-8))  # measured, not untagged


def test_the_tooltip_line_says_what_is_applied_and_why():
    assert Levelling().describe(LOUD) == "Volume levelling off"
    assert Levelling("track").describe(LOUD) == "Levelled −9.0 dB (track gain from its ReplayGain tags)"
    assert Levelling("album", preamp_db=2).describe(T(measured_album_gain=-6.0)) == \
        "Levelled −4.0 dB (album gain from its measured loudness, pre-amp +2.0 dB)"
    assert Levelling("track").describe(T(rg_track_gain=6.0, rg_track_peak=0.8)) == \
        "Levelled +1.9 dB (track gain from its ReplayGain tags, held below its peak)"
    assert Levelling("track", untagged_db=-3).describe(T()) == "Levelled −3.0 dB (no ReplayGain tags, not measured yet)"
