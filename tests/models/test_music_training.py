"""The music detector's training code runs end to end on a tiny budget (real clips, a few steps):
its batches hold what they say, the network learns, and its LiteRT export computes what Keras
does.  The shipped detector's numbers are in test_music_detector.py."""
from __future__ import annotations

import csv

import numpy as np
import pytest

from core import features as F
from models import music_training as T
from models.music import CLASSES, CELL_COLUMNS
from tests.models.conftest import SHARED, need


@pytest.fixture(scope="module")
def clips():
    manifest = need(SHARED / "not_music" / "manifest.csv")
    with open(manifest, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    picked = [r for r in rows if r["kind"] == "speech"][:4] + [r for r in rows if r["kind"] != "speech"][:4]
    return [{"name": r["file"], "S": F.logmel_file(SHARED / "not_music" / r["file"]),
             "label": "speech" if r["kind"] == "speech" else "sound", "split": "train", "kind": r["kind"],
             "source": "esc" if not r["file"].startswith("fsdd_") else "fsdd"} for r in picked]


@pytest.fixture(scope="module")
def music(trainval_npz):
    d = np.load(trainval_npz)
    return d["X"][d["split"] == "train"][::40].astype(np.float32)  # 12 clips, every genre


def test_batches_are_cells_of_the_three_classes(music, clips):
    sampler = T.Sampler(music, clips, dict(T.DEFAULTS), seed=0)
    X, y = sampler.batch(96)
    assert X.shape == (96, F.N_MELS, CELL_COLUMNS) and X.dtype == np.float32
    assert set(np.unique(y)) == {0, 1, 2} and np.isfinite(X).all()
    assert abs(X.mean()) < 0.1 and 0.8 < X.std() < 1.2  # each cell standardised
    again = T.Sampler(music, clips, dict(T.DEFAULTS), seed=0).batch(96)
    np.testing.assert_array_equal(again[1], y)  # a seed gives the same batches


def test_a_few_steps_learn_and_the_export_matches_keras(music, clips, tmp_path):
    from models.genre import configure_tensorflow

    configure_tensorflow(1)
    import keras

    sampler = T.Sampler(music, clips, dict(T.DEFAULTS, p_bandlimit=0.0, p_mix=0.0, p_reverb=0.0, p_stretch=0.0),
                        seed=1)
    model = T.build_model(seed=0)
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss="sparse_categorical_crossentropy")
    X, y = sampler.batch(64)
    first = float(model.evaluate(X, y, verbose=0))
    for _ in range(25):
        model.train_on_batch(*sampler.batch(32))
    assert float(model.evaluate(X, y, verbose=0)) < first  # it learns
    T.export_tflite(model, tmp_path / "model.tflite")
    from models.music import _LiteRT

    lite = _LiteRT(tmp_path / "model.tflite")
    np.testing.assert_allclose(lite.forward(X[:8]), model.predict(X[:8], verbose=0), atol=1e-4)
    verdicts = T.clip_verdicts(lite.forward, [c["S"] for c in clips[:3]])
    assert all(set(v) >= {"is_music", "music_probability", "kind"} for v in verdicts)
    assert len(CLASSES) == model.output_shape[-1]
