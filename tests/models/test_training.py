"""A tiny real training run: a small network on 60 GTZAN clips really learns."""
from __future__ import annotations

import json

import numpy as np
import pytest

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


def test_a_smoothed_member_sees_the_three_column_mean(tmp_path):
    """``smooth``: the member's first layer averages 3 neighbouring columns (the app's audio is
    smoother in time than the training arrays), so flicker that alternates from column to column
    reaches the network as a third of itself; an even width is refused."""
    import keras

    from models import architectures as A

    model = A.build("preproc", {"smooth": 3, "filters": [8, 8], "dense": [16, 8]}, window=39)
    seen = keras.Model(model.inputs, model.get_layer("smooth_time").output)
    rng = np.random.default_rng(5)
    x = rng.uniform(-60, -10, (2, 128, 39)).astype(np.float32)
    s = seen.predict(x, verbose=0)  # (2, 39, 128) time-major
    np.testing.assert_allclose(s[:, 1:-1], ((x[:, :, :-2] + x[:, :, 1:-1] + x[:, :, 2:]) / 3).transpose(0, 2, 1), atol=1e-4)
    np.testing.assert_allclose(s[:, 0], x[:, :, :2].mean(2), atol=1e-4)  # the edge: the columns there
    flicker = np.where(np.arange(39) % 2 == 0, 6.0, -6.0).astype(np.float32)
    d = seen.predict(x + flicker, verbose=0) - s
    assert np.abs(d[:, 1:-1]).max() < 2.01  # 6 dB alternating -> 2 dB
    model.save(tmp_path / "s.keras")
    again = keras.models.load_model(tmp_path / "s.keras", compile=False)
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    with pytest.raises(ValueError, match="odd"):
        A.build("preproc", {"smooth": 2}, window=39)


def test_time_blur_softens_column_flicker_in_the_chosen_crops_only():
    """``time_blur``: the picked crops lose part of their column-to-column flicker (as the app's own
    front end has less of it than the training arrays) and keep their level; the others are left
    exactly alone; a fraction outside [0, 1] is refused."""
    from models.data import time_blur

    rng = np.random.default_rng(6)
    flicker = np.where(np.arange(39) % 2 == 0, 5.0, -5.0).astype(np.float32)
    x = (rng.uniform(-50, -20, (400, 128, 1)) + flicker).astype(np.float32)
    before = x.copy()
    time_blur(x, p=0.5, rng=rng)
    changed = np.array([not np.array_equal(a, b) for a, b in zip(x, before)])
    assert 0.4 < changed.mean() < 0.6
    step = np.abs(np.diff(x[:, :, 1:-1], axis=2)).mean(axis=(1, 2))
    assert np.all(step[~changed] == 10.0)
    assert step[changed].max() < 10.0  # [a, 1-2a, a] turns a +-5 dB flicker into +-5|1-4a| dB
    assert np.median(step[changed]) < 7.0
    np.testing.assert_allclose(x[:, :, 1:-1].mean(axis=(1, 2)), before[:, :, 1:-1].mean(axis=(1, 2)), atol=0.2)
    same = before.copy()
    time_blur(same, p=0.0, rng=rng)
    assert np.array_equal(same, before)
    with pytest.raises(ValueError, match="between 0 and 1"):
        time_blur(same, p=1.5, rng=rng)


@pytest.mark.parametrize("flag", ["--time-blur", "--same-mix"])
def test_a_crop_fraction_outside_0_1_is_a_one_line_error(trainval_npz, tmp_path, capsys, flag):
    from cli.main import main

    rc = main(["train-genre", "--arch", "preproc", flag, "1.5", "--epochs", "1", "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert rc != 0 and "between 0 and 1, got 1.5" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
