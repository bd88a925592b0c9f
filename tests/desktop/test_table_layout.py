"""The library table at the default size: the window fits a 1280×800 screen, the Title column is
readable while a track plays, and a long title never widens the now-playing panel."""
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desktop.librarymodel import COL_ARTIST, COL_PREDICTED, COL_RATING, COL_TITLE

ROOT = Path(__file__).resolve().parents[2]
LONG_TITLE = "A very long title " * 16 + "that keeps going"  # 304 characters


def _settle(qtbot, ms=200):
    qtbot.wait(ms)


@pytest.fixture
def playing_app(qapp, qtbot, tmp_path):
    """The real app on a small real library (one track with a 300-character title), playing on the
    fake device (ALSA null PCM, paced to real time), the window at 1280×800."""
    from core.playback import Player
    from desktop.app import build
    from tests import media

    if not media.have_ffmpeg():
        pytest.skip("ffmpeg is not installed (scripts/dev.sh installs it); fixture media cannot be made")
    folder = tmp_path / "music"
    for i in range(12):
        media.make(folder / f"t{i:02d}.flac", seconds=2, kind="tone", freq=200.0 + 20 * i,
                   tags=dict(title=f"An ordinary song title number {i}", artist="Some Artist", album="Some Album"))
    media.make(folder / "long.flac", seconds=30, kind="tone", freq=330.0, sr=22050, channels=1,
               tags=dict(title=LONG_TITLE, artist="Gamma", album="Long Titles"))
    _a, window, c = build(["--data-dir", str(tmp_path / "data"), str(folder)], app=qapp)
    qtbot.addWidget(window)
    holder = {}
    holder["p"] = c.player = Player(tap=lambda b: time.sleep(len(b) / (holder["p"].stream_rate or 44100)))
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    c.start()
    qtbot.waitUntil(lambda: c.library.model.rowCount() == 13 and not c.library.scanning, timeout=30_000)
    _settle(qtbot)
    yield window, c
    c.shutdown()


def _play(qtbot, c, title):
    model = c.library.model
    row = next(r for r in range(model.rowCount()) if model.row_data(r).title == title)
    c.playback.play_ids([model.track_id(row)])
    qtbot.waitUntil(lambda: c.playback.current is not None and c.playback.current.title == title, timeout=5000)


# --- what is broken at 1280×800 -------------------------------------------------------------------
@pytest.mark.parametrize("screen", [(1280, 800), (1024, 600)])
def test_window_fits_the_screen(tmp_path, screen):
    """A fresh start on a screen of that size: the window is no larger than the screen's free area."""
    width, height = screen
    cfg = tmp_path / "screen.json"
    cfg.write_text(json.dumps({"screens": [{"name": "s", "x": 0, "y": 0, "width": width, "height": height,
                                            "logicalDpi": 96, "logicalBpp": 32}]}))
    code = (
        "import sys; from desktop.app import build; qa, w, c = build(['--data-dir', sys.argv[1]]); w.show();"
        "qa.processEvents(); a = qa.primaryScreen().availableGeometry();"
        "print(w.width(), w.height(), a.width(), a.height())"
    )
    env = dict(__import__("os").environ, QT_QPA_PLATFORM=f"offscreen:configfile={cfg}")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "data")], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    w, h, aw, ah = map(int, out.stdout.split()[-4:])
    assert (aw, ah) == (width, height)
    assert w <= min(1280, aw) and h <= min(800, ah), f"window {w}×{h} on a {aw}×{ah} screen"


def test_title_column_is_readable_while_a_track_plays(playing_app, qtbot):
    window, c = playing_app
    _play(qtbot, c, "An ordinary song title number 3")
    _settle(qtbot, 500)
    assert (window.width(), window.height()) == (1280, 800)
    view = window.library_view
    title_w = view.horizontalHeader().sectionSize(COL_TITLE)
    assert title_w >= 250, f"the Title column is {title_w} px wide"
    rows_shown = view.viewport().height() // view.verticalHeader().defaultSectionSize()
    assert rows_shown >= 10, f"only {rows_shown} rows show"


