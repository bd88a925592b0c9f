import numpy as np
import pytest
from PySide6.QtCore import Qt

from core.features import hz_to_mel, mel_to_hz
from desktop.fmt import format_time
from desktop.spectrogram import DB_LEVELS, MelScale, SpectrogramView


def _logmel(seconds=60.0, n_mels=128):
    n = int(round(seconds * 387 / 30))
    rng = np.random.default_rng(0)
    return rng.uniform(-80, 0, (n_mels, n)).astype(np.float32)


@pytest.fixture
def view(qtbot):
    v = SpectrogramView()
    qtbot.addWidget(v)
    v.resize(800, 300)
    v.show()
    qtbot.waitExposed(v)
    return v


def test_starts_with_a_placeholder_then_shows_the_image(view):
    assert not view.has_image
    assert view.placeholder.isVisible()
    S = _logmel(60)
    view.set_spectrogram(S)
    assert view.has_image
    img = view.image_item.image
    assert img.shape == S.shape and img.dtype == np.float32 and img.flags["C_CONTIGUOUS"]
    assert tuple(view.image_item.getLevels()) == DB_LEVELS  # fixed levels, not auto
    assert view.duration == pytest.approx(S.shape[1] / 12.9)
    rect = view.image_item.mapRectToParent(view.image_item.boundingRect())
    assert rect.width() == pytest.approx(view.duration) and rect.height() == pytest.approx(128)


def test_not_analysed_placeholder(view):
    view.set_spectrogram(_logmel(10))
    view.set_placeholder()
    assert not view.has_image
    assert "analys" in view.placeholder.text().lower()


def test_playhead_moves_in_place_and_is_clamped(view):
    view.set_spectrogram(_logmel(60))
    line = view.playhead
    view.set_position(12.5)
    assert view.playhead is line and line.value() == pytest.approx(12.5)
    view.set_position(1e6)
    assert line.value() == pytest.approx(view.duration)
    view.set_position(-3)
    assert line.value() == 0


def test_click_seeks_to_the_seconds_under_the_mouse(view, qtbot):
    view.set_spectrogram(_logmel(60))
    qtbot.wait(50)
    pos = view.widget_pos_for(30.0)
    with qtbot.waitSignal(view.seekRequested, timeout=1000) as sig:
        qtbot.mouseClick(view.plot_widget.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    seconds_per_px = view.duration / view.plot_item.getViewBox().width()
    assert sig.args[0] == pytest.approx(30.0, abs=2 * seconds_per_px)


def test_axes_read_in_time_and_hz(view):
    view.set_spectrogram(_logmel(200))
    assert view.time_axis.tickStrings([0, 65, 125], 1, 1) == ["0:00", "1:05", "2:05"]
    ticks = view.mel_axis.tickValues(0, 128, 400)[0][1]
    labels = view.mel_axis.tickStrings(ticks, 1, 1)
    assert "1k" in labels and "500" in labels


def test_slaney_mel_scale():
    assert float(hz_to_mel(1000.0)) == pytest.approx(15.0)
    assert float(hz_to_mel(500.0)) == pytest.approx(7.5)
    for hz in (50.0, 440.0, 1000.0, 5000.0, 11025.0):
        assert float(mel_to_hz(hz_to_mel(hz))) == pytest.approx(hz)
    scale = MelScale(n_mels=128, sr=22050)
    assert float(scale.band_to_hz(scale.hz_to_band(2000.0))) == pytest.approx(2000.0)


def test_band_centres_match_librosa():
    librosa = pytest.importorskip("librosa")
    want = librosa.mel_frequencies(n_mels=130, fmin=0.0, fmax=11025.0, htk=False)[1:-1]
    got = MelScale(n_mels=128, sr=22050).band_to_hz(np.arange(128) + 0.5)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_format_time():
    assert format_time(0) == "0:00"
    assert format_time(59.9) == "0:59"
    assert format_time(3725) == "1:02:05"
    assert format_time(None) == "--:--"
