"""The loader's contract: a usable model loads; missing/corrupt files and a foreign front end are refused."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from core.features import FRONTEND_PARAMS
from models.card import ModelError, read_card, sha256_of
from models.genre import GenreModel
from tests.models.conftest import ROOT


@pytest.fixture
def model_copy(tiny_model_dir, tmp_path):
    d = tmp_path / "m"
    shutil.copytree(tiny_model_dir, d)
    return d


def test_a_good_model_loads_and_predicts(tiny_model_dir):
    m = GenreModel.load(tiny_model_dir)
    assert m.window == 39 and m.hop == 39 and len(m.classes) == 10
    S = np.random.default_rng(0).uniform(-80, 0, (128, 400)).astype(np.float32)
    wp, tp, emb = m.analyse_logmel(S)
    n_win = len(m.window_starts(S))
    assert wp.shape == (n_win, 10) and tp.shape == (10,) and emb.shape[0] == n_win
    assert np.allclose(wp.sum(1), 1, atol=1e-4) and np.allclose(tp, wp.mean(0), atol=1e-6)
    assert emb.dtype == np.float32 and emb.shape[1] == m.embedding_dim > 0
    # the two single-purpose calls agree with the combined one
    assert np.allclose(m.predict_logmel(S)[0], wp, atol=1e-5)
    assert np.allclose(m.embed_logmel(S), emb, atol=1e-4)
    # a log-mel shorter than one window still gives one window
    assert m.predict_logmel(S[:, :10])[0].shape == (1, 10)


def test_frontend_mismatch_is_refused(model_copy):
    card = json.loads((model_copy / "card.json").read_text())
    card["frontend"] = dict(FRONTEND_PARAMS, n_mels=96)
    (model_copy / "card.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match="front-end parameters.*n_mels"):
        GenreModel.load(model_copy)


def test_missing_directory_card_and_weights(model_copy, tmp_path):
    with pytest.raises(ModelError, match="no such model directory"):
        GenreModel.load(tmp_path / "nowhere")
    (model_copy / "model.keras").unlink()
    with pytest.raises(ModelError, match="weights file is missing"):
        GenreModel.load(model_copy)
    (model_copy / "card.json").unlink()
    with pytest.raises(ModelError, match="model card is missing"):
        GenreModel.load(model_copy)


def test_corrupt_card(model_copy):
    (model_copy / "card.json").write_text('{"version": "x", "classes": [')
    with pytest.raises(ModelError, match="model card is corrupt"):
        read_card(model_copy)
    (model_copy / "card.json").write_text('{"version": "x"}')
    with pytest.raises(ModelError, match="corrupt .*missing"):
        read_card(model_copy)


def test_corrupt_weights(model_copy):
    w = model_copy / "model.keras"
    data = bytearray(w.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 64] = b"\0" * 64
    w.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="weights file is corrupt"):
        GenreModel.load(model_copy)
    # even when the card's checksum is made to match, a truncated file is refused clearly
    w.write_bytes(bytes(data[: len(data) // 3]))
    card = json.loads((model_copy / "card.json").read_text())
    card["weights_sha256"] = sha256_of(w)
    (model_copy / "card.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match="weights file is corrupt or not a Keras model"):
        GenreModel.load(model_copy)


def test_mfcc_layer_is_the_front_end_mfcc():
    """The MFCC architectures compute core.features.mfcc_from_logmel inside the model."""
    import keras

    from core.features import mfcc_from_logmel
    from models import architectures as A

    model = A.build("cnn1d", {"feature": "mfcc", "n_mfcc": 20}, n_classes=10, window=50)
    dct = keras.Model(model.inputs, model.get_layer("mfcc_dct").output)
    S = np.random.default_rng(1).uniform(-80, 0, (128, 50)).astype(np.float32)
    got = dct.predict(S[None], verbose=0)[0]  # (time, n_mfcc)
    assert np.allclose(got, mfcc_from_logmel(S=S).T, atol=1e-3)


def test_importing_the_runtime_does_not_load_tensorflow():
    """The app imports models.genre at start; TensorFlow must wait until a model is loaded."""
    import subprocess
    import sys

    code = ("import sys; import models.genre, models.data, models.architectures, cli.predict; "
            "print(any(m.split('.')[0] in ('tensorflow', 'keras') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(ROOT), check=True)
    assert out.stdout.strip() == "False"
