"""Listening history in the real window: plays and skips counted as the fake device plays real
files, shown in the table's Plays / Last played / Skips columns (hidden until asked for) and in
the "Recently played" panel, whose double-click plays the track."""
from __future__ import annotations

import time

import pytest
from PySide6.QtCore import Qt

from desktop.librarymodel import COL_LAST_PLAYED, COL_PLAYS, COL_SKIPS, COL_TITLE
from tests import media

pytestmark = pytest.mark.skipif(not media.have_ffmpeg(), reason="ffmpeg is needed to generate fixture media")


@pytest.fixture
def app(make_app, tmp_path, qtbot):
    root = tmp_path / "music"
    media.make(root / "a.flac", seconds=2, kind="tone", freq=330.0, sr=22050, channels=1,
               tags=dict(title="Brief A", artist="Delta", album="Shorts"))
    media.make(root / "b.flac", seconds=2, kind="tone", freq=440.0, sr=22050, channels=1,
               tags=dict(title="Brief B", artist="Delta", album="Shorts"))
    media.make(root / "long.flac", seconds=90, kind="tone", freq=220.0, sr=22050, channels=1,
               tags=dict(title="Lengthy", artist="Epsilon", album="Longs"))
    window, c = make_app(root, player=True, size=(1280, 800))
    qtbot.waitUntil(lambda: c.library.model.rowCount() == 3 and not c.library.scanning, timeout=30_000)
    return window, c


def _id_of(c, title):
    m = c.library.model
    return next(m.track_id(r) for r in range(m.rowCount()) if m.row_data(r).title == title)


def _cell(c, track_id, col):
    m = c.library.model
    return m.index(m.row_for(track_id), col).data(Qt.ItemDataRole.DisplayRole)


def test_plays_and_skips_show_in_the_table_and_recently_played(app, qtbot):
    window, c = app
    header = window.library_view.horizontalHeader()
    assert all(header.isSectionHidden(col) for col in (COL_PLAYS, COL_LAST_PLAYED, COL_SKIPS))  # by default
    a, long_id = _id_of(c, "Brief A"), _id_of(c, "Lengthy")

    # the long one left after a second: a skip, not a play
    c.playback.play_ids([long_id])
    qtbot.waitUntil(lambda: c.playback.state == "playing" and c.playback.position > 1.0, timeout=15_000)
    c.playback.stop()
    qtbot.waitUntil(lambda: _cell(c, long_id, COL_SKIPS) == "1", timeout=5000)
    assert _cell(c, long_id, COL_PLAYS) == "" and c.catalog.play_stats_of(long_id).skips == 1
    qtbot.waitUntil(lambda: c.playback.state == "stopped", timeout=5000)

    # a short track played to its end: one play, in the catalog, the table and the panel
    c.playback.play_ids([a])
    qtbot.waitUntil(lambda: c.catalog.play_stats_of(a).plays == 1, timeout=15_000)
    c.playback.stop()  # (whatever came after it down the table)
    qtbot.waitUntil(lambda: _cell(c, a, COL_PLAYS) == "1", timeout=5000)
    played_at = c.catalog.play_stats_of(a).last_played_at
    assert abs(played_at - time.time()) < 30
    assert _cell(c, a, COL_LAST_PLAYED) == time.strftime("%H:%M", time.localtime(played_at))
    qtbot.waitUntil(lambda: a in window.history_panel.track_ids(), timeout=5000)
    assert long_id not in window.history_panel.track_ids()  # skipped is not played

    # View ▸ Listening history columns shows them, compact, and it is remembered
    window.history_columns_action.trigger()
    assert not any(header.isSectionHidden(col) for col in (COL_PLAYS, COL_LAST_PLAYED, COL_SKIPS))
    assert header.sectionSize(COL_PLAYS) < 80 and header.sectionSize(COL_SKIPS) < 80
    assert header.sectionSize(COL_TITLE) >= 200  # the title stays readable at 1280×800
    assert c.settings.history_columns

    # sort by plays, most first
    window.library_view.sortByColumn(COL_PLAYS, Qt.SortOrder.DescendingOrder)
    assert c.library.model.row_data(0).id == a


def test_double_click_in_recently_played_plays_it(app, qtbot):
    window, c = app
    a, b = _id_of(c, "Brief A"), _id_of(c, "Brief B")
    c.playback.play_ids([a])
    qtbot.waitUntil(lambda: c.catalog.play_stats_of(a).plays == 1 and c.catalog.play_stats_of(b).plays == 1,
                    timeout=20_000)  # A, then B after it down the table
    c.playback.stop()
    qtbot.waitUntil(lambda: window.history_panel.track_ids() == [b, a], timeout=5000)
    qtbot.waitUntil(lambda: c.playback.state == "stopped", timeout=10_000)
    tree = window.history_panel.tree
    window.history_dock.show()
    window.history_dock.raise_()
    qtbot.waitUntil(tree.isVisible, timeout=2000)
    item = tree.topLevelItem(1)
    rect = tree.visualItemRect(item)
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: c.playback.current is not None and c.playback.current.id == a
                    and c.playback.state == "playing", timeout=5000)
    qtbot.waitUntil(lambda: c.catalog.play_stats_of(a).plays == 2, timeout=15_000)
    qtbot.waitUntil(lambda: window.history_panel.tree.topLevelItem(0).text(3) == "2", timeout=5000)


def test_the_history_follows_the_profile(app, qtbot):
    window, c = app
    a = _id_of(c, "Brief A")
    c.playback.play_ids([a])
    qtbot.waitUntil(lambda: c.catalog.play_stats_of(a).plays == 1, timeout=15_000)
    qtbot.waitUntil(lambda: a in window.history_panel.track_ids(), timeout=5000)
    c.catalog.add_profile("Sam")
    c.profiles.switch("Sam")
    qtbot.waitUntil(lambda: window.history_panel.track_ids() == [], timeout=5000)
    qtbot.waitUntil(lambda: c.library.model.by_id(a).plays == 0, timeout=5000)
