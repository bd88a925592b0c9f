"""A tiny real training run: a small network on 60 GTZAN clips really learns."""
from __future__ import annotations

import json

import numpy as np

from models.data import load_npz
from models.genre import GenreModel


def test_tiny_training_run_learns(trainval_npz, tmp_path):
    from models.training import train_network

    data = load_npz(trainval_npz)
    card = train_network(data, arch="ours", out_dir=tmp_path, subset=60, epochs=12, window=39, hop=39, selection="last",
                         crops_per_clip=4, lr=3e-3, patience=99, mixup=0.0, seed=1, log=print,
                         config={"stem": 32, "channels": [32, 48], "dropout": 0.1})
    train_acc = card["metrics"]["train"]["accuracy"]
    print("tiny run: train track accuracy", train_acc)
    assert card["metrics"]["train"]["n_clips"] == 60
    assert train_acc >= 0.4, f"60-clip training reached only {train_acc:.2f} track accuracy on its own clips"
    for name in ("model.keras", "card.json", "curves.png", "confusion.png", "history.json"):
        assert (tmp_path / name).is_file(), name
    hist = json.loads((tmp_path / "history.json").read_text())
    assert len(hist["loss"]) == 12 and hist["loss"][-1] < hist["loss"][0]
    # the card is the loader's contract and the selected weights reproduce its number
    m = GenreModel.load(tmp_path)
    assert card["data"]["fit_on"] == "train" and m.window == 39
    train = data.part("train")
    idx = np.sort(np.random.default_rng(1).permutation(len(train))[:60])
    probs = m.predict_clips(train.X[idx])
    # TensorFlow's CPU reductions are not bit-identical between runs with different thread
    # scheduling: a clip on a near-tie may flip, nothing more
    assert abs(float((probs.argmax(1) == train.y[idx]).mean()) - train_acc) <= 1 / 60 + 1e-9


def test_same_genre_mixing_adds_a_second_clip_of_the_same_genre_only():
    from models.data import same_genre_mix

    rng = np.random.default_rng(3)
    n = 12
    x = np.full((n, 128, 20), -80.0, np.float32)
    y = np.array([0] * 6 + [1] * 6)
    for i in range(n):  # genre 0 sounds in the low bands, genre 1 in the high ones; one band per clip
        x[i, (10 if y[i] == 0 else 100) + i, :] = 0.0
    before = x.copy()
    same_genre_mix(x, y, p=1.0, rng=rng)
    changed = [i for i in range(n) if not np.array_equal(x[i], before[i])]
    assert len(changed) >= 8
    for i in changed:
        loud = set(np.flatnonzero(x[i].max(axis=1) > -20).tolist())
        assert len(loud) == 2, f"window {i}: a mix of two clips has two loud bands, got {sorted(loud)}"
        lo, hi = (10, 10 + n) if y[i] == 0 else (100, 100 + n)
        assert all(lo <= b < hi for b in loud), f"window {i} got a band of the other genre: {sorted(loud)}"
        assert x[i].max() == 0.0 and x[i].min() >= -80.0
    unchanged = np.array([i not in changed for i in range(n)])
    same_genre_mix(before, y, p=0.0, rng=rng)
    assert np.array_equal(before[unchanged], x[unchanged])


def test_a_centred_member_ignores_the_windows_mean_spectrum(tmp_path):
    """``centre``: a constant per-band change (another mastering EQ) leaves the answer alone, and
    the model saves and loads with its layer."""
    import keras

    import models.layers  # noqa: F401
    from models import architectures as A

    model = A.build("ours", {"stem": 16, "channels": [16], "centre": True}, window=39)
    rng = np.random.default_rng(4)
    x = rng.uniform(-60, -10, (3, 128, 39)).astype(np.float32)
    eq = rng.uniform(-8, 8, (1, 128, 1)).astype(np.float32)
    p, q = model.predict(x, verbose=0), model.predict(x + eq, verbose=0)
    np.testing.assert_allclose(p, q, atol=1e-5)
    model.save(tmp_path / "c.keras")
    again = keras.models.load_model(tmp_path / "c.keras", compile=False)
    np.testing.assert_allclose(again.predict(x, verbose=0), p, atol=1e-6)
    plain = A.build("ours", {"stem": 16, "channels": [16]}, window=39)
    assert not np.allclose(plain.predict(x, verbose=0), plain.predict(x + eq, verbose=0), atol=1e-5)
