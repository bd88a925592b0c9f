"""Honest confidence: the ECE helper, temperature scaling, the card's temperature, and that both
runtimes (Keras and LiteRT) give the calibrated probabilities; contrast normalisation and the
codec augmentation the genre model is trained with."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from models.calibration import apply_temperature, fit_temperature, log_loss
from models.card import ModelError, read_card, write_card
from models.data import codec_augment, contrast_normalise
from models.metrics import expected_calibration_error, reliability_bins
from tests.models.conftest import ROOT


def test_ece_of_hand_counted_predictions():
    # two clips at 0.9 confidence, one right (bin accuracy 0.5, gap 0.4); two at 0.6, both right
    # (gap 0.4): ECE = 0.4
    p = np.array([[0.9, 0.1], [0.9, 0.1], [0.4, 0.6], [0.4, 0.6]])
    y = np.array([0, 1, 1, 1])
    assert expected_calibration_error(p, y) == pytest.approx(0.4)
    r = reliability_bins(p, y, bins=15)
    assert r["count"].sum() == 4 and r["count"][13] == 2 and r["count"][8] == 2  # (0.867, 0.933] and (0.533, 0.6]
    # "75 % sure" and right three times in four: perfectly calibrated
    q = np.tile([[0.75, 0.25]], (4, 1))
    assert expected_calibration_error(q, np.array([0, 0, 0, 1])) == pytest.approx(0.0)


def test_ece_refuses_mismatched_input():
    with pytest.raises(ValueError):
        expected_calibration_error(np.ones((3, 2)) / 2, np.array([0, 1]))


def test_temperature_scaling_keeps_the_ranking_and_sums_to_one():
    p = np.array([[0.7, 0.2, 0.1], [0.05, 0.9, 0.05]], np.float32)
    soft = apply_temperature(p, 2.0)
    sharp = apply_temperature(p, 0.5)
    np.testing.assert_allclose(soft.sum(1), 1, atol=1e-6)
    assert (soft.argmax(1) == p.argmax(1)).all() and (sharp.argmax(1) == p.argmax(1)).all()
    assert (soft.max(1) < p.max(1)).all() and (sharp.max(1) > p.max(1)).all()
    assert apply_temperature(p, 1.0) is not None and np.array_equal(apply_temperature(p, 1.0), p)
    with pytest.raises(ValueError):
        apply_temperature(p, 0.0)


def test_fitted_temperature_undoes_overconfidence():
    """Labels drawn from softmax(z); the model says softmax(2 z): too sure.  The fit finds T ~ 2
    and the calibration error drops."""
    rng = np.random.default_rng(0)
    z = rng.normal(0, 1.5, (4000, 10))
    truth = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    y = np.array([rng.choice(10, p=row) for row in truth])
    over = np.exp(2 * z) / np.exp(2 * z).sum(1, keepdims=True)
    t = fit_temperature(over, y)
    assert 1.8 < t < 2.2
    fixed = apply_temperature(over, t)
    assert expected_calibration_error(fixed, y) < 0.03 < expected_calibration_error(over, y)
    assert log_loss(fixed, y) < log_loss(over, y)


def test_a_card_with_a_bad_temperature_is_refused_in_one_line(tiny_model_dir, tmp_path):
    d = tmp_path / "m"
    shutil.copytree(tiny_model_dir, d)
    card = read_card(d)
    for bad in (-1.0, 0, "warm", None, float("inf")):
        write_card(d, {**card, "calibration": {"temperature": bad}})
        with pytest.raises(ModelError) as e:
            read_card(d)
        assert "calibration.temperature" in str(e.value) and "\n" not in str(e.value)
    write_card(d, {**card, "calibration": {"temperature": 1.7}})
    assert read_card(d)["calibration"]["temperature"] == 1.7


_BUILD = """
import sys
from pathlib import Path
import numpy as np
from models import architectures as A
from models.genre import configure_tensorflow
from models.hybrid import build_hybrid, fit_floor
from models.card import write_card
from models.training import WEIGHTS_NAME, make_card, GTZAN_CLASSES
out = Path(sys.argv[1])
configure_tensorflow(1)
ms = []
for i in range(2):
    m = A.build("ours", {"stem": 8, "channels": [8, 12]}, n_classes=10, window=39)
    m.name = f"m{i}_{m.name}"
    ms.append(m)
