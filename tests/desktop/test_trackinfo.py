"""The track-info dialog: every tag, the file, the stream, the predicted genres and their model,
the cover; opened from the table's context menu and with Ctrl+I."""
from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from tests import media
from tests.desktop.test_covers import BLUE, jpeg, near


def tagged_mp3(path):
    from mutagen.id3 import APIC, COMM, ID3, TXXX

    media.make(path, seconds=1.0, tags=dict(title="Blue Song", artist="Cobalt", album="Hues", genre="Jazz"))
    tags = ID3(path)
    tags.add(APIC(encoding=3, mime="image/jpeg", type=3, desc="front", data=jpeg(BLUE, 300, 200)))
    tags.add(TXXX(encoding=3, desc="MOOD", text=["calm"]))
    tags.add(COMM(encoding=3, lang="eng", desc="", text="recorded at home"))
    tags.save()
    return path


def analysis_of(version: str, classes=("blues", "jazz", "rock")):
    from core.catalog.analysis import AnalysisResult

    probs = np.array([0.15, 0.7, 0.15][: len(classes)], np.float32)
    return AnalysisResult(fingerprint="f", model_version=version, classes=list(classes), top_genre="jazz",
                          confidence=0.7, track_probs=probs, window_probs=probs[None], embeddings=None, window_s=3.0,
                          hop_s=3.0, n_windows=1, duration=1.0, note=None, computed_at=time.time())


def row_for(path, title="Blue Song", artist="Cobalt", album="Hues"):
    from desktop.librarymodel import Row

    return Row(id=1, path=str(path), title=title, artist=artist, album=album, duration=1.0, genre_tag="Jazz")


def open_dialog(qtbot, row, analysis, **kw):
    from desktop.trackinfo import TrackInfoDialog

    dialog = TrackInfoDialog(row, analysis, None, **kw)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.is_loaded, timeout=10_000)
    return dialog


