import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication, QDockWidget

from desktop.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def _activate(qtbot, w):
    w.activateWindow()
    w.raise_()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=2000)


def test_window_opens_with_all_its_parts(window):
    assert window.isVisible()
    assert window.library_stack.currentWidget() is window.empty_library  # no library yet
    docks = {d.objectName() for d in window.findChildren(QDockWidget)}
    assert {"queueDock", "recommendationsDock", "failuresDock", "nowPlayingDock"} <= docks
    assert "recommend" in window.recommendations.message.text()
    menus = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert menus[:4] == ["File", "Edit", "Playback", "View"]
    assert window.count_label.text() == "No library"


def test_ctrl_f_focuses_the_filter(window, qtbot):
    _activate(qtbot, window)
    window.library_view.setFocus()
    qtbot.keyClick(window.library_view, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.filter_edit.hasFocus(), timeout=1000)
    with qtbot.waitSignal(window.filterTextChanged, timeout=1000) as sig:
        qtbot.keyClicks(window.filter_edit, "jazz")
    assert sig.args == ["jazz"]


def test_space_plays_and_arrows_seek(window, qtbot):
    _activate(qtbot, window)
    window.library_view.setFocus()
    with qtbot.waitSignal(window.transport.playPauseClicked, timeout=1000):
        qtbot.keyClick(window.library_view, Qt.Key.Key_Space)
    window.set_now_playing("Song", "Artist", "Album")
    window.transport.set_duration(100.0)
    window.transport.set_position(50.0)
    with qtbot.waitSignal(window.seekRequested, timeout=1000) as sig:
        qtbot.keyClick(window.library_view, Qt.Key.Key_Right)
    assert sig.args == [pytest.approx(55.0)]
    with qtbot.waitSignal(window.seekRequested, timeout=1000) as sig:
        qtbot.keyClick(window.library_view, Qt.Key.Key_Left)
    assert sig.args == [pytest.approx(45.0)]
    with qtbot.waitSignal(window.transport.nextClicked, timeout=1000):
        qtbot.keyClick(window.library_view, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    with qtbot.waitSignal(window.transport.previousClicked, timeout=1000):
        qtbot.keyClick(window.library_view, Qt.Key.Key_Left, Qt.KeyboardModifier.ControlModifier)
    window.transport.set_volume(50)
    qtbot.keyClick(window.library_view, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier)
    assert window.transport.volume() == 55
    qtbot.keyClick(window.library_view, Qt.Key.Key_Down, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(window.library_view, Qt.Key.Key_Down, Qt.KeyboardModifier.ControlModifier)
    assert window.transport.volume() == 45


def test_space_in_the_filter_box_types_a_space(window, qtbot):
    _activate(qtbot, window)
    window.filter_edit.setFocus()
    with qtbot.assertNotEmitted(window.transport.playPauseClicked):
        qtbot.keyClicks(window.filter_edit, "a b")
    assert window.filter_edit.text() == "a b"


def test_spectrogram_click_and_slider_seek_reach_the_window_signal(window, qtbot):
    with qtbot.waitSignal(window.seekRequested, timeout=500) as sig:
        window.spectrogram.seekRequested.emit(12.0)
    assert sig.args == [12.0]
    with qtbot.waitSignal(window.seekRequested, timeout=500):
        window.genre_chart.seekRequested.emit(3.0)


def test_like_shortcut_toggles_the_rating(window, qtbot):
    window.set_now_playing("Song")
    with qtbot.waitSignal(window.transport.ratingChanged, timeout=500) as sig:
        window.like_action.trigger()
    assert sig.args == [1]
    with qtbot.waitSignal(window.transport.ratingChanged, timeout=500) as sig:
        window.like_action.trigger()
    assert sig.args == [0]


def test_open_folder_dialog(window, qtbot, monkeypatch, tmp_path):
    from PySide6.QtWidgets import QFileDialog

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(tmp_path))
    with qtbot.waitSignal(window.openFolderRequested, timeout=500) as sig:
        window.open_action.trigger()
    assert sig.args == [str(tmp_path)]


def test_dropping_a_folder_opens_it(window, qtbot, tmp_path):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path))])
    ev = QDropEvent(QPointF(100, 100), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.openFolderRequested, timeout=500) as sig:
        window.dropEvent(ev)
    assert sig.args == [str(tmp_path)]
    file_mime = QMimeData()
    (tmp_path / "a.txt").write_text("x")
    file_mime.setUrls([QUrl.fromLocalFile(str(tmp_path / "a.txt"))])
    assert window._dropped_folder(file_mime) is None


