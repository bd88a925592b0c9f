"""The music detector's verdict in the analysis store: stored beside the genre, shown as the
track's label, re-queued when missing, and added by a migration that loses nothing."""
from __future__ import annotations

import numpy as np

from core.catalog import Catalog
from core.catalog.migrations import MIGRATIONS

V1, M1, M2 = "genre-test-v1", "music-test-a", "music-test-b"
CLASSES = ["blues", "classical", "jazz"]


def _track(path, fp):
    return {"path": path, "size": 100, "mtime_ns": 1, "fingerprint": fp}


def _result(fp, probs=(0.1, 0.2, 0.7), **music):
    tp = np.asarray(probs, np.float32)
    return {"fingerprint": fp, "model_version": V1, "classes": CLASSES, "top_genre": CLASSES[int(tp.argmax())],
            "confidence": float(tp.max()), "track_probs": tp, "window_probs": np.tile(tp, (3, 1)),
            "embeddings": np.zeros((1, 4), np.float16), "window_s": 3.0, "hop_s": 3.0, "duration": 9.0, **music}


def test_a_speech_track_is_stored_and_listed_as_not_music(tmp_path):
    cat = Catalog(tmp_path / "c.sqlite3")
    a = cat.add_track(_track("/m/talk.ogg", "fa"))
    b = cat.add_track(_track("/m/song.ogg", "fb"))
    cells = np.array([0.1, np.nan, 0.05], np.float32)
    cat.store_analysis(a, _result("fa", music_probability=0.08, is_music=False, music_kind="speech",
                                  music_cells=cells, music_version=M1))
    cat.store_analysis(b, _result("fb", music_probability=0.97, is_music=True, music_kind=None,
                                  music_cells=np.array([0.9, 0.99, 0.97], np.float32), music_version=M1))
    r = cat.track_analysis(a)
    assert r.is_music is False and r.music_kind == "speech" and r.music_version == M1
    assert r.music_cells.dtype == np.float32 and r.music_cells[0] == np.float32(0.1) and np.isnan(r.music_cells[1])
    summary = cat.genre_summary()
    assert summary[a][0] == "Not music" and summary[a][2] == "Not music (speech)"
    assert summary[b][:1] == ("jazz",) and summary[b][2] == "jazz 70%"
    d = r.as_dict(arrays=True)
    assert d["is_music"] is False and d["music_cells"][1] is None
    cat.close()


def test_an_unsure_genre_is_labelled_uncertain_with_both_genres(tmp_path):
    cat = Catalog(tmp_path / "c.sqlite3")
    a = cat.add_track(_track("/m/a.ogg", "fa"))
    cat.store_analysis(a, _result("fa", probs=(0.42, 0.13, 0.45), music_probability=0.9, is_music=True,
                                  music_cells=np.ones(3, np.float32), music_version=M1))
    assert cat.genre_summary()[a][2] == "uncertain: blues or jazz"
    cat.close()


def test_results_without_the_detectors_verdict_are_queued_again(tmp_path):
    cat = Catalog(tmp_path / "c.sqlite3")
    a = cat.add_track(_track("/m/a.ogg", "fa"))
    b = cat.add_track(_track("/m/b.ogg", "fb"))
    cat.store_analysis(a, _result("fa"))  # analysed before there was a detector
    cat.store_analysis(b, _result("fb", music_probability=0.9, is_music=True, music_cells=np.ones(3, np.float32),
                                  music_version=M1))
    assert cat.enqueue_analysis(V1) == 0  # genres alone: nothing to do
    assert cat.enqueue_analysis(V1, music_version=M1) == 1  # a has no verdict
    assert [t.track_id for t in cat.claim_analysis(V1, 5, owner="x")] == [a]
    assert cat.analysis_counts(V1, M1)["analysed"] == 1 and cat.analysis_counts(V1)["analysed"] == 2
    assert cat.enqueue_analysis(V1, music_version=M2) == 1  # b: another detector version (a is running)
    cat.close()


def test_migration_from_the_previous_version_keeps_results_and_likes(tmp_path):
    mine = next(i for i, m in enumerate(MIGRATIONS) if m.name == "_analysis_music")
    path = tmp_path / "c.sqlite3"
    old = Catalog(path, target_version=mine)
    a = old.add_track(_track("/m/a.ogg", "fa"))
    old.set_rating(a, 1)
    old.execute(
        "INSERT INTO analysis(fingerprint, model_version, classes, top_genre, confidence, track_probs, window_probs, "
        "embeddings, window_s, hop_s, n_windows, duration, note, computed_at) "
        "SELECT 'fa', ?, '[\"blues\", \"classical\", \"jazz\"]', 'jazz', 0.7, x'00', x'00', x'00', 3, 3, 1, 9, NULL, 1",
        (V1,))
    old.close()
    cat = Catalog(path)
    assert cat.schema_version >= mine + 1
    assert cat.rating(a) == 1
    row = cat.fetchone("SELECT top_genre, music_probability, is_music, music_version FROM analysis WHERE fingerprint = 'fa'")
    assert row == ("jazz", None, None, None)
    assert cat.enqueue_analysis(V1) == 0 and cat.enqueue_analysis(V1, music_version=M1) == 1
    cat.close()


def test_the_measured_loudness_is_kept_with_the_result_and_read_per_track(tmp_path):
    cat = Catalog(tmp_path / "c.sqlite3")
    a, b, c, d = (cat.add_track(_track(f"/m/{n}.ogg", f"f{n}")) for n in "abcd")
    cat.store_analysis(a, _result("fa", loudness=-14.5, sample_peak=0.8))
    cat.store_analysis(b, _result("fb"))  # a result from before the measurement
    cat.store_analysis(c, _result("fc", loudness=None, sample_peak=0.0))  # silence: no loudness
    cat.store_analysis(d, _result("fd", loudness=float("nan"), sample_peak=0.5))
    assert cat.measured_loudness() == {a: (-14.5, 0.8), c: (None, 0.0), d: (None, 0.5)}
    got = cat.track_analysis(a)
    assert (got.loudness, got.sample_peak) == (-14.5, 0.8)
    cat.close()
