import numpy as np
import pytest

from desktop.genrechart import GenreChart

GENRES = ["blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock"]


def _probs(n_win, n_cls=10, seed=0):
    rng = np.random.default_rng(seed)
    p = rng.random((n_win, n_cls)).astype(np.float32)
    p /= p.sum(1, keepdims=True)
    return p, p.mean(0)


@pytest.fixture
def chart(qtbot):
    c = GenreChart()
    qtbot.addWidget(c)
    c.resize(600, 400)
    c.show()
    qtbot.waitExposed(c)
    return c


def test_bars_equal_the_probabilities_and_update_in_place(chart):
    wp, tp = _probs(20)
    now_item, track_item = chart.now_bars, chart.track_bars
    chart.set_track(GENRES, wp, tp, 3.0, 1.5)
    assert chart.has_data
    np.testing.assert_allclose(chart.track_values(), tp, rtol=1e-6)
    np.testing.assert_allclose(chart.now_values(), wp[0], rtol=1e-6)
    chart.set_position(1.5 * 7 + 1.5)  # centre of window 7
    assert chart.current_window == 7
    np.testing.assert_allclose(chart.now_values(), wp[7], rtol=1e-6)
    assert chart.now_bars is now_item and chart.track_bars is track_item
    assert chart.playhead.value() == pytest.approx(12.0)
    assert "Now:" in chart.header.text()
    assert chart.bar_axis.names == GENRES


def test_a_new_track_reuses_the_items(chart):
    wp, tp = _probs(5)
    chart.set_track(GENRES, wp, tp, 3.0, 1.5)
    items = (chart.now_bars, chart.track_bars, chart.strip_image, chart.playhead)
    wp2, tp2 = _probs(40, seed=1)
    chart.set_track(GENRES, wp2, tp2, 3.0, 1.5)
    assert items == (chart.now_bars, chart.track_bars, chart.strip_image, chart.playhead)
    np.testing.assert_allclose(chart.track_values(), tp2, rtol=1e-6)


def test_window_under_the_playhead_and_end_aligned_last_window(chart):
    wp, tp = _probs(4)
    # 10 s track, 3 s windows every 2 s: starts 0, 2, 4, and the last one aligned to 7 s
    chart.set_track(GENRES, wp, tp, 3.0, 2.0, duration=10.0)
    np.testing.assert_allclose(chart.window_starts, [0, 2, 4, 7])
    assert [chart.window_at(t) for t in (0.0, 2.4, 3.6, 6.9, 7.1, 9.9)] == [0, 0, 1, 2, 3, 3]
    assert chart.duration == 10.0


def test_timeline_strip_shows_the_windows(chart):
    wp, tp = _probs(12)
    chart.set_track(GENRES, wp, tp, 3.0, 1.5)
    img = chart.strip_image.image
    assert img.shape[0] == len(GENRES) and img.dtype == np.float32
    np.testing.assert_allclose(img[:, 0], wp[0], rtol=1e-6)
    np.testing.assert_allclose(img[:, -1], wp[-1], rtol=1e-6)


def test_bad_shapes_are_refused(chart):
    wp, tp = _probs(3)
    with pytest.raises(ValueError):
        chart.set_track(GENRES, wp[:, :5], tp, 3.0, 1.5)
    with pytest.raises(ValueError):
        chart.set_track(GENRES, wp, tp[:5], 3.0, 1.5)


def test_placeholder(chart):
    assert not chart.has_data
    wp, tp = _probs(3)
    chart.set_track(GENRES, wp, tp, 3.0, 1.5)
    chart.set_placeholder("No genre model: Melograph can play but not tag.")
    assert not chart.has_data and "No genre model" in chart.placeholder.text()
    chart.set_position(3.0)  # harmless while hidden


@pytest.mark.parametrize("seconds", [31, 45, 59, 61, 64.8, 95])
def test_the_strip_and_now_bars_show_each_stored_3_second_cell_at_its_time(chart, tmp_path, seconds):
    """A real analysis of a track whose length is no multiple of 3 s or 30 s: at the middle of
    every 3 s cell the strip's colours and the "now" bars are that stored cell, to the end."""
    import soundfile as sf

    from analysis.worker import analyse_file
    from core.audio.decode import read
    from core.features import SR
    from models.genre import GenreModel
    from tests.models.conftest import SHARED, need

    src = need(SHARED / "cc_music" / "Kevin_MacLeod_-_P_I_Tchaikovsky_Dance_of_the_Sugar_Plum_Fairy.ogg")
    y, _ = read(src, sr=SR, mono=True)
    path = tmp_path / "cut.wav"
    sf.write(path, y[: int(seconds * SR)], SR)
    r = analyse_file(GenreModel.load(), str(path))
    cells = r["window_probs"]
    chart.set_track(r["classes"], cells, r["track_probs"], r["window_s"], r["hop_s"], duration=r["duration"])
    strip = chart.strip_image.image  # (classes, time bins) over [0, duration]
    for k, cell in enumerate(cells):
        mid = min((k + 0.5) * r["hop_s"], (k * r["hop_s"] + r["duration"]) / 2)
        chart.set_position(mid)
        assert np.allclose(chart.now_values(), cell), f"now bars at {mid:.1f} s are not cell {k}"
        col = int(mid / chart.duration * strip.shape[1])
        assert np.allclose(strip[:, col], cell), f"strip at {mid:.1f} s is not cell {k}"
