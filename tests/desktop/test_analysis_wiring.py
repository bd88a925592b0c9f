"""The library analysis service wired into the window: progress, results, priorities, pause,
and the now-playing genre chart of a track that is not analysed yet.

A fake service with the ``analysis.service.AnalysisService`` interface stands in for the real one
(whose worker processes load the model): this tests the desktop side only.
"""
import json
import threading
from types import SimpleNamespace

import numpy as np
import pytest


class FakeService:
    instances: list = []

    def __init__(self, catalog, *, on_progress=None, on_track=None, on_state=None, **kwargs):
        self.catalog, self.kwargs = catalog, kwargs
        self.on_progress, self.on_track, self.on_state = on_progress, on_track, on_state
        self.state = "new"
        self.calls: list = []
        FakeService.instances.append(self)

    def _set(self, state, reason=None):
        self.state = state
        threading.Thread(target=self.on_state, args=(state, reason)).start()  # from another thread

    def start(self):
        self._set("running")

    def enqueue(self):
        self.calls.append("enqueue")

    def prioritize(self, tid):
        self.calls.append(("prioritize", tid))

    def set_playing(self, playing):
        self.calls.append(("playing", playing))

    def set_workers(self, *, idle=None, playing=None):
        self.calls.append(("workers", idle))

    def pause(self):
        self.calls.append("pause")
        self._set("paused")

    def resume(self):
        self.calls.append("resume")
        self._set("running")

    def close(self, timeout=None):
        self.calls.append("close")


def _progress(done, total):
    return SimpleNamespace(done=done, total=total, analysed=done, failed=0, skipped=0,
                           tracks_per_minute=30.0, eta_s=120.0, workers=1, state="running")


def _track_event(tid, ok=True, top=None, conf=None, reason=None):
    return SimpleNamespace(track_id=tid, ok=ok, top_genre=top, confidence=conf, kind=None if ok else "decode_failed",
                           reason=reason, final=True)


def _app(qtbot, tmp_path, folder, **kwargs):
    from desktop.app import App
    from desktop.mainwindow import MainWindow
    from desktop.settings import Settings

    settings = Settings.at(tmp_path / "settings.ini")
    window = MainWindow(settings)
    qtbot.addWidget(window)
    window.show()
    app = App(window, settings, data_dir=tmp_path / "data", folder=str(folder), open_player=False, **kwargs)
    app.analysis.ANALYSIS_DELAY_MS = 0
    return window, app


def _store(catalog, tid, wp, classes=("blues", "jazz", "rock")):
    track = catalog.get_track(tid)
    tp = wp.mean(0)
    catalog.store_analysis(tid, {
        "fingerprint": track.fingerprint, "model_version": "fake-v1", "classes": list(classes),
        "top_genre": classes[int(tp.argmax())], "confidence": float(tp.max()), "track_probs": tp, "window_probs": wp,
        "embeddings": np.zeros((len(wp), 4), np.float16), "window_s": 1.5, "hop_s": 0.5, "duration": 2.0,
    })


@pytest.fixture
def wired(qapp, qtbot, tmp_path, monkeypatch, music_folder):
    from models import card

    model = tmp_path / "model"
    model.mkdir()
    shipped = json.loads((card.SHIPPED_DIR / card.CARD_NAME).read_text(encoding="utf-8"))
    (model / card.CARD_NAME).write_text(json.dumps({**shipped, "version": "fake-v1"}))
    monkeypatch.setenv(card.ENV_MODEL_DIR, str(model))
    FakeService.instances.clear()
    window, c = _app(qtbot, tmp_path, music_folder, analysis_factory=FakeService)
    c.start()
    qtbot.waitUntil(lambda: c.library.model.rowCount() == 4 and not c.library.scanning, timeout=30_000)
    qtbot.waitUntil(lambda: bool(FakeService.instances), timeout=5000)
    yield window, c, FakeService.instances[0]
    c.shutdown()


def test_service_is_started_and_fed(wired, qtbot):
    window, c, svc = wired
    assert svc.kwargs["workers"] == c.settings.workers
    # the first scan may finish before the service exists (the real service queues everything
    # when it starts); a scan while it runs must hand it the new tracks
    qtbot.waitUntil(lambda: not c.library.scanning, timeout=10000)
    svc.calls.clear()
    c.library.rescan()
    qtbot.waitUntil(lambda: "enqueue" in svc.calls, timeout=10000)  # after the scan
    window.worker_actions[1].trigger()
    assert ("workers", 1) in svc.calls


