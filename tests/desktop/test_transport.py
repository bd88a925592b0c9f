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
    for b in (bar.play_button, bar.stop_button, bar.prev_button, bar.next_button, bar.like_button, bar.dislike_button,
              bar.shuffle_button, bar.repeat_button):
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


def test_shuffle_and_repeat_buttons_emit_and_show_the_mode(bar, qtbot):
    with qtbot.waitSignal(bar.shuffleToggled, timeout=500) as sig:
        qtbot.mouseClick(bar.shuffle_button, Qt.MouseButton.LeftButton)
    assert sig.args == [True]
    with qtbot.waitSignal(bar.repeatClicked, timeout=500):
        qtbot.mouseClick(bar.repeat_button, Qt.MouseButton.LeftButton)
    bar.set_repeat("one")
    assert bar.repeat() == "one" and "this track" in bar.repeat_button.toolTip()
    bar.set_shuffle(False)
    assert not bar.shuffle() and bar.shuffle_button.toolTip() == "Shuffle: off"


def _modes(window):
    t = window.transport
    checked = [m for m, a in window.repeat_actions.items() if a.isChecked()]
    return t.shuffle(), window.shuffle_action.isChecked(), t.repeat(), checked


def test_shuffle_and_repeat_from_buttons_menu_and_shortcuts_are_remembered(qapp, qtbot, tmp_path):
    """The transport's buttons, the Playback menu and its shortcuts all set the player's modes,
    each shows the others' changes, and the next start comes back with them."""
    from PySide6.QtGui import QKeySequence

    from desktop.app import build

    data = str(tmp_path / "data")
    _a, w1, c1 = build(["--data-dir", data], app=qapp)
    qtbot.addWidget(w1)
    w1.show()
    qtbot.waitExposed(w1)
    c1.start()
    qtbot.waitUntil(lambda: c1.player is not None, timeout=15_000)
    assert _modes(w1) == (False, False, "off", ["off"])
    qtbot.mouseClick(w1.transport.shuffle_button, Qt.MouseButton.LeftButton)
    assert _modes(w1) == (True, True, "off", ["off"])
    qtbot.mouseClick(w1.transport.repeat_button, Qt.MouseButton.LeftButton)  # off -> all
    assert _modes(w1) == (True, True, "all", ["all"])
    w1.repeat_actions["one"].trigger()  # the menu
    assert _modes(w1) == (True, True, "one", ["one"])
    assert w1.repeat_cycle_action.shortcut() == QKeySequence("Ctrl+R")
    w1.repeat_cycle_action.trigger()  # one -> off
    w1.repeat_cycle_action.trigger()  # off -> all
    w1.shuffle_action.trigger()  # off again
    w1.shuffle_action.trigger()  # and on
    assert _modes(w1) == (True, True, "all", ["all"])
    c1.player.sync()
    assert c1.player.shuffle is True and c1.player.repeat == "all"
    # no shortcut of the window is bound twice
    keys = [a.shortcut().toString() for a in w1.actions() if not a.shortcut().isEmpty()]
    assert len(keys) == len(set(keys)), keys
    assert {"Ctrl+U", "Ctrl+R"} <= set(keys)
    c1.settings.sync()
    w1.close()
    c1.shutdown()

    _a, w2, c2 = build(["--data-dir", data], app=qapp)
    qtbot.addWidget(w2)
    c2.start()
    qtbot.waitUntil(lambda: c2.player is not None, timeout=15_000)
    assert _modes(w2) == (True, True, "all", ["all"])
    c2.player.sync()
    assert c2.player.shuffle is True and c2.player.repeat == "all"
    w2.close()
    c2.shutdown()
