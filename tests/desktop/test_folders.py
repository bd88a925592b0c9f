"""A library of several folders, driven through the real window: File ▸ Add folder to
library…, opening a folder (add or switch), the Library folders page (Remove), the watcher
bringing a copied file into the table, and the recommendations after a switch."""
from __future__ import annotations

import os
import shutil

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QFileDialog, QPushButton

from tests import media


@pytest.fixture
def app_parts(make_app):
    return make_app(analysis=False)  # no genre workers: these tests store their own results


@pytest.fixture
def second_folder(tmp_path, ffmpeg):
    root = tmp_path / "more music"
    media.make(root / "Gamma" / "a.ogg", kind="noise", tags={"title": "Gamma Ray", "artist": "Gamma"})
    media.make(root / "Gamma" / "b.mp3", freq=550.0, tags={"title": "Gamma Wave", "artist": "Gamma"})
    media.make(root / "c.flac", freq=330.0, tags={"title": "Delta Blues", "artist": "Delta"})
    return root


def titles(app) -> set[str]:
    m = app.library.model
    return {m.row_data(r).title for r in range(m.rowCount())}


def id_of(app, title) -> int:
    m = app.library.model
    return next(m.track_id(r) for r in range(m.rowCount()) if m.row_data(r).title == title)


FIRST = {"Morning Tone", "Evening Tone", "Pink Noise", "Low Hum"}
SECOND = {"Gamma Ray", "Gamma Wave", "Delta Blues"}


def add_with_menu(qtbot, window, app, monkeypatch, folder):
    """File ▸ Add folder to library… (the folder picked in the file dialog)."""
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: str(folder)))
    window.add_folder_action.trigger()
    qtbot.waitUntil(lambda: str(folder) in app.library.folders.roots(), timeout=10_000)


def answer_open_question(button_name: str) -> None:
    """Click ``button_name`` in the "Add or switch" question once it is on screen."""
    def click():
        for w in QApplication.topLevelWidgets():
            if w.objectName() == "addOrSwitchBox" and w.isVisible():
                w.findChild(QPushButton, button_name).click()
                return
        QTimer.singleShot(50, click)

    QTimer.singleShot(50, click)


def settled(app) -> bool:
    return not app.library.scanning


def test_two_folders_are_shown_together_and_listed_with_their_state(app_parts, qtbot, monkeypatch, music_folder,
                                                                    second_folder):
    window, app = app_parts
    add_with_menu(qtbot, window, app, monkeypatch, music_folder)
    qtbot.waitUntil(lambda: titles(app) == FIRST and settled(app), timeout=30_000)
    add_with_menu(qtbot, window, app, monkeypatch, second_folder)
    qtbot.waitUntil(lambda: titles(app) == FIRST | SECOND and settled(app), timeout=30_000)
    assert window.count_label.text() == "7 tracks"

    # File ▸ Library folders…: both folders, both watched, with their tracks
    window.folders_action.trigger()
    page = app.folders_dialog.page
    assert app.folders_dialog.isVisible()
    qtbot.waitUntil(lambda: [s for _f, s in page.rows()] == ["Watched", "Watched"], timeout=10_000)
    assert sorted(f for f, _s in page.rows()) == sorted([str(music_folder), str(second_folder)])
    counts = {page.tree.topLevelItem(i).text(0): page.tree.topLevelItem(i).text(1) for i in range(2)}
    assert counts == {str(music_folder): "4", str(second_folder): "3"}

    # opening a folder that is in the library already, and keeping all folders, adds nothing
    answer_open_question("addToLibraryButton")
    window.openFolderRequested.emit(str(second_folder / "Gamma"))
    assert app.library.folders.roots() == sorted([str(music_folder), str(second_folder)])

    # the next start shows both at once
    app.shutdown()
    from desktop.app import build

    _q, w2, c2 = build(["--data-dir", str(app.data_dir)], app=QApplication.instance())
    c2.analysis.ANALYSIS_DELAY_MS = 10**9
    qtbot.addWidget(w2)
    c2.start()
    try:
        qtbot.waitUntil(lambda: titles(c2) == FIRST | SECOND, timeout=15_000)
    finally:
        c2.shutdown()


def test_switch_hides_the_other_folder_and_adding_it_back_restores_it(app_parts, qtbot, music_folder, second_folder):
    window, app = app_parts
    window.openFolderRequested.emit(str(music_folder))  # an empty library: added without a question
    qtbot.waitUntil(lambda: titles(app) == FIRST and settled(app), timeout=30_000)
    liked = id_of(app, "Pink Noise")
    app.library.rate([liked], 1)
    qtbot.waitUntil(lambda: app.catalog.rating(liked) == 1, timeout=5000)

    answer_open_question("switchFolderButton")
    window.openFolderRequested.emit(str(second_folder))
    qtbot.waitUntil(lambda: titles(app) == SECOND and settled(app), timeout=30_000)
    assert app.library.folders.roots() == [str(second_folder)]
    # hidden, not deleted: the rows and the like are in the catalog
    assert app.catalog.rating(liked) == 1 and not app.catalog.get_track(liked).missing

    answer_open_question("addToLibraryButton")
    window.openFolderRequested.emit(str(music_folder))
    qtbot.waitUntil(lambda: titles(app) == FIRST | SECOND, timeout=30_000)
    assert app.library.model.by_id(liked).rating == 1  # the same row, liked


