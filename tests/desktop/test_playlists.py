"""The Playlists panel on the real window, with the real catalog and a real player on the fake
(ALSA null) device: make, fill from the table's context menu, reorder, remove, play from an
entry, rename, delete with confirmation, import and export, save the queue."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QItemSelectionModel, QPoint, QPointF, Qt
from PySide6.QtGui import QDropEvent

from tests.desktop.conftest import open_folder


@pytest.fixture
def app_parts(make_app):
    return make_app(player=True)


def _stored(c, name):
    return [e.track.title for e in c.catalog.playlist_entries(name)]


def _shown(window):
    return [t.split(" — ")[0] for t in window.playlists_panel.entry_texts()]


def _action(menu, name):
    found = [a for a in menu.actions() if a.objectName() == name]
    assert found, f"no {name} in {[a.text() for a in menu.actions()]}"
    return found[0]


def _submenu(menu):
    return next(a.menu() for a in menu.actions() if a.menu() is not None and a.menu().objectName() == "addToPlaylistMenu")


def _make(window, c, qtbot, monkeypatch, name):
    panel = window.playlists_panel
    window.playlists_dock.raise_()  # its tab picked
    qtbot.waitUntil(panel.isVisible, timeout=5000)
    monkeypatch.setattr(panel, "ask_name", lambda *a, **k: name)
    qtbot.mouseClick(panel.new_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: name in panel.playlist_names(), timeout=5000)
    qtbot.waitUntil(lambda: panel.current_playlist() == c.catalog.playlist(name).id, timeout=5000)


def test_make_fill_from_the_table_reorder_remove_and_play(app_parts, qtbot, music_folder, monkeypatch):
    window, c = app_parts
    ids = open_folder(window, c, qtbot, music_folder, 4)
    panel = window.playlists_panel
    assert panel.left_stack.currentWidget() is panel.no_playlists
    _make(window, c, qtbot, monkeypatch, "Évening mix")
    assert c.catalog.playlist("évening MIX").entries == 0

    # "Add to playlist ▸ Évening mix" from the table's context menu, twice
    menu = c.library.build_context_menu([ids["Low Hum"], ids["Pink Noise"]])
    sub = _submenu(menu)
    assert [a.text() for a in sub.actions() if a.text()] == ["Évening mix", "New playlist…"]
    sub.actions()[0].trigger()
    qtbot.waitUntil(lambda: len(_shown(window)) == 2, timeout=5000)
    _submenu(c.library.build_context_menu([ids["Morning Tone"]])).actions()[0].trigger()
    qtbot.waitUntil(lambda: len(_shown(window)) == 3, timeout=5000)
    assert _shown(window) == ["Low Hum", "Pink Noise", "Morning Tone"]
    assert _stored(c, "Évening mix") == ["Low Hum", "Pink Noise", "Morning Tone"]
    assert panel.title.text().startswith("<b>Évening mix — 3 tracks, 0:06")

    # the last entry dragged to the top: stored, and shown so after a fresh read
    lst = panel.entries
    lst.clearSelection()
    lst.item(2).setSelected(True)
    mime = lst.model().mimeData([lst.indexFromItem(lst.item(2))])
    drop_at = lst.visualItemRect(lst.item(0)).topLeft() + QPoint(10, 2)  # above the first entry
    lst.dropEvent(QDropEvent(QPointF(drop_at), Qt.DropAction.MoveAction, mime, Qt.MouseButton.LeftButton,
                             Qt.KeyboardModifier.NoModifier))
    assert _shown(window) == ["Morning Tone", "Low Hum", "Pink Noise"]  # shown at once
    qtbot.waitUntil(lambda: _stored(c, "Évening mix") == ["Morning Tone", "Low Hum", "Pink Noise"], timeout=5000)
    qtbot.waitUntil(lambda: _shown(window) == ["Morning Tone", "Low Hum", "Pink Noise"], timeout=5000)

    # Delete removes the selected entries
    panel.entries.clearSelection()
    panel.entries.selectionModel().select(panel.entries.model().index(1, 0), QItemSelectionModel.SelectionFlag.Select)
    panel.entries.setFocus()
    qtbot.keyClick(panel.entries, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: _shown(window) == ["Morning Tone", "Pink Noise"], timeout=5000)
    assert _stored(c, "Évening mix") == ["Morning Tone", "Pink Noise"]

    # double-click plays from there: that track now, the rest of the playlist next
    if not c.player.available:
        pytest.skip(f"no output device, not even the null one: {c.player.unavailable_reason}")
    item = panel.entries.item(0)
    rect = panel.entries.visualItemRect(item)
    qtbot.mouseClick(panel.entries.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(panel.entries.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: c.playback.current is not None and c.playback.current.title == "Morning Tone",
                    timeout=5000)
    qtbot.waitUntil(lambda: [k.title for k in window.queue_panel.keys()][:1] == ["Pink Noise"], timeout=5000)


def test_rename_and_delete_with_confirmation_and_a_taken_name_refused(app_parts, qtbot, music_folder, monkeypatch):
    window, c = app_parts
    open_folder(window, c, qtbot, music_folder, 4)
    panel = window.playlists_panel
    _make(window, c, qtbot, monkeypatch, "One")
    _make(window, c, qtbot, monkeypatch, "Two")
    monkeypatch.setattr(panel, "ask_name", lambda *a, **k: "one")  # taken, whatever the case
    panel.ask_rename()
    qtbot.waitUntil(lambda: "already exists" in window.statusBar().currentMessage(), timeout=5000)
    assert [p.name for p in c.catalog.playlists()] == ["One", "Two"]
    monkeypatch.setattr(panel, "ask_name", lambda *a, **k: "Deux")
    panel.ask_rename()
    qtbot.waitUntil(lambda: panel.playlist_names() == ["Deux", "One"], timeout=5000)
    assert panel.current_playlist() == c.catalog.playlist("Deux").id
    monkeypatch.setattr(panel, "confirm_delete", lambda name, n: False)
    panel.ask_delete()
    qtbot.wait(300)
    assert [p.name for p in c.catalog.playlists()] == ["Deux", "One"], "a cancelled delete deletes nothing"
    asked = []
    monkeypatch.setattr(panel, "confirm_delete", lambda name, n: asked.append(name) or True)
    panel.playlist_list.setFocus()
    qtbot.keyClick(panel.playlist_list, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: panel.playlist_names() == ["One"], timeout=5000)
    assert asked == ["Deux"] and [p.name for p in c.catalog.playlists()] == ["One"]


def test_export_import_and_missing_entries_shown(app_parts, qtbot, music_folder, tmp_path, monkeypatch):
    import shutil

    window, c = app_parts
    folder = tmp_path / "lib"
    shutil.copytree(music_folder, folder)
    ids = open_folder(window, c, qtbot, folder, 4)
    panel = window.playlists_panel
    _make(window, c, qtbot, monkeypatch, "Tones")
    c.playlists.add_tracks(c.catalog.playlist("Tones").id, [ids["Morning Tone"], ids["Evening Tone"]])
    qtbot.waitUntil(lambda: len(_shown(window)) == 2, timeout=5000)
    out = tmp_path / "Tones export.m3u8"
    monkeypatch.setattr(panel, "choose_export_file", lambda name: str(out))
    qtbot.mouseClick(panel.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: out.exists(), timeout=5000)
    assert out.read_text(encoding="utf-8").splitlines()[2] == "lib/Alpha/one.mp3"

    monkeypatch.setattr(panel, "choose_import_file", lambda: str(out))
    qtbot.mouseClick(panel.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Tones export" in panel.playlist_names(), timeout=10_000)
    assert "Imported 2 tracks" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: _shown(window) == ["Morning Tone", "Evening Tone"], timeout=5000)
    assert panel.import_report is None  # nothing skipped: nothing to read

    # entries that cannot be used are listed with their reasons, in a window that does not block
    mixed = tmp_path / "mixed.m3u"
    mixed.write_text("lib/Beta/low.wav\nhttp://radio.example/live\nlib/gone.mp3\n", encoding="utf-8")
    monkeypatch.setattr(panel, "choose_import_file", lambda: str(mixed))
    qtbot.mouseClick(panel.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.import_report is not None and panel.import_report.isVisible(), timeout=10_000)
    assert panel.import_report.detailedText().splitlines() == [
        "line 2: http://radio.example/live: a URL, not a local file", "line 3: lib/gone.mp3: missing file"]
    assert "Imported 1 track from mixed.m3u into “mixed”; skipped 2" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: _shown(window) == ["Low Hum"], timeout=5000)  # the new playlist, selected
    panel.import_report.close()

    # a file gone: its entry stays, marked missing
    panel.select_playlist(c.catalog.playlist("Tones export").id)
    qtbot.waitUntil(lambda: _shown(window) == ["Morning Tone", "Evening Tone"], timeout=5000)
    (folder / "Alpha" / "two.flac").unlink()
    c.library.rescan()
    qtbot.waitUntil(lambda: any("(missing)" in t for t in panel.entry_texts()), timeout=30_000)
    assert panel.entry_texts()[1].endswith("(missing)") and len(panel.entry_texts()) == 2


def test_save_queue_and_add_from_the_queue_and_recommendations_menus(app_parts, qtbot, music_folder, monkeypatch):
    window, c = app_parts
    ids = open_folder(window, c, qtbot, music_folder, 4)
    if not c.player.available:
        pytest.skip(f"no output device, not even the null one: {c.player.unavailable_reason}")
    c.playback.enqueue([ids["Pink Noise"], ids["Low Hum"]])
    qtbot.waitUntil(lambda: window.queue_panel.list.count() == 2, timeout=5000)
    panel = window.playlists_panel
    monkeypatch.setattr(panel, "ask_name", lambda *a, **k: "From the queue")
    queue_menu = window.queue_panel.build_menu(window.queue_panel.keys()[0], window.queue_panel.keys())
    _action(queue_menu, "queueSaveAsPlaylist").trigger()
    qtbot.waitUntil(lambda: "From the queue" in panel.playlist_names(), timeout=5000)
    assert _stored(c, "From the queue") == ["Pink Noise", "Low Hum"]

    # the queue's "Add to playlist ▸ From the queue" adds that entry again
    queue_menu = window.queue_panel.build_menu(window.queue_panel.keys()[1], [window.queue_panel.keys()[1]])
    sub = _submenu(queue_menu)
    next(a for a in sub.actions() if a.text() == "From the queue").trigger()
    qtbot.waitUntil(lambda: len(_stored(c, "From the queue")) == 3, timeout=5000)
    assert _stored(c, "From the queue") == ["Pink Noise", "Low Hum", "Low Hum"]

    # the recommendations' menu offers the same, for the recommended tracks
    window.recommendations.set_items([(ids["Morning Tone"], "Morning Tone — Alpha", "because")])
    rec_menu = window.recommendations.build_menu([ids["Morning Tone"]])
    monkeypatch.setattr(panel, "ask_name", lambda *a, **k: "Recommended")
    _action(rec_menu, "recommendationsSaveAsPlaylist").trigger()
    qtbot.waitUntil(lambda: "Recommended" in panel.playlist_names(), timeout=5000)
    assert _stored(c, "Recommended") == ["Morning Tone"]