def test_the_dialog_shows_the_file_the_stream_every_tag_and_the_cover(qapp, qtbot, tmp_path, ffmpeg):
    path = tagged_mp3(tmp_path / "blue.mp3")
    d = open_dialog(qtbot, row_for(path), analysis_of("some-older-model"))
    assert d.field("Path") == str(path)
    assert f"({path.stat().st_size:,} bytes)" in d.field("Size")
    assert d.field("Modified") == time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(path.stat().st_mtime))
    assert d.field("Codec") == "mp3" and d.field("Sample rate") == "44,100 Hz"
    assert d.field("Channels") == "2 (stereo)" and d.field("Duration") == "0:01"
    assert d.field("Bit rate").endswith("kbit/s")
    tags = dict(d.tag_rows())
    assert tags["Title"] == "Blue Song" and tags["Artist"] == "Cobalt" and tags["Album"] == "Hues"
    assert tags["Genre"] == "Jazz" and tags["MOOD"] == "calm" and tags["Comment"] == "recorded at home"
    assert tags["Picture"].startswith("image/jpeg, 300 × 200,") and "front cover" in tags["Picture"]
    assert "Encoder settings" in tags  # ffmpeg's own tag: every tag is listed, not a chosen few
    # the genres, most probable first, and the model that made them
    assert d.field("Genres").splitlines() == ["jazz  70%", "blues  15%", "rock  15%"]
    assert d.field("Model").startswith("some-older-model (an earlier model")
    assert d.field("ReplayGain").startswith("none yet")
    assert d.has_cover
    shown = d.cover_label.pixmap().toImage()
    assert near(shown.pixelColor(shown.width() // 2, shown.height() // 2), BLUE)


def test_the_installed_model_is_described_from_its_card(qapp, qtbot, tmp_path, ffmpeg):
    from models import card

    c = card.read_card()
    path = media.make(tmp_path / "plain.ogg", seconds=1.0, tags=dict(title="Plain"))
    d = open_dialog(qtbot, row_for(path, title="Plain", artist="", album=""), analysis_of(c["version"], c["classes"][:3]))
    assert d.field("Model").startswith(c["version"])
    assert f"validation accuracy {c['metrics']['valid']['accuracy']:.1%}" in d.field("Model")
    assert not d.has_cover  # no picture: the placeholder
    assert d.field("Codec") == "vorbis" and d.field("Channels") == "2 (stereo)"


def test_a_track_not_analysed_and_a_file_that_is_not_audio(qapp, qtbot, tmp_path):
    path = media.make_text_as(tmp_path / "fake.mp3")
    d = open_dialog(qtbot, row_for(path, title="fake"), None)
    assert d.field("Genres") == "Not analysed yet."
    assert "not audio" in d.field("Problems")
    assert d.tag_rows() == [] and d.field("Codec") == "—"


def _app(qtbot, tmp_path, folder):
    from desktop.app import App
    from desktop.mainwindow import MainWindow
    from desktop.settings import Settings

    settings = Settings.at(tmp_path / "settings.ini")
    window = MainWindow(settings)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window, App(window, settings, data_dir=tmp_path / "data", folder=str(folder), open_player=False)


def test_opened_from_the_context_menu_and_with_ctrl_i(qapp, qtbot, tmp_path, ffmpeg):
    folder = tmp_path / "music"
    tagged_mp3(folder / "blue.mp3")
    media.make(folder / "other.flac", seconds=1.0, tags=dict(title="Other", artist="Zinc"))
    window, c = _app(qtbot, tmp_path, folder)
    try:
        c.start()
        qtbot.waitUntil(lambda: c.library.model.rowCount() == 2 and not c.library.scanning, timeout=30_000)
        model = c.library.model
        ids = {model.row_data(r).title: model.track_id(r) for r in range(2)}
        track = c.catalog.get_track(ids["Blue Song"])
        c.catalog.store_analysis(ids["Blue Song"], {
            "fingerprint": track.fingerprint, "model_version": "fake-v1", "classes": ["blues", "jazz"],
            "top_genre": "jazz", "confidence": 0.8, "track_probs": np.array([0.2, 0.8], np.float32),
            "window_probs": np.array([[0.2, 0.8]], np.float32), "embeddings": np.zeros((1, 4), np.float16),
            "window_s": 3.0, "hop_s": 3.0, "duration": 1.0})

        menu = c.library.build_context_menu([ids["Blue Song"]])
        next(a for a in menu.actions() if a.objectName() == "ctxTrackInfo").trigger()
        qtbot.waitUntil(lambda: c.library.track_info is not None and c.library.track_info.is_loaded, timeout=10_000)
        d = c.library.track_info
        assert d.isVisible() and d.row.title == "Blue Song"
        assert d.field("Genres").splitlines() == ["jazz  80%", "blues  20%"]  # from the catalog
        assert d.has_cover
        d.close()

        # Ctrl+I on the selection
        view = window.library_view
        row = next(r for r in range(2) if model.row_data(r).title == "Other")
        window.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=3000)
        view.setFocus()
        view.selectRow(row)
        qtbot.keyClick(view, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: c.library.track_info is not d and c.library.track_info is not None
                        and c.library.track_info.is_loaded, timeout=10_000)
        other = c.library.track_info
        assert other.row.title == "Other" and other.field("Codec") == "flac"
        assert other.field("Genres") == "Not analysed yet."
        other.close()
    finally:
        c.shutdown()


def test_the_replaygain_the_player_levels_by_is_shown(qapp, qtbot, tmp_path, ffmpeg):
    import dataclasses

    path = tagged_mp3(tmp_path / "blue.mp3")
    row = dataclasses.replace(row_for(path), rg_track_gain=-7.89, rg_track_peak=0.988831, rg_album_gain=1.5)
    d = open_dialog(qtbot, row, None)
    assert d.field("ReplayGain") == "track −7.89 dB (peak 0.989), album +1.50 dB"
    measured = dataclasses.replace(row_for(path), measured_track_gain=-4.2, measured_album_gain=-3.1)
    d2 = open_dialog(qtbot, measured, None)
    assert d2.field("ReplayGain") == "no tags; measured: track −4.20 dB, album −3.10 dB"
