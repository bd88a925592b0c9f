"""The transport from the keyboard: Tab reaches every control in the order shown, each has an
accessible name and description, a focused button answers Space / Return itself (not the
window's play/pause shortcut), and the focus is drawn."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

SHOWN_ORDER = ["Previous track", "Play", "Stop", "Next track", "Shuffle", "Repeat: off", "Position", "Like",
               "Dislike", "Mute", "Volume"]


def _activate(qtbot, w):
    w.activateWindow()
    w.raise_()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=2000)


def test_tab_walks_through_the_transport_with_names(qtbot, window):
    t = window.transport
    t.set_track_loaded(True)  # a track is loaded: every control is enabled
    _activate(qtbot, window)
    t.prev_button.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(lambda: t.prev_button.hasFocus(), timeout=2000)
    names = []
    for _ in SHOWN_ORDER:
        w = QApplication.focusWidget()
        assert w is not None and t.isAncestorOf(w)
        assert w.accessibleDescription(), w.objectName()
        names.append(w.accessibleName())
        qtbot.keyClick(w, Qt.Key.Key_Tab)
    assert names == SHOWN_ORDER
    assert not t.isAncestorOf(QApplication.focusWidget())  # Tab leaves the transport after the volume


def test_a_focused_button_takes_space_and_return_before_the_shortcuts(qtbot, window):
    t = window.transport
    t.set_track_loaded(True)
    _activate(qtbot, window)
    pressed = []
    t.nextClicked.connect(lambda: pressed.append("next"))
    t.playPauseClicked.connect(lambda: pressed.append("play"))
    t.next_button.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.keyClick(t.next_button, Qt.Key.Key_Space)
    qtbot.keyClick(t.next_button, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(pressed) == 2, timeout=2000)  # (Return animates the click)
    assert pressed == ["next", "next"]
    # elsewhere, Space is play / pause
    window.library_view.setFocus()
    qtbot.keyClick(window.library_view, Qt.Key.Key_Space)
    assert pressed[-1] == "play"


def test_a_focused_volume_slider_takes_its_arrows(qtbot, window):
    t = window.transport
    t.set_track_loaded(True)
    t.set_duration(100.0)
    _activate(qtbot, window)
    seeks = []
    window.seekRequested.connect(seeks.append)
    t.set_volume(50)
    t.volume_slider.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.keyClick(t.volume_slider, Qt.Key.Key_Right)
    assert t.volume() == 51 and not seeks  # the volume moved; the track did not seek


def test_the_play_button_says_what_it_does_now(qtbot, window):
    t = window.transport
    t.set_playing(True)
    assert t.play_button.accessibleName() == "Pause"
    t.set_playing(False)
    assert t.play_button.accessibleName() == "Play"
    t.set_repeat("one")
    assert t.repeat_button.accessibleName() == "Repeat: this track"


def test_the_focus_ring_is_drawn(qapp, qtbot, window):
    """The focused button has a ring of the accent colour that the same button lacks unfocused."""
    from desktop.theme import apply_theme

    apply_theme(qapp)  # the app's style sheet, as build() applies it
    t = window.transport
    _activate(qtbot, window)
    window.library_view.setFocus()
    qtbot.waitUntil(lambda: not t.next_button.hasFocus(), timeout=2000)
    plain = t.next_button.grab().toImage()
    t.next_button.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(lambda: t.next_button.hasFocus(), timeout=2000)
    focused = t.next_button.grab().toImage()
    def edge(image):
        c = image.pixelColor(1, image.height() // 2)
        return c.red(), c.green(), c.blue()

    assert edge(focused) == (0x4F, 0xD1, 0xFF)
    assert edge(plain) != (0x4F, 0xD1, 0xFF)