def test_the_longer_genre_labels_fit_their_column(playing_app, qtbot):
    """"Not music (other sounds)" and an "uncertain: a or b" label show whole, not cut to "Not music (oth…"."""
    window, _c = playing_app
    view = window.library_view
    width = view.horizontalHeader().sectionSize(COL_PREDICTED)
    margin = 2 * (view.style().pixelMetric(view.style().PixelMetric.PM_FocusFrameHMargin, None, view) + 1)
    for text in ("Not music (other sounds)", "uncertain: blues or reggae", "uncertain: hiphop or disco"):
        assert view.fontMetrics().horizontalAdvance(text) + margin <= width, (text, width)
    assert view.horizontalHeader().sectionSize(COL_TITLE) >= 250


def test_a_long_title_does_not_widen_the_now_playing_panel(playing_app, qtbot):
    window, c = playing_app
    _play(qtbot, c, "An ordinary song title number 1")
    _settle(qtbot)
    panel_w, window_w = window.now_playing_dock.width(), window.width()
    _play(qtbot, c, LONG_TITLE)
    _settle(qtbot, 500)
    assert window.width() == window_w
    assert window.now_playing_dock.width() == panel_w
    assert window.library_view.horizontalHeader().sectionSize(COL_TITLE) >= 250
    assert window.title_label.text() == LONG_TITLE
    assert window.title_label.toolTip() == LONG_TITLE  # the full title, where the label shows it cut


# --- the table's new behaviours --------------------------------------------------------------------
def _build(qapp, qtbot, data, folder=None):
    from desktop.app import build

    _a, window, c = build(["--data-dir", str(data)] + ([str(folder)] if folder else []), app=qapp)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    c.start()
    return window, c


@pytest.fixture
def library_app(qapp, qtbot, tmp_path, music_folder):
    window, c = _build(qapp, qtbot, tmp_path / "data", music_folder)
    qtbot.waitUntil(lambda: c.library.model.rowCount() == 4 and not c.library.scanning, timeout=30_000)
    window.activateWindow()
    window.raise_()
    qtbot.waitUntil(lambda: window.isActiveWindow(), timeout=2000)
    yield window, c
    c.shutdown()


def _titles(c):
    return [c.library.model.row_data(r).title for r in range(c.library.model.rowCount())]


def test_column_widths_and_sort_are_remembered(qapp, qtbot, tmp_path, music_folder):
    data = tmp_path / "data"
    w1, c1 = _build(qapp, qtbot, data, music_folder)
    qtbot.waitUntil(lambda: c1.library.model.rowCount() == 4 and not c1.library.scanning, timeout=30_000)
    w1.library_view.horizontalHeader().resizeSection(COL_ARTIST, 201)
    w1.library_view.sortByColumn(COL_TITLE, Qt.SortOrder.DescendingOrder)
    assert _titles(c1) == ["Pink Noise", "Morning Tone", "Low Hum", "Evening Tone"]
    w1.close()
    c1.shutdown()

    w2, c2 = _build(qapp, qtbot, data)  # the next start: the last library, as it was left
    qtbot.waitUntil(lambda: c2.library.model.rowCount() == 4, timeout=10_000)
    hh = w2.library_view.horizontalHeader()
    assert hh.sectionSize(COL_ARTIST) == 201
    assert (hh.sortIndicatorSection(), hh.sortIndicatorOrder()) == (COL_TITLE, Qt.SortOrder.DescendingOrder)
    assert _titles(c2) == ["Pink Noise", "Morning Tone", "Low Hum", "Evening Tone"]
    qtbot.waitUntil(lambda: not c2.library.scanning, timeout=30_000)
    c2.shutdown()