def test_notices_banner_and_status(window):
    window.set_notice("player", "No audio output device: Melograph can browse and analyse, but not play.")
    window.set_notice("model", "No genre model found: tracks play but are not tagged.")
    assert window.banner.isVisible()
    assert "audio" in window.banner.text() and "model" in window.banner.text()
    window.set_notice("player", None)
    assert "audio" not in window.banner.text()
    window.set_notice("model", None)
    assert not window.banner.isVisible()


def test_progress_failures_and_counts(window):
    window.set_progress("Scanning", 3, 10)
    assert window.progress_bar.isVisible() and window.progress_bar.value() == 3
    window.finish_progress("Scan done")
    assert not window.progress_bar.isVisible()
    window.failures.add_failures([("/m/a.mp3", "decode failed"), ("/m/b.mp3", "not audio")])
    window.failures.add_failures([("/m/a.mp3", "decode failed again")])
    assert window.failures.failures() == [("/m/a.mp3", "decode failed again"), ("/m/b.mp3", "not audio")]
    assert window.failures_dock.windowTitle() == "Failed files (2)"
    window.set_track_count(5, 20)
    assert window.count_label.text() == "5 of 20 tracks"
    window.set_track_count(20000)
    assert window.count_label.text() == "20,000 tracks"


def test_genre_filter_combo(window, qtbot):
    window.set_genres(["jazz", "rock"])
    with qtbot.waitSignal(window.genreFilterChanged, timeout=500) as sig:
        window.genre_combo.setCurrentIndex(2)
    assert sig.args == ["rock"]
    window.set_genres(["blues", "rock"])  # keeps the choice
    assert window.genre_combo.currentData() == "rock"


def test_settings_round_trip(qapp, qtbot, tmp_path):
    from desktop.app import build

    data = str(tmp_path / "data")
    _qapp, w, app = build(["--data-dir", data], app=qapp)
    qtbot.addWidget(w)
    w.show()
    w.resize(711, 533)
    w.failures_dock.hide()
    w.transport.set_volume(33)
    w.worker_actions[1].trigger()
    app.settings.library_folder = str(tmp_path)
    w.close()
    app.shutdown()

    s2 = Settings.at(tmp_path / "data" / "settings.ini")
    assert s2.volume == 33 and s2.workers == 1 and s2.library_folder == str(tmp_path)
    assert s2.geometry is not None and s2.window_state is not None
    _qapp, w2, app2 = build(["--data-dir", data], app=qapp)
    qtbot.addWidget(w2)
    w2.show()
    assert w2.transport.volume() == 33
    assert (w2.size().width(), w2.size().height()) == (711, 533)
    assert not w2.failures_dock.isVisible()
    assert w2.worker_actions[1].isChecked()
    app2.shutdown()


def test_settings_survive_garbage(tmp_path):
    p = tmp_path / "s.ini"
    p.write_text("[player]\nvolume=loud\n[analysis]\nworkers=-4\n")
    s = Settings.at(p)
    assert s.volume == 80 and s.workers == 1


def test_app_builds_and_says_what_is_missing(qapp, qtbot, tmp_path):
    from desktop.app import build

    _qapp, window, app = build(["--data-dir", str(tmp_path)], app=qapp)
    qtbot.addWidget(window)
    window.show()
    app.start()
    # whatever core parts exist, the window is up and any missing part is a sentence, not a crash
    for text in window.notices().values():
        assert text.endswith(")") or text.endswith(".")
    app.shutdown()


def test_folder_and_data_dir_in_either_order():
    from desktop.app import parse_args

    for argv in (["/music", "--data-dir", "/d"], ["--data-dir", "/d", "/music"]):
        args = parse_args(argv)
        assert (args.folder, args.data_dir) == ("/music", "/d")


def test_start_imports_no_tensorflow_or_librosa(tmp_path):
    code = (
        "import os, sys; os.environ['QT_QPA_PLATFORM']='offscreen';"
        "from desktop.app import build; app, w, c = build(['--data-dir', sys.argv[1]], lazy_charts=True); w.show();"
        "early = [m for m in ('pyqtgraph', 'numpy') if m in sys.modules];"
        "c.start(); w.build_charts();"
        "heavy = [m for m in ('tensorflow', 'librosa', 'keras', 'sklearn') if m in sys.modules]; print(early + heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"
