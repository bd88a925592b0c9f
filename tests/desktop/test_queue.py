"""The queue panel on the real window, with a real player on the fake (ALSA null) device."""

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt

from tests.desktop.conftest import open_folder


@pytest.fixture
def app_parts(make_app):
    return make_app(player=True)


def _titles(window):
    return [k.title for k in window.queue_panel.keys()]


def test_deleting_rows_2_to_4_removes_those_tracks(app_parts, qtbot, music_folder):
    window, c = app_parts
    ids = open_folder(window, c, qtbot, music_folder, 4)
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
    ids = open_folder(window, c, qtbot, folder, 3)
    c.playback.enqueue([ids["At 48000"], ids["Last"]])
    qtbot.waitUntil(lambda: window.queue_panel.list.count() == 2, timeout=5000)
    c.playback.play_ids([ids["At 44100"]])
    qtbot.waitUntil(lambda: c.player.current is not None and c.player.current.title == "At 48000", timeout=10_000)
    assert c.player.stream_rate == 48000  # the stream changed rate: not a gapless hand-over
    qtbot.waitUntil(lambda: c.playback.current.title == "At 48000", timeout=5000)
    qtbot.wait(300)
    assert _titles(window) == ["Last"]
    assert c.settings.queue_ids == [ids["Last"]]  # the playing track is not saved as still to come


# --- reordering, the context menu, "Play these", going on from the table ---------------------------
def _queue_titles(c):
    return [getattr(t, "title", None) for t in c.player.queue]


def _enqueue(window, c, qtbot, ids, titles):
    c.playback.enqueue([ids[t] for t in titles])
    qtbot.waitUntil(lambda: _titles(window) == list(titles), timeout=5000)


def test_dragging_entries_to_the_top_reorders_the_players_queue(app_parts, qtbot, music_folder):
    from PySide6.QtCore import QPoint, QPointF
    from PySide6.QtGui import QDropEvent

    window, c = app_parts
    ids = open_folder(window, c, qtbot, music_folder, 4)
    _enqueue(window, c, qtbot, ids, ["Morning Tone", "Evening Tone", "Pink Noise", "Low Hum"])
    lst = window.queue_panel.list
    lst.clearSelection()
    for r in (2, 3):
        lst.item(r).setSelected(True)
    mime = lst.model().mimeData([lst.indexFromItem(lst.item(r)) for r in (2, 3)])
    drop_at = lst.visualItemRect(lst.item(0)).topLeft() + QPoint(10, 2)  # above the first entry
    lst.dropEvent(QDropEvent(QPointF(drop_at), Qt.DropAction.MoveAction, mime, Qt.MouseButton.LeftButton,
                             Qt.KeyboardModifier.NoModifier))
    want = ["Pink Noise", "Low Hum", "Morning Tone", "Evening Tone"]
    assert _titles(window) == want  # shown at once
    qtbot.waitUntil(lambda: _queue_titles(c) == want, timeout=5000)
    qtbot.wait(200)
    assert _titles(window) == want
    assert c.settings.queue_ids == [ids[t] for t in want]  # what the next start restores


