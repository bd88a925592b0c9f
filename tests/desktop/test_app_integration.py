"""The real main window, driven end to end: open a folder, rows appear, like, filter, play."""
import pytest
from PySide6.QtCore import Qt


@pytest.fixture
def app_parts(make_app):
    return make_app(start=False)


def _row_of(model, title):
    return next(r for r in range(model.rowCount()) if model.row_data(r).title == title)


def _action(menu, name):
    return next(a for a in menu.actions() if a.objectName() == name)


def test_open_folder_like_and_filter(app_parts, qtbot, music_folder):
    window, c = app_parts
    c.start()
    qtbot.waitUntil(lambda: c.catalog is not None, timeout=10_000)
    window.openFolderRequested.emit(str(music_folder))
    qtbot.waitUntil(lambda: c.library.model.rowCount() == 4 and not c.library.scanning, timeout=30_000)
    assert window.library_stack.currentWidget() is window.library_view
    assert window.count_label.text() == "4 tracks"
    assert {c.library.model.row_data(r).title for r in range(4)} == {"Morning Tone", "Evening Tone", "Pink Noise", "Low Hum"}
    # the broken file is listed with its reason
    qtbot.waitUntil(lambda: window.failures.count() == 1, timeout=5000)
    path, reason = window.failures.failures()[0]
    assert path.endswith("notes.mp3") and reason
    assert c.settings.library_folder == str(music_folder)

    # like from the context menu: shown at once, stored in the catalog
    tid = c.library.model.track_id(_row_of(c.library.model, "Pink Noise"))
    _action(c.library.build_context_menu([tid]), "ctxLike").trigger()
    assert c.library.model.by_id(tid).rating == 1
    qtbot.waitUntil(lambda: c.catalog.rating(tid) == 1, timeout=5000)
    _action(c.library.build_context_menu([tid]), "ctxDislike").trigger()
    qtbot.waitUntil(lambda: c.catalog.rating(tid) == -1, timeout=5000)

    # text filter (debounced), then the genre filter
    window.filter_edit.setText("tone")
    qtbot.waitUntil(lambda: c.library.model.rowCount() == 2, timeout=3000)
    assert window.count_label.text() == "2 of 4 tracks"
    window.filter_edit.clear()
    qtbot.waitUntil(lambda: c.library.model.rowCount() == 4, timeout=3000)
    genres = [window.genre_combo.itemText(i) for i in range(window.genre_combo.count())]
    assert "Rock" in genres and "Jazz" in genres
    window.genre_combo.setCurrentIndex(genres.index("Rock"))
    assert {c.library.model.row_data(r).title for r in range(c.library.model.rowCount())} == {"Pink Noise", "Low Hum"}


def test_reopening_shows_the_library_at_once_and_keeps_likes(qapp, qtbot, tmp_path, music_folder):
    from desktop.app import build

    data = str(tmp_path / "data")
    _a, w1, c1 = build(["--data-dir", data, str(music_folder)], app=qapp)
    qtbot.addWidget(w1)
    c1.start()
    qtbot.waitUntil(lambda: c1.library.model.rowCount() == 4 and not c1.library.scanning, timeout=30_000)
    tid = c1.library.model.track_id(_row_of(c1.library.model, "Low Hum"))
    c1.library.rate([tid], 1)
    qtbot.waitUntil(lambda: c1.catalog.rating(tid) == 1, timeout=5000)
    w1.close()
    c1.shutdown()

    _a, w2, c2 = build(["--data-dir", data], app=qapp)  # no folder: the last library
    qtbot.addWidget(w2)
    c2.start()
    qtbot.waitUntil(lambda: c2.library.model.rowCount() == 4, timeout=10_000)
    assert c2.library.model.by_id(tid).rating == 1
    qtbot.waitUntil(lambda: not c2.library.scanning, timeout=30_000)
    c2.shutdown()


