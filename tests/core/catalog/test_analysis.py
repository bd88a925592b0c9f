"""The catalog's analysis tables: results keyed by file identity + model version, the durable queue."""
from __future__ import annotations

import numpy as np
import pytest

from core.catalog import Catalog, pack_array, unpack_array

V1, V2 = "genre-test-v1", "genre-test-v2"
CLASSES = ["blues", "classical", "jazz"]


def _track(path, fp, **kw):
    return {"path": path, "size": 100, "mtime_ns": 1, "fingerprint": fp, **kw}


def _result(fp, version=V1, n_windows=4, dim=8, top=2):
    rng = np.random.default_rng(abs(hash(fp)) % 2**32)
    wp = rng.dirichlet(np.ones(len(CLASSES)), n_windows).astype(np.float32)
    tp = wp.mean(axis=0)
    tp[top] += 1.0
    tp /= tp.sum()
    return {
        "fingerprint": fp, "model_version": version, "classes": CLASSES, "top_genre": CLASSES[int(tp.argmax())],
        "confidence": float(tp.max()), "track_probs": tp, "window_probs": wp,
        "embeddings": rng.normal(size=(n_windows, dim)).astype(np.float16), "window_s": 3.0, "hop_s": 1.5,
        "duration": 7.5, "note": None,
    }


def test_arrays_round_trip_with_dtype_and_shape_and_no_pickle():
    for a in (np.arange(12, dtype=np.float16).reshape(3, 4), np.zeros((0, 5), np.float32),
              np.asfortranarray(np.ones((4, 2), np.float64)), np.array(3, np.int64)):
        b = unpack_array(pack_array(a))
        assert b.dtype == a.dtype and b.shape == a.shape and np.array_equal(a, b)
    with pytest.raises(ValueError):
        unpack_array(pack_array(np.array([object()], dtype=object)))


def test_migration_adds_the_tables_to_an_existing_catalog_keeping_tracks(tmp_path):
    old = Catalog(tmp_path / "c.sqlite3", target_version=1)
    tid = old.add_track(_track("/m/a.mp3", "fa"))
    old.close()
    cat = Catalog(tmp_path / "c.sqlite3")
    assert cat.schema_version >= 2
    assert cat.get_track(tid).fingerprint == "fa"
    assert cat.enqueue_analysis(V1) == 1
    cat.close()


def test_queue_claim_store_and_results_survive_a_move(catalog):
    a = catalog.add_track(_track("/m/a.mp3", "fa"))
    b = catalog.add_track(_track("/m/b.mp3", "fb"))
    assert catalog.enqueue_analysis(V1) == 2
    assert catalog.enqueue_analysis(V1) == 0  # already queued
    assert catalog.analysis_counts(V1) == {"tracks": 2, "analysed": 0, "queued": 2, "running": 0, "failed": 0}
    tasks = catalog.claim_analysis(V1, 1, owner="me")
    assert [t.track_id for t in tasks] == [a] and tasks[0].path == "/m/a.mp3" and tasks[0].fingerprint == "fa"
    assert catalog.analysis_counts(V1)["running"] == 1
    catalog.store_analysis(a, _result("fa"))
    assert catalog.analysis_counts(V1) == {"tracks": 2, "analysed": 1, "queued": 1, "running": 0, "failed": 0}
    r = catalog.track_analysis(a)
    want = _result("fa")
    assert r.model_version == V1 and r.classes == CLASSES and r.top_genre == want["top_genre"]
    assert r.window_probs.dtype == np.float32 and r.window_probs.shape == (4, 3)
    assert r.embeddings.dtype == np.float16 and np.array_equal(r.embeddings, want["embeddings"])
    assert r.n_windows == 4 and r.hop_s == 1.5
    assert catalog.genre_summary() == {a: (r.top_genre, pytest.approx(r.confidence), r.label().text)}
    # the file moves: same row, same fingerprint -> same result; nothing is queued again
    catalog.move_track(a, "/elsewhere/a.mp3", {})
    assert catalog.track_analysis(a).top_genre == r.top_genre
    assert catalog.enqueue_analysis(V1) == 0
    # a different row with the same bytes (a copy) shares the result too
    c = catalog.add_track(_track("/m/copy-of-a.mp3", "fa"))
    assert catalog.enqueue_analysis(V1) == 0 and catalog.track_analysis(c) is not None
    # the file changes (new bytes -> new fingerprint): analysed again
    catalog.update_track(a, {"fingerprint": "fa2"})
    assert catalog.enqueue_analysis(V1) == 1
    assert catalog.track_analysis(a) is None and catalog.track_analysis(b) is None


