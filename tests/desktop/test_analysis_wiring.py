"""The library analysis service wired into the window: progress, results, priorities, pause.

A fake service with the ``analysis.service.AnalysisService`` interface stands in for the real one
(whose worker processes load TensorFlow): this tests the desktop side only.
"""
import threading
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("core.catalog")


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


@pytest.fixture
def wired(qapp, qtbot, tmp_path, monkeypatch, music_folder):
    from desktop.analysis import ENV_MODEL_DIR
    from desktop.controller import AppController
    from desktop.mainwindow import MainWindow
    from desktop.settings import Settings

    model = tmp_path / "model"
    model.mkdir()
    (model / "card.json").write_text('{"version": "fake-v1"}')
    monkeypatch.setenv(ENV_MODEL_DIR, str(model))
    FakeService.instances.clear()
    settings = Settings.at(tmp_path / "settings.ini")
    window = MainWindow(settings)
    qtbot.addWidget(window)
    window.show()
    c = AppController(window, settings, data_dir=tmp_path / "data", folder=str(music_folder),
                      open_player=False, analysis_factory=FakeService)
    c.ANALYSIS_DELAY_MS = 0
    c.start()
    qtbot.waitUntil(lambda: c.model.rowCount() == 4 and not c.scanning, timeout=30_000)
    qtbot.waitUntil(lambda: bool(FakeService.instances), timeout=5000)
    yield window, c, FakeService.instances[0]
    c.shutdown()


def test_service_is_started_and_fed(wired, qtbot):
    window, c, svc = wired
    assert svc.kwargs["workers"] == c.settings.workers
    # the first scan may finish before the service exists (the real service queues everything
    # when it starts); a scan while it runs must hand it the new tracks
    qtbot.waitUntil(lambda: not c.scanning, timeout=10000)
    svc.calls.clear()
    c.rescan()
    qtbot.waitUntil(lambda: "enqueue" in svc.calls, timeout=10000)  # after the scan
    window.worker_actions[1].trigger()
    assert ("workers", 1) in svc.calls


def test_progress_results_and_failures_reach_the_window(wired, qtbot):
    window, c, svc = wired
    threading.Thread(target=lambda: [svc.on_progress(_progress(i, 4)) for i in range(3)]).start()
    qtbot.waitUntil(lambda: window.analysis_label.text().startswith("Genres: 2 of 4"), timeout=3000)
    assert window.analysis_bar.isVisible() and window.analysis_bar.value() == 2
    assert "/min" in window.analysis_label.text() and "left" in window.analysis_label.text()

    rows = {c.model.row_data(r).title: c.model.track_id(r) for r in range(4)}
    tid = rows["Pink Noise"]
    track = c.catalog.get_track(tid)
    wp = np.array([[0.1, 0.2, 0.7], [0.3, 0.2, 0.5]], np.float32)
    c.catalog.store_analysis(tid, {
        "fingerprint": track.fingerprint, "model_version": "fake-v1", "classes": ["blues", "jazz", "rock"],
        "top_genre": "rock", "confidence": 0.6, "track_probs": wp.mean(0), "window_probs": wp,
        "embeddings": np.zeros((2, 4), np.float16), "window_s": 1.5, "hop_s": 0.5, "duration": 2.0,
    })
    c.play_ids([tid])  # playing it before the result arrives: it jumps the queue
    qtbot.waitUntil(lambda: ("prioritize", tid) in svc.calls or window.genre_chart.has_data, timeout=5000)
    threading.Thread(target=svc.on_track, args=(_track_event(tid, top="rock", conf=0.6),)).start()
    qtbot.waitUntil(lambda: c.model.by_id(tid).predicted == "rock", timeout=3000)
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
