"""View ▸ Show playing track (Ctrl+J): the playing row is selected and scrolled to, the filter
that hid it cleared; with nothing playing the status bar says so."""
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