def test_a_new_model_version_queues_everything_again(catalog):
    a = catalog.add_track(_track("/m/a.mp3", "fa"))
    b = catalog.add_track(_track("/m/b.mp3", "fb"))
    catalog.enqueue_analysis(V1)
    for t in catalog.claim_analysis(V1, 5, owner="me"):
        catalog.store_analysis(t.track_id, _result(t.fingerprint))
    assert catalog.analysis_counts(V1)["analysed"] == 2
    assert catalog.enqueue_analysis(V2) == 2
    assert catalog.analysis_counts(V2) == {"tracks": 2, "analysed": 0, "queued": 2, "running": 0, "failed": 0}
    # the old results stay readable until the new ones land
    assert catalog.track_analysis(a).model_version == V1 and catalog.track_analysis(a, V2) is None
    catalog.store_analysis(b, _result("fb", V2, top=0))
    assert catalog.track_analysis(b, V2).top_genre == "blues"
    assert catalog.track_analysis(b).model_version == V2
    assert catalog.track_analysis(b, V1) is None  # replaced: old results do not pile up
    assert catalog.fetchone("SELECT COUNT(*) FROM analysis")[0] == 2


def test_failures_are_kept_with_one_line_reason_and_not_retried(catalog):
    a = catalog.add_track(_track("/m/broken.mp3", "fa"))
    b = catalog.add_track(_track("/m/crashy.mp3", "fb"))
    catalog.enqueue_analysis(V1)
    catalog.claim_analysis(V1, 2, owner="me")
    assert catalog.record_analysis_error(a, "decode_failed", "looks like mp3\naudio but cannot be decoded") is True
    # a crash counts an attempt; the file is given up on after max_attempts
    assert catalog.record_analysis_error(b, "crashed", "worker died", max_attempts=2) is False
    assert catalog.analysis_counts(V1)["queued"] == 1
    assert [t.track_id for t in catalog.claim_analysis(V1, 5, owner="me")] == [b]
    assert catalog.record_analysis_error(b, "crashed", "worker died", max_attempts=2) is True
    fails = catalog.analysis_failures(V1)
    assert [(f.path, f.kind) for f in fails] == [("/m/broken.mp3", "decode_failed"), ("/m/crashy.mp3", "crashed")]
    assert fails[0].reason == "looks like mp3 audio but cannot be decoded"
    assert catalog.enqueue_analysis(V1) == 0 and catalog.claim_analysis(V1, 5) == []
    assert catalog.analysis_counts(V1)["failed"] == 2
    # a changed file, or a new model, gets another chance; so does an explicit retry
    catalog.update_track(a, {"fingerprint": "fa-fixed"})
    assert catalog.enqueue_analysis(V1) == 1
    assert catalog.retry_analysis_failures() == 1
    assert catalog.analysis_counts(V1)["queued"] == 2


def test_release_and_owners_and_priority(catalog):
    ids = [catalog.add_track(_track(f"/m/{i}.mp3", f"f{i}")) for i in range(5)]
    catalog.enqueue_analysis(V1)
    assert catalog.prioritize_analysis(ids[3]) and catalog.prioritize_analysis(ids[4])
    first = catalog.claim_analysis(V1, 2, owner="host:1:1")
    assert [t.track_id for t in first] == [ids[4], ids[3]]  # the latest prioritised first
    assert catalog.analysis_owners() == {"host:1:1"}
    assert not catalog.prioritize_analysis(ids[4])  # running: nothing to do
    assert catalog.release_analysis(owner="host:1:1") == 2
    assert catalog.analysis_owners() == set()
    again = catalog.claim_analysis(V1, 1, owner="x")
    assert again[0].track_id == ids[4] and again[0].attempts == 0  # a release is not an attempt
    assert catalog.release_analysis([ids[4]]) == 1


def test_store_is_one_transaction(catalog):
    a = catalog.add_track(_track("/m/a.mp3", "fa"))
    catalog.enqueue_analysis(V1)
    catalog.claim_analysis(V1, 1, owner="me")
    bad = _result("fa")
    bad["confidence"] = "not a number"
    with pytest.raises(ValueError):
        catalog.store_analysis(a, bad)
    assert catalog.track_analysis(a) is None
    assert catalog.analysis_counts(V1)["running"] == 1  # the queue row was not touched either
    with catalog.transaction():  # and the connection is usable afterwards
        catalog.store_analysis(a, _result("fa"))
    assert catalog.track_analysis(a) is not None


def test_a_deleted_track_leaves_no_queue_row(catalog):
    a = catalog.add_track(_track("/m/a.mp3", "fa"))
    catalog.enqueue_analysis(V1)
    catalog.mark_missing([a])
    assert catalog.claim_analysis(V1, 5) == []  # missing files are not handed out
    catalog.purge_missing()
    assert catalog.fetchone("SELECT COUNT(*) FROM analysis_queue")[0] == 0
    assert catalog.integrity_problems() == []


@pytest.mark.parametrize("array", [
    np.arange(12, dtype=np.float16).reshape(4, 3), np.arange(5, dtype=np.float32),
    np.asfortranarray(np.arange(6, dtype=np.float64).reshape(2, 3)), np.zeros((0, 4), np.float16),
])
def test_stored_arrays_read_back_exactly(array):
    from core.catalog import pack_array, unpack_array

    blob = pack_array(array)
    for _ in range(4):  # later reads use the cached header; both copy modes
        back = unpack_array(blob, copy=bool(_ % 2))
        assert back.dtype == array.dtype and back.shape == array.shape
        np.testing.assert_array_equal(back, array)
    assert unpack_array(blob).flags.writeable  # a copy by default: callers may modify it
