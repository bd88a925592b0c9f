"""The queue panel on the real window, with a real player on the fake (ALSA null) device."""
import time

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt


@pytest.fixture
def app_parts(qapp, qtbot, tmp_path):
    from core.playback import Player
    from desktop.app import build

    _qapp, window, app = build(["--data-dir", str(tmp_path / "data")], app=qapp)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    holder = {}
    # ALSA's null PCM does not pace: the tap sleeps each block's duration (a real-time device)
    holder["p"] = app.player = Player(tap=lambda b: time.sleep(len(b) / (holder["p"].stream_rate or 44100)))
    app.start()
    qtbot.waitUntil(lambda: app.catalog is not None, timeout=10_000)
    if not app.player.available:
        pytest.skip(f"no output device, not even the null one: {app.player.unavailable_reason}")
    yield window, app
    app.shutdown()


def _open(window, c, qtbot, folder, n):
    window.openFolderRequested.emit(str(folder))
    qtbot.waitUntil(lambda: c.library.model.rowCount() == n and not c.library.scanning, timeout=30_000)
    m = c.library.model
    return {m.row_data(r).title: m.track_id(r) for r in range(n)}


def _titles(window):
    return [k.title for k in window.queue_panel.keys()]


def test_deleting_rows_2_to_4_removes_those_tracks(app_parts, qtbot, music_folder):
    window, c = app_parts
    ids = _open(window, c, qtbot, music_folder, 4)
    order = ["Morning Tone", "Evening Tone", "Pink Noise", "Low Hum", "Morning Tone", "Evening Tone"]
    c.playback.enqueue([ids[t] for t in order])
    panel = window.queue_panel
    qtbot.waitUntil(lambda: panel.list.count() == 6, timeout=5000)
    assert panel.durations() == ["0:02"] * 6  # each entry shows its length
    panel.list.clearSelection()
    for row in (1, 2, 3):
        panel.list.selectionModel().select(panel.list.model().index(row, 0), QItemSelectionModel.SelectionFlag.Select)
    panel.list.setFocus()
    qtbot.keyClick(panel.list, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: panel.list.count() != 6, timeout=5000)
    qtbot.wait(300)  # any late removal would show by now
    assert _titles(window) == ["Morning Tone", "Morning Tone", "Evening Tone"]
    assert [getattr(t, "title", None) for t in c.player.queue] == ["Morning Tone", "Morning Tone", "Evening Tone"]


def test_a_next_track_at_another_rate_leaves_the_queue_right(app_parts, qtbot, tmp_path):
    from tests import media

    window, c = app_parts
    folder = tmp_path / "rates"
    media.make(folder / "a.wav", seconds=0.6, sr=44100, freq=440.0, tags=dict(title="At 44100", artist="A"))
    media.make(folder / "b.wav", seconds=3, sr=48000, freq=550.0, tags=dict(title="At 48000", artist="B"))
    media.make(folder / "c.wav", seconds=1, sr=44100, freq=660.0, tags=dict(title="Last", artist="C"))
    ids = _open(window, c, qtbot, folder, 3)
    c.playback.enqueue([ids["At 48000"], ids["Last"]])
    qtbot.waitUntil(lambda: window.queue_panel.list.count() == 2, timeout=5000)
    c.playback.play_ids([ids["At 44100"]])
    qtbot.waitUntil(lambda: c.player.current is not None and c.player.current.title == "At 48000", timeout=10_000)
    assert c.player.stream_rate == 48000  # the stream changed rate: not a gapless hand-over
    qtbot.waitUntil(lambda: c.playback.current.title == "At 48000", timeout=5000)
    qtbot.wait(300)
    assert _titles(window) == ["Last"]
    assert c.settings.queue_ids == [ids["Last"]]  # the playing track is not saved as still to come