X = np.random.default_rng(0).uniform(-80, 0, (20, 128, 387)).astype(np.float32)
scaler, lr = fit_floor(X, np.arange(20) % 10, C=0.03, medians=False, contrast_norm="low-min", codec_copies=1)
model = build_hybrid(ms, scaler, lr, floor_weight=0.5, sub_hop=39, pooling="geometric", floor_medians=False,
                     contrast_norm="low-min")
out.mkdir(parents=True, exist_ok=True)
model.save(out / WEIGHTS_NAME)
card = make_card(arch="hybrid", config={"members": 2}, classes=GTZAN_CLASSES, window=387, hop=387,
                 weights_path=out / WEIGHTS_NAME, parameters=model.count_params(), data={"file": "none"},
                 training={}, metrics={})
write_card(out, card)
"""


def _windows(n: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = np.cumsum(rng.normal(0, 2, (n, 128, 1)), axis=1) + np.cumsum(rng.normal(0, 1, (n, 1, 387)), axis=2)
    x = base + rng.normal(0, 3, (n, 128, 387))
    x = -80 + 80 * (x - x.min(axis=(1, 2), keepdims=True)) / np.ptp(x, axis=(1, 2), keepdims=True)
    return x.astype(np.float32)


@pytest.fixture(scope="module")
def calibrated_hybrid(tmp_path_factory):
    """A small contrast-normalising hybrid, exported to LiteRT, in two copies: the network's own
    probabilities and the same files with a temperature of 2.5 in the card."""
    root = tmp_path_factory.mktemp("calibrated")
    raw = root / "raw"
    subprocess.run([sys.executable, "-c", _BUILD, str(raw)], cwd=ROOT, check=True, capture_output=True, timeout=300)
    done = subprocess.run([sys.executable, "-m", "models.export", str(raw)], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    cal = root / "cal"
    shutil.copytree(raw, cal)
    card = read_card(cal)
    write_card(cal, {**card, "calibration": {"temperature": 2.5}})
    return raw, cal


@pytest.mark.parametrize("runtime", ["keras", "litert"])
def test_both_runtimes_apply_the_cards_temperature(calibrated_hybrid, runtime):
    from models.genre import GenreModel

    raw_dir, cal_dir = calibrated_hybrid
    raw = GenreModel.load(raw_dir, runtime=runtime, threads=1)
    cal = GenreModel.load(cal_dir, runtime=runtime, threads=1)
    assert raw.temperature == 1.0 and cal.temperature == 2.5
    X = _windows(3)
    (rp, re, rt), (cp, ce, ct) = raw.analyse_windows_timeline(X), cal.analyse_windows_timeline(X)
    np.testing.assert_allclose(cp, apply_temperature(rp, 2.5), atol=1e-5)
    np.testing.assert_allclose(ct, apply_temperature(rt, 2.5), atol=1e-5)
    np.testing.assert_array_equal(ce, re)  # embeddings are not probabilities
    assert np.abs(cp - rp).max() > 1e-3  # the temperature does change what the user sees
    track = cal.analyse_track(np.concatenate(list(X), axis=1))
    np.testing.assert_allclose(track["track_probs"], cp.mean(0), atol=1e-5)
    np.testing.assert_allclose(cal.predict_logmel(X[0])[1], cp[0], atol=1e-5)


def test_litert_and_keras_agree_on_the_contrast_normalising_hybrid(calibrated_hybrid):
    from models.genre import GenreModel

    _, cal_dir = calibrated_hybrid
    X = _windows(4, seed=3)
    lite = GenreModel.load(cal_dir, runtime="litert", threads=1).analyse_windows(X)[0]
    keras_ = GenreModel.load(cal_dir, runtime="keras", threads=1).analyse_windows(X)[0]
    np.testing.assert_allclose(lite, keras_, atol=1e-4)
    # and it gives one answer whatever the front end's min-max stretch
    again = GenreModel.load(cal_dir, runtime="litert", threads=1).analyse_windows(X * 0.85)[0]
    np.testing.assert_allclose(again, lite, atol=1e-4)


@pytest.mark.parametrize("method", ["top-bands", "low-min", "mean"])
def test_contrast_normalise_cancels_any_stretch_and_matches_the_keras_layer(method):
    from models.layers import ContrastNormalise

    X = _windows(3, seed=5)
    for s in (0.8, 1.0, 1.25):
        np.testing.assert_allclose(contrast_normalise(X * s, method=method), contrast_normalise(X, method=method),
                                   rtol=1e-5, atol=1e-3)
    got = np.asarray(ContrastNormalise(method)(X))
    np.testing.assert_allclose(got, contrast_normalise(X, method=method), rtol=1e-5, atol=1e-3)
    if method == "top-bands":  # what a resampler's anti-alias filter does to 10.2-11 kHz changes nothing
        cut = X.copy()
        cut[:, 126] -= 6.0
        cut[:, 127] = -80.0
        cut = -80 + 80 * (cut - cut.min(axis=(1, 2), keepdims=True)) / np.ptp(cut, axis=(1, 2), keepdims=True)
        np.testing.assert_allclose(contrast_normalise(cut, method=method), contrast_normalise(X, method=method),
                                   rtol=1e-5, atol=1e-3)
        out = contrast_normalise(X, method=method)
        np.testing.assert_array_equal(out[:, 126], out[:, 125])
        np.testing.assert_array_equal(out[:, 127], out[:, 125])
    elif method == "low-min":  # a window whose quiet low bands reach -80 dB is left as it is
        floored = X.copy()
        floored[:, :40, :10] = -80.0
        np.testing.assert_allclose(contrast_normalise(floored), floored, atol=1e-4)
    else:
        np.testing.assert_allclose(contrast_normalise(X, method="mean")[:, :112].mean(axis=(1, 2)), -40.0, atol=1e-3)
    with pytest.raises(ValueError):
        contrast_normalise(X, method="median")


def test_a_perfectly_calibrated_model_still_measures_an_ece_above_zero_on_few_clips():
    from models.metrics import ece_of_calibrated

    conf = np.random.default_rng(2).uniform(0.3, 0.95, 197)
    floor = ece_of_calibrated(conf, draws=500)
    assert 0.03 < np.median(floor) < 0.15  # the sampling floor of 197 clips
    assert np.median(ece_of_calibrated(np.tile(conf, 50), draws=50)) < np.median(floor) / 4  # it shrinks with n
    # each draw is expected_calibration_error of the clips it drew
    rng = np.random.default_rng(0)
    right = rng.random(len(conf)) < conf
    probs = np.zeros((len(conf), 10))
    probs[:, 0], probs[:, 1:] = conf, ((1 - conf) / 9)[:, None]
    assert ece_of_calibrated(conf, draws=1, seed=0)[0] == pytest.approx(
        expected_calibration_error(probs, np.where(right, 0, 1)))


def test_codec_augment_gives_what_the_front_end_could_have_given():
    X = _windows(6, seed=7)
    before = X.copy()
    out = codec_augment(X, rng=np.random.default_rng(0), p=1.0)
    assert out is X
    assert np.allclose(X.max(axis=(1, 2)), 0.0) and np.allclose(X.min(axis=(1, 2)), -80.0, atol=1e-3)
    assert np.abs(X - before).mean() > 0.5  # something happened
    top, low = np.abs(X - before)[:, 120:].mean(), np.abs(X - before)[:, :60].mean()
    assert top > low  # most of it in the top bands (the low-pass)
    Y = before.copy()
    codec_augment(Y, rng=np.random.default_rng(0), p=0.0)
    np.testing.assert_array_equal(Y, before)
    with pytest.raises(ValueError):
        codec_augment(Y, rng=np.random.default_rng(0), p=1.5)


def test_the_shipped_card_records_its_calibration():
    from models.card import SHIPPED_DIR, temperature_of

    card = read_card(SHIPPED_DIR)
    cal = card["calibration"]
    assert temperature_of(card) == cal["temperature"] > 0
    assert "out-of-fold" in cal["fitted_on"] and "valid" not in cal["fitted_on"] and cal["clips"] == 442
    # measured once, on valid, after the fit (bench/bench_calibration.py prints the same)
    assert cal["valid_ece_15_after"] < cal["valid_ece_15_before"]
    assert cal["uncalibrated_version"] != card["version"]  # results stored before it are re-analysed
    # it names the weights' own version (no temperature), whichever temperature came before
    from models.training import version_hash

    assert cal["uncalibrated_version"].endswith("-" + version_hash(card["weights_sha256"]))
    json.dumps(cal)  # plain JSON