def test_removing_a_folder_keeps_its_likes(app_parts, qtbot, monkeypatch, music_folder, second_folder):
    window, app = app_parts
    add_with_menu(qtbot, window, app, monkeypatch, music_folder)
    add_with_menu(qtbot, window, app, monkeypatch, second_folder)
    qtbot.waitUntil(lambda: titles(app) == FIRST | SECOND and settled(app), timeout=30_000)
    liked = id_of(app, "Gamma Ray")
    app.library.rate([liked], 1)
    qtbot.waitUntil(lambda: app.catalog.rating(liked) == 1, timeout=5000)

    window.folders_action.trigger()
    page = app.folders_dialog.page
    assert not page.remove_button.isEnabled()
    page.select(str(second_folder))
    assert page.remove_button.isEnabled()
    page.remove_button.click()
    qtbot.waitUntil(lambda: titles(app) == FIRST, timeout=10_000)
    assert [f for f, _s in page.rows()] == [str(music_folder)]
    assert app.catalog.rating(liked) == 1

    add_with_menu(qtbot, window, app, monkeypatch, second_folder)
    qtbot.waitUntil(lambda: titles(app) == FIRST | SECOND, timeout=30_000)
    assert app.library.model.by_id(liked).rating == 1


def test_a_file_copied_into_a_watched_folder_appears_and_a_deleted_one_leaves(app_parts, qtbot, tmp_path, music_folder,
                                                                             second_folder):
    window, app = app_parts
    window.openFolderRequested.emit(str(second_folder))
    qtbot.waitUntil(lambda: titles(app) == SECOND and settled(app), timeout=30_000)
    qtbot.waitUntil(lambda: [f.state for f in app.library.folders.folders()] == ["watched"], timeout=10_000)

    shutil.copy(music_folder / "Alpha" / "two.flac", second_folder / "Gamma" / "copied.flac")
    qtbot.waitUntil(lambda: "Evening Tone" in titles(app), timeout=15_000)
    assert window.count_label.text() == "4 tracks"

    os.remove(second_folder / "c.flac")
    qtbot.waitUntil(lambda: "Delta Blues" not in titles(app), timeout=15_000)


def test_an_unavailable_folder_is_said_and_comes_back(app_parts, qtbot, tmp_path, second_folder):
    window, app = app_parts
    window.openFolderRequested.emit(str(second_folder))
    qtbot.waitUntil(lambda: titles(app) == SECOND and settled(app), timeout=30_000)
    liked = id_of(app, "Delta Blues")
    app.library.rate([liked], 1)
    qtbot.waitUntil(lambda: app.catalog.rating(liked) == 1, timeout=5000)

    away = tmp_path / "unplugged"
    os.rename(second_folder, away)  # as if its disk were unmounted
    label = app.library.folders.unavailable_label
    qtbot.waitUntil(lambda: label.isVisible() and titles(app) == set(), timeout=15_000)
    assert "1 folder unavailable" in label.text()
    assert [f.state for f in app.library.folders.folders()] == ["unavailable"]
    assert app.catalog.track_count(include_missing=True) == 3 and app.catalog.missing_count() == 0
    assert app.catalog.rating(liked) == 1

    os.rename(away, second_folder)
    qtbot.waitUntil(lambda: titles(app) == SECOND and not label.isVisible(), timeout=15_000)
    assert app.library.model.by_id(liked).rating == 1


def _store_results(app, ids, cluster_of):
    """Genre results for ``ids``, the embeddings in two clusters (``cluster_of(id)``: 0 or 1)."""
    import numpy as np

    rng = np.random.default_rng(0)
    classes = ["blues", "jazz", "rock"]
    for tid in ids:
        t = app.catalog.get_track(tid)
        wp = rng.dirichlet(np.ones(3), 6).astype(np.float32)
        emb = (rng.normal(size=(6, 16)) + (3.0 if cluster_of(tid) == 0 else -3.0)).astype(np.float16)
        app.catalog.store_analysis(tid, {
            "fingerprint": t.fingerprint, "model_version": "test-v1", "classes": classes,
            "top_genre": classes[int(wp.mean(0).argmax())], "confidence": float(wp.mean(0).max()),
            "track_probs": wp.mean(0), "window_probs": wp, "embeddings": emb, "window_s": 1.0, "hop_s": 0.5,
            "duration": 2.0,
        })