def test_play_a_track_on_the_fake_device(app_parts, qtbot, tmp_path, music_folder):
    """ALSA's null PCM does not pace in real time (it plays as fast as the callback returns), so the
    player's test tap sleeps for each block's duration: a device that runs at real time."""
    import time

    from core.playback import Player
    from tests import media

    window, c = app_parts
    holder = {}

    def pace(block):
        sr = holder["p"].stream_rate or 44100
        time.sleep(len(block) / sr)

    holder["p"] = c.player = Player(tap=pace)
    folder = tmp_path / "long"
    media.make(folder / "long.flac", seconds=240, kind="tone", freq=330.0, sr=22050, channels=1,
               tags=dict(title="Long Tone", artist="Gamma"))
    c.start()
    qtbot.waitUntil(lambda: c.catalog is not None and c.player is not None, timeout=15_000)
    if not c.player.available:
        pytest.skip(f"no output device, not even the null one: {c.player.unavailable_reason}")
    window.openFolderRequested.emit(str(folder))
    qtbot.waitUntil(lambda: c.library.model.rowCount() == 1 and not c.library.scanning, timeout=30_000)

    seen = []
    original = c.now_playing.show_position
    c.now_playing.show_position = lambda s: (seen.append(s), original(s))[1]
    index = c.library.model.index(0, 0)
    rect = window.library_view.visualRect(index)
    qtbot.mouseClick(window.library_view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(window.library_view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: c.playback.current is not None and c.playback.current.title == "Long Tone", timeout=5000)
    assert window.title_label.text() == "Long Tone"
    assert c.library.model.index(0, 0).data(Qt.ItemDataRole.FontRole).bold()  # the playing row stands out
    qtbot.waitUntil(lambda: c.playback.state == "playing", timeout=5000)
    qtbot.waitUntil(lambda: any(0.2 < s < 100 for s in seen), timeout=10_000)  # it moves on its own
    assert window.transport.position() > 0.0
    qtbot.waitUntil(lambda: window.spectrogram.has_image, timeout=15_000)
    assert window.spectrogram.duration == pytest.approx(240.0, abs=1.0)
    # click the spectrogram at 3:20: the player seeks there and the playhead goes on from there
    spec = window.spectrogram
    qtbot.mouseClick(spec.plot_widget.viewport(), Qt.MouseButton.LeftButton, pos=spec.widget_pos_for(200.0))
    qtbot.waitUntil(lambda: any(s > 200.3 for s in seen), timeout=10_000)
    assert 199.0 < window.spectrogram.position() < 230.0
    assert window.transport.total_label.text() == "4:00"


def test_no_audio_device_is_a_message_not_a_crash(app_parts, qtbot, music_folder):
    from core.playback import Player

    window, c = app_parts
    c.player = Player(device="no such device, surely")
    c.start()
    assert not c.player.available
    qtbot.waitUntil(lambda: "player" in window.notices(), timeout=5000)
    assert "No sound" in window.notices()["player"] and window.banner.isVisible()
    qtbot.waitUntil(lambda: c.catalog is not None, timeout=10_000)
    window.openFolderRequested.emit(str(music_folder))
    qtbot.waitUntil(lambda: c.library.model.rowCount() == 4 and not c.library.scanning, timeout=30_000)
    window.activateWindow()
    window.library_view.setFocus()
    window.library_view.setCurrentIndex(c.library.model.index(0, 0))
    qtbot.keyClick(window.library_view, Qt.Key.Key_Return)  # Return plays the row (here: shows it)
    assert window.title_label.text() == c.library.model.row_data(0).title
    qtbot.waitUntil(lambda: window.spectrogram.has_image, timeout=15_000)
    # like it from now playing: the table and the catalog follow
    tid = c.playback.current.id
    qtbot.mouseClick(window.transport.like_button, Qt.MouseButton.LeftButton)
    assert c.library.model.by_id(tid).rating == 1
    qtbot.waitUntil(lambda: c.catalog.rating(tid) == 1, timeout=5000)
    c.playback.play_pause()  # says why instead of failing
    assert "sound" in window.statusBar().currentMessage().lower() or "play" in window.statusBar().currentMessage().lower()


def test_stored_analysis_fills_the_genre_chart_and_the_table(app_parts, qtbot, music_folder):
    """When the library analysis has stored a track's result, now playing shows it at once."""
    import numpy as np

    window, c = app_parts
    c.start()
    qtbot.waitUntil(lambda: c.catalog is not None, timeout=10_000)
    window.openFolderRequested.emit(str(music_folder))
    qtbot.waitUntil(lambda: c.library.model.rowCount() == 4 and not c.library.scanning, timeout=30_000)
    tid = c.library.model.track_id(_row_of(c.library.model, "Pink Noise"))
    track = c.catalog.get_track(tid)
    classes = ["blues", "jazz", "rock"]
    wp = np.array([[0.1, 0.2, 0.7], [0.2, 0.2, 0.6]], np.float32)
    c.catalog.store_analysis(tid, {
        "fingerprint": track.fingerprint, "model_version": "test-v1", "classes": classes, "top_genre": "rock",
        "confidence": 0.65, "track_probs": wp.mean(0), "window_probs": wp,
        "embeddings": np.zeros((2, 4), np.float16), "window_s": 1.5, "hop_s": 0.5, "duration": 2.0,
    })
    c.library.reload_rows()
    qtbot.waitUntil(lambda: c.library.model.by_id(tid).predicted == "rock", timeout=5000)
    c.playback.play_ids([tid])
    qtbot.waitUntil(lambda: window.genre_chart.has_data, timeout=10_000)
    np.testing.assert_allclose(window.genre_chart.track_values(), wp.mean(0), rtol=1e-6)
    assert window.genre_chart.bar_axis.names == classes


def test_recommendations_follow_the_likes(app_parts, qtbot, music_folder):
    import numpy as np

    window, c = app_parts
    c.start()
    qtbot.waitUntil(lambda: c.catalog is not None, timeout=10_000)
    window.openFolderRequested.emit(str(music_folder))
    qtbot.waitUntil(lambda: c.library.model.rowCount() == 4 and not c.library.scanning, timeout=30_000)
    # before any like, the panel says what to do
    qtbot.waitUntil(lambda: "like" in window.recommendations.message.text().lower(), timeout=10_000)
    rng = np.random.default_rng(0)
    classes = ["blues", "jazz", "rock"]
    ids = [c.library.model.track_id(r) for r in range(4)]
    for i, tid in enumerate(ids):
        t = c.catalog.get_track(tid)
        wp = rng.dirichlet(np.ones(3), 6).astype(np.float32)
        emb = (rng.normal(size=(6, 16)) + (3.0 if i < 2 else -3.0)).astype(np.float16)  # two clusters
        c.catalog.store_analysis(tid, {
            "fingerprint": t.fingerprint, "model_version": "test-v1", "classes": classes,
            "top_genre": classes[int(wp.mean(0).argmax())], "confidence": float(wp.mean(0).max()),
            "track_probs": wp.mean(0), "window_probs": wp, "embeddings": emb, "window_s": 1.0, "hop_s": 0.5,
            "duration": 2.0,
        })
    c.library.rate([ids[0]], 1)
    qtbot.waitUntil(lambda: window.recommendations.list.count() > 0, timeout=30_000)
    keys = window.recommendations.keys()
    assert ids[0] not in keys and keys[0] == ids[1]  # the same cluster ranks first
    first = window.recommendations.texts()[0]
    assert c.library.model.by_id(ids[1]).title in first and "like" in first
    assert window.recommendations.play_button.isEnabled()


def test_queue_from_the_context_menu(app_parts, qtbot, music_folder, monkeypatch):
    import time

    from core.playback import Player
    from PySide6.QtGui import QDesktopServices

    window, c = app_parts
    holder = {}
    holder["p"] = c.player = Player(tap=lambda b: time.sleep(len(b) / (holder["p"].stream_rate or 44100)))
    c.start()
    qtbot.waitUntil(lambda: c.catalog is not None, timeout=10_000)
    if not c.player.available:
        pytest.skip(f"no output device: {c.player.unavailable_reason}")
    window.openFolderRequested.emit(str(music_folder))
    qtbot.waitUntil(lambda: c.library.model.rowCount() == 4 and not c.library.scanning, timeout=30_000)
    ids = {c.library.model.row_data(r).title: c.library.model.track_id(r) for r in range(4)}
    c.player.pause()  # keep the queue still while we look at it
    _action(c.library.build_context_menu([ids["Low Hum"]]), "ctxEnqueue").trigger()
    _action(c.library.build_context_menu([ids["Pink Noise"]]), "ctxPlayNext").trigger()
    qtbot.waitUntil(lambda: window.queue_panel.list.count() == 2, timeout=5000)
    assert [k.title for k in window.queue_panel.keys()] == ["Pink Noise", "Low Hum"]
    window.queue_panel.clearRequested.emit()
    qtbot.waitUntil(lambda: window.queue_panel.list.count() == 0, timeout=5000)
    # show in folder asks the desktop to open the file's folder
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()) or True)
    _action(c.library.build_context_menu([ids["Low Hum"]]), "ctxShow").trigger()
    assert opened == [str(music_folder / "Beta")]


