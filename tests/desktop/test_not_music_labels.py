"""What a user sees of the music detector: the library's genre column ("Not music (speech)",
"uncertain: blues or jazz"), the genre filter's "Not music" (and both genres of an uncertain label),
and the now-playing chart."""
import threading
from types import SimpleNamespace

import numpy as np

from core.genrelabel import label_of_probs
from desktop.librarymodel import COL_PREDICTED
from tests.desktop.test_analysis_wiring import FakeService, wired  # noqa: F401  (the fixture)

CLASSES = ["blues", "jazz", "rock"]


def _store(catalog, tid, wp, **music):
    track = catalog.get_track(tid)
    tp = wp.mean(0)
    catalog.store_analysis(tid, {
        "fingerprint": track.fingerprint, "model_version": "fake-v1", "classes": CLASSES,
        "top_genre": CLASSES[int(tp.argmax())], "confidence": float(tp.max()), "track_probs": tp, "window_probs": wp,
        "embeddings": np.zeros((len(wp), 4), np.float16), "window_s": 1.0, "hop_s": 1.0, "duration": 3.0, **music,
    })
    lab = label_of_probs(CLASSES, tp, is_music=music.get("is_music"), kind=music.get("music_kind"),
                         music_probability=music.get("music_probability"))
    return SimpleNamespace(track_id=tid, ok=True, top_genre=CLASSES[int(tp.argmax())], confidence=float(tp.max()),
                           kind=None, reason=None, final=True, label=(lab.genre, lab.confidence, lab.text))


def test_table_filter_and_chart_say_not_music_and_uncertain(wired, qtbot):  # noqa: F811
    window, c, svc = wired
    ids = {c.library.model.row_data(r).title: c.library.model.track_id(r) for r in range(4)}
    talk, unsure, sure = list(ids.values())[:3]
    events = [
        _store(c.catalog, talk, np.array([[0.2, 0.5, 0.3]] * 3, np.float32), music_probability=0.04, is_music=False,
               music_kind="speech", music_cells=np.array([0.02, 0.05, 0.1], np.float32), music_version="m1"),
        _store(c.catalog, unsure, np.array([[0.42, 0.45, 0.13]] * 3, np.float32), music_probability=0.9,
               is_music=True, music_cells=np.array([0.9, 0.95, 0.9], np.float32), music_version="m1"),
        _store(c.catalog, sure, np.array([[0.05, 0.05, 0.9]] * 3, np.float32), music_probability=0.97,
               is_music=True, music_cells=np.array([0.2, 0.97, 0.99], np.float32), music_version="m1"),
    ]
    threading.Thread(target=lambda: [svc.on_track(e) for e in events]).start()
    model = c.library.model
    qtbot.waitUntil(lambda: model.by_id(sure).predicted_text() == "rock 90%", timeout=5000)
    assert model.by_id(talk).predicted_text() == "Not music (speech)"
    assert model.by_id(unsure).predicted_text() == "uncertain: blues or jazz"  # jazz 0.45, blues 0.42
    texts = {model.data(model.index(r, COL_PREDICTED)) for r in range(model.rowCount())}
    assert {"Not music (speech)", "uncertain: blues or jazz", "rock 90%"} <= texts

    # the genre filter offers "Not music", and choosing it keeps only the talk; an uncertain
    # track is found under either of its two genres
    combo = window.genre_combo
    for genre, only in (("Not music", talk), ("blues", unsure)):
        qtbot.waitUntil(lambda: combo.findData(genre) >= 0, timeout=3000)
        combo.setCurrentIndex(combo.findData(genre))
        qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=3000)
        assert model.track_id(0) == only
        combo.setCurrentIndex(0)
        qtbot.waitUntil(lambda: model.rowCount() == 4, timeout=3000)

    # the now-playing chart: the whole track is not music; a song's first cell is not music either
    chart = window.genre_chart
    c.playback.play_ids([talk])
    qtbot.waitUntil(lambda: chart.has_data and "Not music (speech)" in chart.header_text(), timeout=5000)
    assert chart.strip_axis.names[0] == "music"
    c.playback.play_ids([sure])
    qtbot.waitUntil(lambda: chart.has_data and "rock 90%" in chart.header_text(), timeout=5000)
    chart.set_position(0.2)
    assert "Now: not music" in chart.header_text()
    chart.set_position(1.5)
    assert "Now: rock" in chart.header_text()
    c.playback.play_ids([unsure])
    qtbot.waitUntil(lambda: "uncertain: blues or jazz" in chart.header_text(), timeout=5000)
