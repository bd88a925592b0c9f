"""Choosing the floor-vs-CNN weight on the train clips alone: block folds, out-of-fold
predictions from held-out training runs, and the fitted mix weight."""
from __future__ import annotations

import numpy as np
import pytest

from models.data import artist_folds, load_npz
from models.hybrid import fit_mix_weight


def test_artist_folds_deal_out_whole_runs_of_consecutive_ids():
    """A run of consecutive ids is one artist or more (GTZAN numbers an artist's clips in a row):
    a run is never split while there are enough runs, and the folds stay balanced per genre."""
    ids = np.array([f"rock.{i:05d}" for i in (0, 1, 2, 3, 10, 11, 12, 20, 21)]
                   + [f"jazz.{i:05d}" for i in (40, 5, 6, 41, 7, 42, 43)])
    y = np.array([0] * 9 + [1] * 7)
    folds = artist_folds(ids, y, 2)
    by_id = dict(zip(ids, folds))
    for g, lo, hi in (("rock", 0, 3), ("rock", 10, 12), ("jazz", 5, 7), ("jazz", 40, 43)):
        assert len({by_id[f"{g}.{n:05d}"] for n in range(lo, hi + 1)}) == 1, f"run {g} {lo}-{hi} was split"
    assert by_id["rock.00000"] != by_id["rock.00010"] and by_id["rock.00010"] == by_id["rock.00020"]
    assert by_id["jazz.00005"] != by_id["jazz.00040"]
    # one run and more folds than runs: the run is cut into neighbouring blocks, every fold used
    one = np.array([f"pop.{i:05d}" for i in range(10)])
    f5 = artist_folds(one, np.zeros(10, int), 5)
    assert set(f5.tolist()) == set(range(5))
    for f in range(5):
        nums = sorted(int(i.split(".")[1]) for i in one[f5 == f])
        assert nums == list(range(nums[0], nums[0] + len(nums)))
    with pytest.raises(ValueError, match="fewer than"):
        artist_folds(one, np.zeros(10, int), 11)


def test_two_artist_folds_of_the_real_train_split_split_every_genre(trainval_npz):
    train = load_npz(trainval_npz).part("train")
    folds = artist_folds(train.ids, train.y, 2)
    assert len(folds) == len(train)
    for c in np.unique(train.y):
        counts = np.bincount(folds[train.y == c], minlength=2)
        assert counts.min() >= 8, f"genre {train.genres[c]}: folds of {counts.tolist()} clips"


@pytest.mark.parametrize("k", [4, 8])
def test_artist_folds_of_the_real_train_split_are_near_one_size(trainval_npz, k):
    """Each fold model is fitted on nearly the same share of the clips (the biggest runs of every
    genre do not all land in fold 0)."""
    train = load_npz(trainval_npz).part("train")
    sizes = np.bincount(artist_folds(train.ids, train.y, k), minlength=k)
    assert sizes.max() <= 1.25 * len(train) / k, sizes.tolist()


def _probs(y, informative, rng, k=5, sharp=3.0):
    logits = rng.normal(0, 1, (len(y), k))
    if informative:
        logits[np.arange(len(y)), y] += sharp
    e = np.exp(logits)
    return e / e.sum(1, keepdims=True)


def test_the_mix_weight_follows_the_expert_that_knows():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 5, 400)
    good, noise = _probs(y, True, rng), _probs(y, False, rng)
    assert fit_mix_weight(good, noise, y)["floor_weight"] > 0.85
    assert fit_mix_weight(noise, good, y)["floor_weight"] < 0.15
    both = fit_mix_weight(_probs(y, True, rng), _probs(y, True, rng), y)
    assert 0.3 < both["floor_weight"] < 0.7
    # two independent informative experts beat either alone out of fold
    assert both["accuracy"] >= max(both["floor_accuracy"], both["cnn_accuracy"])
    assert fit_mix_weight(good, noise, y, pooling="arithmetic")["floor_weight"] > 0.85
    with pytest.raises(ValueError):
        fit_mix_weight(good, noise, y, pooling="median")


def test_held_out_runs_give_out_of_fold_predictions_that_choose_the_weight(trainval_npz, tmp_path):
    """Two tiny runs, each leaving one half of the train clips out, cover every train clip; the
    hybrid built from them records a weight chosen without the valid clips."""
    from models.training import stack_weight, train_network

    data = load_npz(trainval_npz)
    train = data.part("train")
    folds = artist_folds(train.ids, train.y, 2)
    runs = []
    for f in (0, 1):
        out = tmp_path / f"f{f}"
        card = train_network(data, arch="ours", out_dir=out, subset=40, epochs=2, window=39, hop=39,
                             selection="last", crops_per_clip=2, seed=f, log=print, holdout=(f, 2),
                             config={"stem": 16, "channels": [16], "dropout": 0.1})
        held = np.load(out / "heldout.npz")
        assert set(held["ids"]) == set(train.ids[folds == f])
        assert held["probs"].shape == (int((folds == f).sum()), 10)
        np.testing.assert_allclose(held["probs"].sum(1), 1.0, atol=1e-4)
        assert card["data"]["holdout"]["held_out_clips"] == int((folds == f).sum())
        runs.append(out)
    with pytest.raises(ValueError, match="no out-of-fold"):
        stack_weight(runs[:1], train, floor_smooth=3, floor_medians=False)
    st = stack_weight(runs, train, floor_smooth=3, floor_medians=False)
    assert st["clips"] == len(train) and st["folds"] == 2
    # the floor knows far more than a 2-epoch CNN: the fitted weight leans on it
    assert st["floor_accuracy"] > 0.45 and st["floor_weight"] > 0.5


@pytest.mark.parametrize("value", ["2/2", "1", "a/b", "0/1", "-1/3"])
def test_a_malformed_holdout_fold_is_a_one_line_error(trainval_npz, tmp_path, capsys, value):
    from cli.main import main

    rc = main(["train-genre", f"--holdout-fold={value}", "--out", str(tmp_path / "x"), "--epochs", "1"])
    err = capsys.readouterr().err
    assert rc != 0 and "--holdout-fold must be I/K" in err and "Traceback" not in err
    assert not (tmp_path / "x").exists()


def test_stacking_on_runs_without_held_out_predictions_is_a_one_line_error(trainval_npz, tiny_model_dir, tmp_path,
                                                                          capsys):
    from cli.main import main

    rc = main(["train-genre", "--members", str(tiny_model_dir), "--stack-folds", str(tiny_model_dir),
               "--pooling", "geometric", "--out", str(tmp_path / "h")])
    err = capsys.readouterr().err
    assert rc != 0 and "no heldout.npz" in err and "Traceback" not in err


@pytest.mark.parametrize("argv, message", [
    (["--stack-folds", "runs/x"], "--stack-folds needs --members"),
    (["--members", "runs/x", "--floor-weight", "0.5", "--floor-mfcc", "0"], "--floor-mfcc must be in 1..128"),
    (["--members", "runs/x", "--floor-weight", "0.5", "--floor-mfcc", "200"], "--floor-mfcc must be in 1..128"),
    (["--members", "runs/x", "--floor-weight", "0.5", "--floor-bands", "7"], "--floor-bands must divide 128"),
])
def test_bad_floor_and_stacking_options_are_one_line_errors(trainval_npz, tmp_path, capsys, argv, message):
    from cli.main import main

    rc = main(["train-genre", *argv, "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert rc != 0 and message in err and "Traceback" not in err
    assert not (tmp_path / "x").exists()