def test_a_rescan_that_changes_nothing_leaves_the_table_alone(app_parts, qtbot, music_folder):
    """Reloading rows the table already shows would reset the model (a full repaint, the
    selection rebuilt) for nothing; a real change still comes through."""
    from tests import media

    window, c = app_parts
    c.start()
    qtbot.waitUntil(lambda: c.catalog is not None, timeout=10_000)
    window.openFolderRequested.emit(str(music_folder))
    qtbot.waitUntil(lambda: c.library.model.rowCount() == 4 and not c.library.scanning, timeout=30_000)
    qtbot.wait(300)
    resets = []
    c.library.model.modelReset.connect(lambda: resets.append(1))
    c.library.rescan()
    qtbot.waitUntil(lambda: not c.library.scanning, timeout=30_000)
    c.library.reload_rows()
    qtbot.waitUntil(lambda: c.reader.active == 0, timeout=10_000)
    qtbot.wait(200)
    assert resets == [] and c.library.model.rowCount() == 4
    media.make(music_folder / "Beta" / "extra.wav", seconds=1, kind="tone", freq=220.0, tags=dict(title="Extra"))
    try:
        c.library.rescan()
        qtbot.waitUntil(lambda: c.library.model.rowCount() == 5, timeout=30_000)
        assert resets
    finally:
        (music_folder / "Beta" / "extra.wav").unlink()