def test_progress_results_and_failures_reach_the_window(wired, qtbot):
    window, c, svc = wired
    threading.Thread(target=lambda: [svc.on_progress(_progress(i, 4)) for i in range(3)]).start()
    qtbot.waitUntil(lambda: window.analysis_label.text().startswith("Genres: 2 of 4"), timeout=3000)
    assert window.analysis_bar.isVisible() and window.analysis_bar.value() == 2
    assert "/min" in window.analysis_label.text() and "left" in window.analysis_label.text()

    rows = {c.library.model.row_data(r).title: c.library.model.track_id(r) for r in range(4)}
    tid = rows["Pink Noise"]
    _store(c.catalog, tid, np.array([[0.1, 0.2, 0.7], [0.3, 0.2, 0.5]], np.float32))
    c.playback.play_ids([tid])  # stored already: the chart shows it at once
    qtbot.waitUntil(lambda: window.genre_chart.has_data, timeout=5000)
    threading.Thread(target=svc.on_track, args=(_track_event(tid, top="rock", conf=0.6),)).start()
    qtbot.waitUntil(lambda: c.library.model.by_id(tid).predicted == "rock", timeout=3000)
    qtbot.waitUntil(lambda: window.genre_chart.has_data, timeout=5000)
    combo = [window.genre_combo.itemText(i) for i in range(window.genre_combo.count())]
    assert "rock" in combo

    bad = rows["Low Hum"]
    threading.Thread(target=svc.on_track, args=(_track_event(bad, ok=False, reason="decode failed: bad frame"),)).start()
    qtbot.waitUntil(lambda: any("genre analysis" in r for _p, r in window.failures.failures()), timeout=3000)

    svc._set("idle")
    qtbot.waitUntil(lambda: not window.analysis_bar.isVisible(), timeout=3000)


def test_pause_and_resume_from_the_status_bar(wired, qtbot):
    window, c, svc = wired
    window.set_analysis_progress("Genres: 0 of 4", 0, 4)
    window.analysis_pause_button.click()
    qtbot.waitUntil(lambda: "pause" in svc.calls, timeout=2000)
    qtbot.waitUntil(lambda: window.analysis_label.text() == "Genre analysis paused", timeout=2000)
    window.analysis_pause_button.click()
    qtbot.waitUntil(lambda: "resume" in svc.calls, timeout=2000)
    assert not window.analysis_pause_button.isChecked()


def test_unavailable_service_says_why(wired, qtbot):
    window, c, svc = wired
    svc._set("unavailable", "the model's card does not match the front end")
    qtbot.waitUntil(lambda: "analysis" in window.notices(), timeout=3000)
    assert "does not match" in window.notices()["analysis"]


def test_menu_pause_and_retry(wired, qtbot):
    window, c, svc = wired
    window.pause_analysis_action.trigger()
    qtbot.waitUntil(lambda: "pause" in svc.calls, timeout=2000)
    assert window.analysis_pause_button.isChecked()
    window.pause_analysis_action.trigger()
    qtbot.waitUntil(lambda: "resume" in svc.calls, timeout=2000)
    n = svc.calls.count("enqueue")
    window.retry_analysis_action.trigger()
    qtbot.waitUntil(lambda: svc.calls.count("enqueue") > n, timeout=3000)


def test_an_unanalysed_playing_track_jumps_the_queue_and_its_chart_fills_in(wired, qtbot):
    window, c, svc = wired
    tid = next(c.library.model.track_id(r) for r in range(4) if c.library.model.row_data(r).title == "Low Hum")
    c.playback.play_ids([tid])
    qtbot.waitUntil(lambda: ("prioritize", tid) in svc.calls, timeout=5000)
    assert not window.genre_chart.has_data and "Not analysed yet" in window.genre_chart.placeholder.text()
    wp = np.array([[0.7, 0.2, 0.1], [0.6, 0.3, 0.1]], np.float32)
    _store(c.catalog, tid, wp)  # what the service's worker writes, then reports
    threading.Thread(target=svc.on_track, args=(_track_event(tid, top="blues", conf=0.65),)).start()
    qtbot.waitUntil(lambda: window.genre_chart.has_data, timeout=5000)
    np.testing.assert_allclose(window.genre_chart.track_values(), wp.mean(0), rtol=1e-6)
    assert c.library.model.by_id(tid).predicted == "blues"


def test_a_failed_analysis_of_the_playing_track_says_why(wired, qtbot):
    window, c, svc = wired
    tid = c.library.model.track_id(0)
    c.playback.play_ids([tid])
    qtbot.waitUntil(lambda: ("prioritize", tid) in svc.calls, timeout=5000)
    threading.Thread(target=svc.on_track, args=(_track_event(tid, ok=False, reason="decode failed: bad frame"),)).start()
    qtbot.waitUntil(lambda: "bad frame" in window.genre_chart.placeholder.text(), timeout=5000)
    assert "Could not tag" in window.genre_chart.placeholder.text()


def test_without_a_model_the_app_plays_and_says_why_it_cannot_tag(qapp, qtbot, tmp_path, monkeypatch, music_folder):
    from models import card

    empty = tmp_path / "no-model"
    empty.mkdir()
    monkeypatch.setenv(card.ENV_MODEL_DIR, str(empty))
    FakeService.instances.clear()
    window, c = _app(qtbot, tmp_path, music_folder, analysis_factory=FakeService)
    c.start()
    qtbot.waitUntil(lambda: c.library.model.rowCount() == 4 and not c.library.scanning, timeout=30_000)
    qtbot.waitUntil(lambda: "model" in window.notices(), timeout=5000)
    assert "No genre model" in window.notices()["model"]
    c.playback.play_ids([c.library.model.track_id(0)])
    qtbot.waitUntil(lambda: "no genre model" in window.genre_chart.placeholder.text(), timeout=5000)
    assert window.genre_chart.placeholder.text().startswith("Not analysed yet, and")
    assert FakeService.instances == []  # no service without a model
    c.shutdown()