def test_recommendations_after_a_switch_name_tracks_of_the_new_library(app_parts, qtbot, music_folder, second_folder):
    window, app = app_parts
    panel = window.recommendations
    window.openFolderRequested.emit(str(music_folder))
    qtbot.waitUntil(lambda: titles(app) == FIRST and settled(app), timeout=30_000)
    answer_open_question("addToLibraryButton")
    window.openFolderRequested.emit(str(second_folder))
    qtbot.waitUntil(lambda: titles(app) == FIRST | SECOND and settled(app), timeout=30_000)
    first_ids = {id_of(app, t) for t in FIRST}
    _store_results(app, [id_of(app, t) for t in FIRST | SECOND],
                   lambda tid: 0 if tid in first_ids or tid == id_of(app, "Gamma Ray") else 1)
    liked = id_of(app, "Morning Tone")
    app.library.rate([liked], 1)
    qtbot.waitUntil(lambda: panel.list.count() > 0, timeout=30_000)
    assert set(panel.keys()) & first_ids  # the first folder's tracks are recommended

    answer_open_question("switchFolderButton")
    window.openFolderRequested.emit(str(second_folder))
    qtbot.waitUntil(lambda: titles(app) == SECOND, timeout=30_000)
    shown = {id_of(app, t) for t in SECOND}
    qtbot.waitUntil(lambda: panel.list.count() > 0 and set(panel.keys()) <= shown, timeout=30_000)
    # every entry is a track of the table, named by its title, with its reasons
    texts = panel.texts()
    for tid, text in zip(panel.keys(), texts):
        row = app.library.row(tid)
        assert row is not None and row.title in text and not text.startswith("track ")
        assert "%" in text  # its reasons: the genres it was heard as
    # the like of the hidden folder still counts: its neighbour ranks first
    assert panel.keys()[0] == id_of(app, "Gamma Ray")

    # a double-click plays it: now playing shows it
    with qtbot.waitSignal(app.recommendations.playRequested, timeout=3000) as sig:
        panel.list.itemDoubleClicked.emit(panel.list.item(0))
    assert sig.args == [[id_of(app, "Gamma Ray")]]
    qtbot.waitUntil(lambda: window.title_label.text() == "Gamma Ray", timeout=10_000)
    qtbot.wait(1000)  # what the track's start set going (cover, genres, history) is done


def test_settings_from_a_one_folder_library_keep_showing_that_folder(qapp, qtbot, tmp_path, music_folder,
                                                                     second_folder):
    """A catalog that knows two folders, with settings that name the one the app showed then:
    that folder stays the library; the other one is hidden, not lost."""
    from core import scanner
    from core.catalog import Catalog
    from desktop.app import build
    from desktop.settings import Settings

    data = tmp_path / "data"
    data.mkdir()
    with Catalog.open(data) as cat:
        scanner.scan(cat, music_folder)
        scanner.scan(cat, second_folder)
    old = Settings.at(data / "settings.ini")
    old.library_folder = str(second_folder)
    old.sync()

    _q, window, app = build(["--data-dir", str(data)], app=qapp)
    app.analysis.ANALYSIS_DELAY_MS = 10**9
    qtbot.addWidget(window)
    app.start()
    try:
        qtbot.waitUntil(lambda: titles(app) == SECOND and settled(app), timeout=30_000)
        assert app.library.folders.roots() == [str(second_folder)]
        assert app.catalog.track_count(include_hidden=True) == 7
    finally:
        app.shutdown()


def test_a_folder_that_cannot_be_watched_is_rescanned_and_the_status_bar_says_so_once(qapp, qtbot, tmp_path,
                                                                                      music_folder, second_folder):
    import errno

    from watchdog.observers import Observer

    from core.watcher import LibraryWatcher
    from desktop.app import build

    class LimitReachedObserver(Observer):
        def schedule(self, *args, **kwargs):
            raise OSError(errno.ENOSPC, "inotify watch limit reached")

    _q, window, app = build(["--data-dir", str(tmp_path / "data")], app=qapp)
    app.analysis.ANALYSIS_DELAY_MS = 10**9
    app.library.folders.watcher_factory = lambda on_changes, on_status: LibraryWatcher(
        on_changes, on_status, observer_factory=LimitReachedObserver, poll_interval_s=1.5)
    messages = []
    window.statusBar().messageChanged.connect(messages.append)
    qtbot.addWidget(window)
    window.show()
    app.start()
    try:
        qtbot.waitUntil(lambda: app.catalog is not None, timeout=10_000)
        window.openFolderRequested.emit(str(second_folder))
        qtbot.waitUntil(lambda: [f.state for f in app.library.folders.folders()] == ["polled"], timeout=10_000)
        shutil.copy(music_folder / "Beta" / "low.wav", second_folder / "low.wav")
        qtbot.waitUntil(lambda: "Low Hum" in titles(app), timeout=20_000)  # a periodic rescan found it
        said = [m for m in messages if "not watched for changes" in m]
        assert len(said) == 1 and "max_user_watches" in said[0] and "rescanned every 5 minutes" in said[0]
        app.show_library_folders()
        assert app.folders_dialog.page.rows()[0][1].startswith("Rescanned every 5 min")
    finally:
        app.shutdown()