def test_the_queue_comes_back_after_a_restart(qapp, qtbot, tmp_path, music_folder):
    from desktop.app import build

    data = str(tmp_path / "data")
    _a, w1, c1 = build(["--data-dir", data, str(music_folder)], app=qapp)
    qtbot.addWidget(w1)
    c1.start()
    qtbot.waitUntil(lambda: c1.library.model.rowCount() == 4 and not c1.library.scanning and c1.player is not None, timeout=30_000)
    if not c1.player.available:
        pytest.skip(f"no output device, not even the null one: {c1.player.unavailable_reason}")
    ids = [c1.library.model.track_id(_row_of(c1.library.model, t)) for t in ("Low Hum", "Morning Tone")]
    c1.playback.enqueue(ids)
    qtbot.waitUntil(lambda: c1.settings.queue_ids == ids, timeout=5000)
    assert w1.queue_panel.list.count() == 2
    c1.settings.sync()
    w1.close()
    c1.shutdown()

    _a, w2, c2 = build(["--data-dir", data], app=qapp)
    qtbot.addWidget(w2)
    c2.start()
    qtbot.waitUntil(lambda: c2.player is not None and [getattr(t, "id", None) for t in c2.player.queue] == ids,
                    timeout=15_000)
    qtbot.waitUntil(lambda: w2.queue_panel.list.count() == 2, timeout=5000)
    # emptied here: empty at the next start too
    c2.playback.clear_queue()
    qtbot.waitUntil(lambda: c2.settings.queue_ids == [], timeout=5000)
    qtbot.waitUntil(lambda: not c2.library.scanning, timeout=30_000)
    c2.shutdown()