def test_now_playing_panel_hides_from_the_view_menu_and_stays_hidden(qapp, qtbot, tmp_path):
    data = tmp_path / "data"
    w1, c1 = _build(qapp, qtbot, data)
    view_menu = next(a.menu() for a in w1.menuBar().actions() if a.text().replace("&", "") == "View")
    action = next(a for a in view_menu.actions() if a.objectName() == "nowPlayingAction")
    assert action.isChecked() and w1.now_playing_dock.isVisible()
    table_w, panel_w = w1.library_pane.width(), w1.now_playing_dock.width()
    action.trigger()
    qtbot.waitUntil(lambda: not w1.now_playing_dock.isVisible(), timeout=2000)
    qtbot.waitUntil(lambda: w1.library_pane.width() >= table_w + panel_w, timeout=2000)  # the table takes the room
    w1.close()
    c1.shutdown()

    w2, c2 = _build(qapp, qtbot, data)
    assert not w2.now_playing_dock.isVisible() and not w2.now_playing_action.isChecked()
    w2.now_playing_action.trigger()
    qtbot.waitUntil(lambda: w2.now_playing_dock.isVisible(), timeout=2000)
    c2.shutdown()


def test_clicking_the_heart_column_toggles_the_like(library_app, qtbot):
    window, c = library_app
    model, view = c.library.model, window.library_view
    row = _titles(c).index("Low Hum")
    tid = model.track_id(row)
    heart = view.visualRect(model.index(row, COL_RATING)).center()
    title = view.visualRect(model.index(row, COL_TITLE)).center()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=heart)
    qtbot.waitUntil(lambda: c.catalog.rating(tid) == 1, timeout=5000)
    assert model.index(row, COL_RATING).data(Qt.ItemDataRole.ToolTipRole) == "Liked"
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=title)  # another column only selects
    qtbot.wait(300)
    assert c.catalog.rating(tid) == 1 and c.library.selected_ids() == [tid]
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=heart)  # again: the like is taken back
    qtbot.waitUntil(lambda: c.catalog.rating(tid) == 0, timeout=5000)


def test_ctrl_l_and_ctrl_d_rate_the_selected_rows_when_the_table_has_focus(library_app, qtbot):
    from PySide6.QtCore import QItemSelectionModel

    window, c = library_app
    model, view = c.library.model, window.library_view
    view.setFocus()
    qtbot.waitUntil(view.hasFocus, timeout=1000)
    view.selectRow(1)
    view.selectionModel().select(model.index(2, 0), QItemSelectionModel.SelectionFlag.Select
                                 | QItemSelectionModel.SelectionFlag.Rows)
    ids = [model.track_id(1), model.track_id(2)]
    others = [model.track_id(0), model.track_id(3)]
    qtbot.keyClick(view, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: [c.catalog.rating(t) for t in ids] == [1, 1], timeout=5000)
    qtbot.keyClick(view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: [c.catalog.rating(t) for t in ids] == [-1, -1], timeout=5000)
    qtbot.keyClick(view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)  # again: taken back
    qtbot.waitUntil(lambda: [c.catalog.rating(t) for t in ids] == [0, 0], timeout=5000)
    assert [c.catalog.rating(t) for t in others] == [0, 0]


def test_esc_clears_the_filter_and_down_moves_into_the_results(library_app, qtbot):
    window, c = library_app
    edit, view = window.filter_edit, window.library_view
    edit.setFocus()
    qtbot.waitUntil(edit.hasFocus, timeout=1000)
    qtbot.keyClicks(edit, "tone")
    qtbot.keyClick(edit, Qt.Key.Key_Down)  # at once, before the typing pause has filtered
    assert view.hasFocus()
    assert sorted(_titles(c)) == ["Evening Tone", "Morning Tone"]
    selected = c.library.selected_ids()
    assert len(selected) == 1 and c.library.model.by_id(selected[0]).title == _titles(c)[0]
    edit.setFocus()
    qtbot.waitUntil(edit.hasFocus, timeout=1000)
    qtbot.keyClick(edit, Qt.Key.Key_Escape)
    assert edit.text() == ""
    assert len(_titles(c)) == 4