def test_the_queue_context_menu(app_parts, qtbot, music_folder):
    from PySide6.QtCore import QObject, Slot
    from PySide6.QtGui import QDesktopServices

    window, c = app_parts
    ids = open_folder(window, c, qtbot, music_folder, 4)
    _enqueue(window, c, qtbot, ids, ["Morning Tone", "Evening Tone", "Pink Noise", "Low Hum"])
    panel = window.queue_panel

    def choose(title, action, selected=None):
        keys = panel.keys()
        key = next(k for k in keys if k.title == title)
        menu = panel.build_menu(key, [k for k in keys if k.title in (selected or [title])])
        names = [a.objectName() for a in menu.actions() if a.objectName()]
        assert names[:6] == ["queuePlayNow", "queueMoveTop", "queueMoveBottom", "queueRemove", "queueShow",
                             "queueClear"]
        next(a for a in menu.actions() if a.objectName() == action).trigger()

    choose("Pink Noise", "queueMoveTop")
    qtbot.waitUntil(lambda: _queue_titles(c) == ["Pink Noise", "Morning Tone", "Evening Tone", "Low Hum"], timeout=5000)
    choose("Morning Tone", "queueMoveBottom")
    qtbot.waitUntil(lambda: _queue_titles(c) == ["Pink Noise", "Evening Tone", "Low Hum", "Morning Tone"], timeout=5000)
    choose("Evening Tone", "queueRemove", ["Evening Tone", "Low Hum"])
    qtbot.waitUntil(lambda: _queue_titles(c) == ["Pink Noise", "Morning Tone"], timeout=5000)

    class Opened(QObject):
        urls = []

        @Slot("QUrl")
        def open(self, url):
            self.urls.append(url.toLocalFile())

    opened = Opened()
    QDesktopServices.setUrlHandler("file", opened, "open")
    try:
        choose("Morning Tone", "queueShow")
        qtbot.waitUntil(lambda: bool(opened.urls), timeout=5000)
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert opened.urls == [str(music_folder / "Alpha")]

    choose("Morning Tone", "queuePlayNow")
    qtbot.waitUntil(lambda: c.playback.current is not None and c.playback.current.title == "Morning Tone", timeout=5000)
    qtbot.waitUntil(lambda: _queue_titles(c) == ["Pink Noise"], timeout=5000)
    choose("Pink Noise", "queueClear")
    qtbot.waitUntil(lambda: _queue_titles(c) == [] and _titles(window) == [], timeout=5000)


