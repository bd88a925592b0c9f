"""Two commands about the playing track: View ▸ Show playing track (Ctrl+J) selects and scrolls to
its row, clearing the filter that hid it (with nothing playing the status bar says so); Playback
▸ Stop after current track stops there, keeps the queue and unchecks itself."""
from __future__ import annotations

from PySide6.QtCore import Qt

from tests.desktop.conftest import open_folder


def test_ctrl_j_finds_the_playing_track_behind_a_filter(make_app, qtbot, music_folder):
    window, app = make_app(player=True, analysis=False)
    ids = open_folder(window, app, qtbot, music_folder, 4)
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_J, Qt.KeyboardModifier.ControlModifier)
    assert window.statusBar().currentMessage() == "Nothing is playing"

    app.playback.play_ids([ids["Pink Noise"]])
    qtbot.waitUntil(lambda: app.playback.state == "playing", timeout=10_000)
    window.filter_edit.setText("Morning")
    window._flush_filter()  # noqa: SLF001 (the typing pause, skipped)
    qtbot.waitUntil(lambda: app.library.model.rowCount() == 1, timeout=3000)
    window.show_playing_action.trigger()
    assert window.filter_edit.text() == "" and app.library.model.rowCount() == 4
    assert app.library.selected_ids() == [ids["Pink Noise"]]
    current = window.library_view.currentIndex()
    assert app.library.model.track_id(current.row()) == ids["Pink Noise"]


def test_stop_after_current_track_stops_there_and_unchecks_itself(make_app, qtbot, music_folder):
    window, app = make_app(player=True, analysis=False)
    ids = open_folder(window, app, qtbot, music_folder, 4)
    app.playback.play_ids([ids["Morning Tone"], ids["Evening Tone"]])
    qtbot.waitUntil(lambda: app.playback.state == "playing", timeout=10_000)
    window.stop_after_action.trigger()
    assert window.stop_after_action.isChecked() and app.player.stop_after_current
    qtbot.waitUntil(lambda: app.playback.state == "stopped", timeout=10_000)
    assert app.playback.current.title == "Morning Tone"
    assert [getattr(t, "title", None) for t in app.player.queue][:1] == ["Evening Tone"]  # kept for later
    qtbot.waitUntil(lambda: not window.stop_after_action.isChecked(), timeout=3000)
