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


def test_compressed_music_keeps_its_spectrum_and_loses_its_swings(music):
    """``--compress``: a music cell with squashed dynamics -- the steady wall of sound of a limiter
    or a distorted guitar -- keeps each band's mean level and swings less over time."""
    rng = np.random.default_rng(0)
    x = T.crop(music[3], rng)
    y = T.compress(x, 0.4)
    assert y.shape == x.shape and y.max() == 0.0 and y.min() >= -F.TOP_DB
    assert y.std(axis=1).mean() < 0.5 * x.std(axis=1).mean()
    shape = lambda s: s.mean(axis=1) - s.mean()  # noqa: E731 - the spectral shape, level removed
    assert np.corrcoef(shape(x), shape(y))[0, 1] > 0.95
    sampler = T.Sampler(music, [], dict(T.DEFAULTS, p_compress=1.0, p_mix=0.0, p_reverb=0.0, p_stretch=0.0,
                                         p_bandlimit=0.0, tilt_db=0.0), seed=0)
    plain = T.Sampler(music, [], dict(T.DEFAULTS, p_mix=0.0, p_reverb=0.0, p_stretch=0.0, p_bandlimit=0.0,
                                       tilt_db=0.0), seed=0)
    swings = lambda s: np.mean([s.one(0).std(axis=1).mean() for _ in range(40)])  # noqa: E731
    assert swings(sampler) < 0.85 * swings(plain)


def test_a_shifted_voice_keeps_its_shape_a_few_bands_away(clips):
    """``--voice-shift``: a speech cell moved down the mel axis (a deeper voice) has the same
    pattern a few bands lower, the floor where nothing came in."""
    rng = np.random.default_rng(1)
    x = T.crop(next(c["S"] for c in clips if c["label"] == "speech"), rng)
    down, up = T.shift_bands(x, rng, -6), T.shift_bands(x, rng, 3)
    assert down.shape == up.shape == x.shape and down.max() == 0.0 and down.min() >= -F.TOP_DB
    d = down - down.max()
    np.testing.assert_allclose(d[:-6] - d[:-6].mean(), (x[6:] - x.max()) - (x[6:] - x.max()).mean(), atol=1e-4)
    assert (down[-6:] < -F.TOP_DB + 10).all() and (up[:3] < -F.TOP_DB + 10).all()
    assert T.shift_bands(x, rng, 0) is x
