import pytest
from PySide6.QtCore import QPoint, Qt

from desktop.transport import TransportBar


@pytest.fixture
def bar(qtbot):
    b = TransportBar()
    qtbot.addWidget(b)
    b.resize(900, 48)
    b.show()
    qtbot.waitExposed(b)
    b.set_track_loaded(True)
    b.set_duration(200.0)
    return b


@pytest.mark.parametrize(
    "button,signal",
    [("play_button", "playPauseClicked"), ("stop_button", "stopClicked"),
     ("prev_button", "previousClicked"), ("next_button", "nextClicked")],
)
def test_buttons_emit(bar, qtbot, button, signal):
    with qtbot.waitSignal(getattr(bar, signal), timeout=500):
        qtbot.mouseClick(getattr(bar, button), Qt.MouseButton.LeftButton)


def test_icons_are_not_empty(bar):
    for b in (bar.play_button, bar.stop_button, bar.prev_button, bar.next_button, bar.like_button, bar.dislike_button):
        assert not b.icon().isNull()
        assert not b.icon().pixmap(22, 22).isNull()


def test_position_updates_times_and_slider(bar):
    assert bar.total_label.text() == "3:20"
    bar.set_position(65.2)
    assert bar.elapsed_label.text() == "1:05"
    assert bar.seek_slider.value() == 65200


def test_position_updates_do_not_fight_a_drag(bar, qtbot):
    bar.set_position(10)
    bar.seek_slider.setSliderDown(True)
    bar.seek_slider.setSliderPosition(150_000)
    bar.set_position(11)  # the player keeps reporting while the user drags
    assert bar.seek_slider.sliderPosition() == 150_000
    with qtbot.waitSignal(bar.seekRequested, timeout=500) as sig:
        bar.seek_slider.setSliderDown(False)
    assert sig.args == [pytest.approx(150.0)]


def test_click_on_the_groove_seeks_there(bar, qtbot):
    s = bar.seek_slider
    with qtbot.waitSignal(bar.seekRequested, timeout=500) as sig:
        qtbot.mousePress(s, Qt.MouseButton.LeftButton, pos=QPoint(int(s.width() * 0.75), s.height() // 2))
        qtbot.mouseRelease(s, Qt.MouseButton.LeftButton, pos=QPoint(int(s.width() * 0.75), s.height() // 2))
    assert sig.args[0] == pytest.approx(150.0, abs=10.0)


def test_like_and_dislike_are_exclusive(bar, qtbot):
    with qtbot.waitSignal(bar.ratingChanged, timeout=500) as sig:
        qtbot.mouseClick(bar.like_button, Qt.MouseButton.LeftButton)
    assert sig.args == [1] and bar.rating() == 1
    with qtbot.waitSignal(bar.ratingChanged, timeout=500) as sig:
        qtbot.mouseClick(bar.dislike_button, Qt.MouseButton.LeftButton)
    assert sig.args == [-1] and not bar.like_button.isChecked()
    with qtbot.waitSignal(bar.ratingChanged, timeout=500) as sig:
        qtbot.mouseClick(bar.dislike_button, Qt.MouseButton.LeftButton)
    assert sig.args == [0] and bar.rating() == 0
    with qtbot.assertNotEmitted(bar.ratingChanged):
        bar.set_rating(1)  # told by the app: no echo
    assert bar.like_button.isChecked()


def test_volume_and_mute(bar, qtbot):
    with qtbot.waitSignal(bar.volumeChanged, timeout=500) as sig:
        bar.set_volume(40)
    assert sig.args == [40]
    bar.mute_button.click()
    assert bar.volume() == 0 and bar.mute_button.isChecked()
    bar.mute_button.click()
    assert bar.volume() == 40


def test_play_pause_icon_follows_the_state(bar):
    bar.set_playing(True)
    assert "Pause" in bar.play_button.toolTip()
    bar.set_playing(False)
    assert "Play" in bar.play_button.toolTip()


def test_no_track_disables_seek_and_like(bar):
    bar.set_track_loaded(False)
    assert not bar.seek_slider.isEnabled() and not bar.like_button.isEnabled()
    assert bar.total_label.text() == "0:00"