def _answer_play_these(qtbot, button, remember=False):
    """Answer the "Play these" question once it is on screen (it is modal: from a timer)."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QCheckBox, QPushButton

    asked = []

    def answer():
        box = QApplication.activeModalWidget()
        if box is None or box.objectName() != "playTheseQuestion":
            QTimer.singleShot(20, answer)
            return
        asked.append(box.text())
        if remember:
            box.findChild(QCheckBox, "playTheseRemember").setChecked(True)
        box.findChild(QPushButton, button).click()

    QTimer.singleShot(0, answer)
    return asked


def _select_rows(window, c, titles):
    from PySide6.QtCore import QItemSelectionModel

    view, m = window.library_view, c.library.model
    view.clearSelection()
    rows = [r for r in range(m.rowCount()) if m.row_data(r).title in titles]
    for r in rows:
        view.selectionModel().select(m.index(r, 0), QItemSelectionModel.SelectionFlag.Select
                                     | QItemSelectionModel.SelectionFlag.Rows)
    view.selectionModel().setCurrentIndex(m.index(rows[0], 0), QItemSelectionModel.SelectionFlag.NoUpdate)
    view.setFocus()


def test_enter_on_several_rows_asks_whether_to_replace_or_append_to_the_queue(app_parts, qtbot, music_folder):
    window, c = app_parts
    ids = open_folder(window, c, qtbot, music_folder, 4)
    c.library.model.sort(0)  # by title: Evening Tone, Low Hum, Morning Tone, Pink Noise
    _enqueue(window, c, qtbot, ids, ["Low Hum"])

    _select_rows(window, c, ["Morning Tone", "Evening Tone"])
    asked = _answer_play_these(qtbot, "playTheseAppend")
    qtbot.keyClick(window.library_view, Qt.Key.Key_Return)
    assert asked and "1 track" in asked[0]
    # after what was queued; nothing was playing, so the queue starts
    qtbot.waitUntil(lambda: c.playback.current is not None and c.playback.current.title == "Low Hum", timeout=5000)
    qtbot.waitUntil(lambda: _queue_titles(c) == ["Evening Tone", "Morning Tone"], timeout=5000)

    _select_rows(window, c, ["Pink Noise", "Evening Tone"])
    asked = _answer_play_these(qtbot, "playTheseReplace", remember=True)
    qtbot.keyClick(window.library_view, Qt.Key.Key_Return)
    assert asked
    qtbot.waitUntil(lambda: c.playback.current.title == "Evening Tone", timeout=5000)
    qtbot.waitUntil(lambda: _queue_titles(c) == ["Pink Noise"], timeout=5000)
    assert c.settings.play_these == "replace"

    _select_rows(window, c, ["Morning Tone", "Low Hum"])  # remembered: no question
    menu = c.library.build_context_menu(c.library.selected_ids())
    next(a for a in menu.actions() if a.objectName() == "ctxPlayThese").trigger()
    qtbot.waitUntil(lambda: c.playback.current.title == "Low Hum", timeout=5000)
    qtbot.waitUntil(lambda: _queue_titles(c) == ["Morning Tone"], timeout=5000)


def test_play_these_from_the_recommendations_asks_as_the_table_does(app_parts, qtbot, music_folder):
    window, c = app_parts
    ids = open_folder(window, c, qtbot, music_folder, 4)
    _enqueue(window, c, qtbot, ids, ["Low Hum"])
    asked = _answer_play_these(qtbot, "playTheseAppend")
    window.recommendations.playAllRequested.emit([ids["Morning Tone"], ids["Evening Tone"]])  # its "Play these"
    assert asked and "1 track" in asked[0]
    qtbot.waitUntil(lambda: c.playback.current is not None and c.playback.current.title == "Low Hum", timeout=5000)
    qtbot.waitUntil(lambda: _queue_titles(c) == ["Morning Tone", "Evening Tone"], timeout=5000)
    # one recommendation (double-click) plays at once, without a question
    window.recommendations.activated.emit(ids["Pink Noise"])
    qtbot.waitUntil(lambda: c.playback.current.title == "Pink Noise", timeout=5000)


@pytest.fixture
def view_folder(tmp_path):
    from tests import media

    folder = tmp_path / "view"
    for i, (title, artist) in enumerate([("a1", "A"), ("a2", "A"), ("a3", "A"), ("b1", "B"), ("b2", "B"),
                                         ("c1", "C"), ("skip me", "D")]):
        media.make(folder / f"{i}.wav", seconds=0.5, sr=22050, channels=1, freq=300.0 + 50 * i,
                   tags=dict(title=title, artist=artist, album="Other" if artist == "D" else f"Set {artist}"))
    return folder


def test_shuffle_from_the_table_plays_every_shown_row_once_without_an_artist_twice(app_parts, qtbot, view_folder):
    window, c = app_parts
    ids = open_folder(window, c, qtbot, view_folder, 7)
    window.filter_edit.setText("set")  # every track but "skip me"
    window.filter_edit.returnPressed.emit()
    qtbot.waitUntil(lambda: c.library.model.rowCount() == 6, timeout=2000)
    c.playback.set_shuffle(True)
    heard = []
    c.playback.trackChanged.connect(lambda item, _d: heard.append(item.title) if not heard or heard[-1] != item.title
                                    else None)
    c.playback.play_ids([ids["a1"]])
    qtbot.waitUntil(lambda: heard == ["a1"], timeout=5000)
    for n in range(2, 7):
        c.playback.next()
        qtbot.waitUntil(lambda n=n: len(heard) == n, timeout=5000)
    assert sorted(heard) == ["a1", "a2", "a3", "b1", "b2", "c1"]  # every shown row once, never "skip me"
    artists = [t[0] for t in heard]
    assert all(x != y for x, y in zip(artists, artists[1:])), heard  # 3 of A in 6: they can be kept apart
    c.playback.next()  # the round is over, repeat is off: it stops
    qtbot.waitUntil(lambda: c.playback.state == "stopped", timeout=5000)
    assert len(heard) == 6


def test_repeat_all_with_an_empty_queue_goes_on_through_the_table(app_parts, qtbot, view_folder):
    window, c = app_parts
    ids = open_folder(window, c, qtbot, view_folder, 7)
    window.filter_edit.setText("set b")  # b1, b2
    window.filter_edit.returnPressed.emit()
    qtbot.waitUntil(lambda: c.library.model.rowCount() == 2, timeout=2000)
    c.playback.set_repeat("all")
    heard = []
    c.playback.trackChanged.connect(lambda item, _d: heard.append(item.title) if not heard or heard[-1] != item.title
                                    else None)
    c.playback.play_ids([ids["b2"]])  # the last row: then round to the first, not b2 again and again
    qtbot.waitUntil(lambda: len(heard) >= 4, timeout=15_000)
    assert heard[:4] == ["b2", "b1", "b2", "b1"]
