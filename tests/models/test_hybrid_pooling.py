"""How the shipped hybrid mixes its two parts: ``WeightedAverage`` or the product of experts
``LogLinearPool`` (models/layers.py), and that the choice survives saving."""
from __future__ import annotations

import numpy as np
import pytest


def _probs(rng, n):
    p = rng.uniform(0.01, 1, (n, 10)).astype(np.float32)
    return p / p.sum(1, keepdims=True)


def test_log_linear_pool_is_the_normalised_weighted_geometric_mean():
    from models.layers import LogLinearPool

    rng = np.random.default_rng(0)
    a, b = _probs(rng, 5), _probs(rng, 5)
    out = np.asarray(LogLinearPool([0.5, 0.5])([a, b]))
    want = np.sqrt(a * b)
    want /= want.sum(1, keepdims=True)
    assert np.allclose(out, want, atol=1e-5)
    # a class one part rules out stays unlikely, unlike the arithmetic mean
    a[:, 3], b[:, 3] = 1e-9, 0.9
    out = np.asarray(LogLinearPool([0.5, 0.5])([a / a.sum(1, keepdims=True), b / b.sum(1, keepdims=True)]))
    assert (out[:, 3] < 0.05).all()


def test_a_geometric_hybrid_saves_and_loads_with_its_pooling(tmp_path):
    import keras

    from models import architectures as A
    from models.hybrid import build_hybrid, fit_floor

    rng = np.random.default_rng(1)
    X = rng.uniform(-80, 0, (20, 128, 387)).astype(np.float32)
    y = np.arange(20) % 10
    scaler, lr = fit_floor(X, y)
    member = A.build("ours", window=39)
    model = build_hybrid([member], scaler, lr, floor_weight=0.5, sub_hop=39, pooling="geometric")
    path = tmp_path / "h.keras"
    model.save(path)
    again = keras.models.load_model(path, compile=False)
    assert type(again.get_layer("probs")).__name__ == "LogLinearPool"
    p1, p2 = model.predict(X[:3], verbose=0)[0], again.predict(X[:3], verbose=0)[0]
    assert np.allclose(p1, p2, atol=1e-5) and np.allclose(p1.sum(1), 1, atol=1e-4)
    with pytest.raises(ValueError):
        build_hybrid([member], scaler, lr, floor_weight=0.5, sub_hop=39, pooling="median")


@pytest.mark.parametrize("smooth,medians,shape", [(1, True, True), (3, True, True), (3, False, True),
                                                  (1, False, False), (1, True, False)])
def test_the_floor_layer_computes_the_numpy_features(smooth, medians, shape):
    """The Keras floor features equal models.handcrafted's (the logistic regression is fitted on
    the numpy ones and transplanted), with and without time smoothing, medians, skew and kurtosis."""
    from models.handcrafted import smooth_time, window_features_of
    from models.layers import ClipStatistics

    rng = np.random.default_rng(2)
    X = np.clip(rng.normal(-40, 15, (3, 128, 387)), -80, 0).astype(np.float32)
    want = window_features_of(X, smooth=smooth, medians=medians, shape=shape)
    layer = ClipStatistics(smooth=smooth, medians=medians, shape=shape)
    got = np.asarray(layer(X))
    assert got.shape == want.shape == layer.compute_output_shape(X.shape)
    assert np.allclose(got, want, rtol=2e-4, atol=2e-3)
    # the same features as with every statistic, less the 52 medians and 16 band medians, or the
    # 2 x 52 skews and kurtoses (statistics of the 52 frame descriptors, in the order mean, std,
    # skew, kurtosis, median, min, max; then the 16-band means, stds, medians and changes)
    full = window_features_of(X, smooth=smooth)
    left_out = (set(range(4 * 52, 5 * 52)) | set(range(364 + 32, 364 + 48)) if not medians else set())
    left_out |= set(range(2 * 52, 4 * 52)) if not shape else set()
    keep = [i for i in range(full.shape[1]) if i not in left_out]
    assert want.shape[1] == 428 - len(left_out) and np.allclose(want, full[:, keep])
    if smooth > 1:
        S = smooth_time(X[0], smooth)
        assert np.allclose(S[:, 5], X[0][:, 4:7].mean(1), atol=1e-4)  # a centred 3-column mean
        assert np.allclose(S[:, 0], (2 * X[0][:, 0] + X[0][:, 1]) / 3, atol=1e-4)  # edge repeated
        assert not np.allclose(got, window_features_of(X, smooth=1, medians=medians), rtol=1e-3)


def test_a_constant_window_has_no_skew_or_kurtosis_in_either_implementation():
    """Silence (or any constant stretch, e.g. the -80 dB padding of a short track) gives the
    floor the same features in numpy and Keras, whatever float noise the runtime adds."""
    from models.handcrafted import window_features_of
    from models.layers import ClipStatistics

    X = np.stack([np.full((128, 387), -80.0, np.float32), np.full((128, 387), -40.0, np.float32)])
    want = window_features_of(X, smooth=3)
    got = np.asarray(ClipStatistics(smooth=3)(X))
    assert np.isfinite(want).all() and np.allclose(got, want, rtol=1e-4, atol=1e-3)


def test_the_hybrid_has_a_3_second_timeline_consistent_with_its_window_answer():
    """The third output: one distribution per 3 s sub-window.  Without the floor it is the
    members' average per sub-window, whose mean over the window is exactly the window's answer;
    with the floor each sub-window is mixed with the window's floor the same way as the window."""
    from models import architectures as A
    from models.hybrid import build_hybrid, fit_floor
    from core.features import window_starts

    rng = np.random.default_rng(4)
    X = rng.uniform(-80, 0, (20, 128, 387)).astype(np.float32)
    scaler, lr = fit_floor(X, np.arange(20) % 10, smooth=3, medians=False)
    members = [A.build("ours", {"stem": 8, "channels": [8, 12]}, window=39) for _ in range(2)]
    n_sub = len(window_starts(387, width=39, hop=39))
    assert n_sub == 10
    plain = build_hybrid(members, scaler, lr, floor_weight=0.0, sub_hop=39)
    p, e, t = (np.asarray(o) for o in plain(X[:3]))
    assert t.shape == (3, n_sub, 10) and np.allclose(t.sum(-1), 1, atol=1e-4)
    assert np.allclose(t.mean(axis=1), p, atol=1e-5)
    mixed = build_hybrid(members, scaler, lr, floor_weight=0.5, sub_hop=39, pooling="geometric", floor_smooth=3,
                         floor_medians=False)
    p2, _, t2 = (np.asarray(o) for o in mixed(X[:3]))
    assert t2.shape == (3, n_sub, 10) and np.allclose(t2.sum(-1), 1, atol=1e-4)
    # sub-window k of a window is softmax(0.5 log floor + 0.5 log cnn_k): comparing two sub-windows
    # of one window cancels the floor, leaving half the plain timeline's log-ratio (up to a constant)
    r_mixed = np.log(t2[:, 0] + 1e-6) - np.log(t2[:, 1] + 1e-6)
    r_plain = 0.5 * (np.log(t[:, 0] + 1e-6) - np.log(t[:, 1] + 1e-6))
    assert np.allclose(r_mixed - r_mixed.mean(-1, keepdims=True), r_plain - r_plain.mean(-1, keepdims=True), atol=1e-3)


@pytest.mark.parametrize("n", [21, 22])
def test_band_percentiles_without_a_sort_equal_numpys_with_ties(n):
    """The floor's band contrast takes the 10th and 90th percentile of a band's 21-22 bins from its
    few smallest / largest values (no sort: cheaper in LiteRT); equal to numpy's, ties included
    (silent columns are all -80 dB)."""
    from models.layers import _band_percentile

    rng = np.random.default_rng(n)
    x = np.round(rng.uniform(-80, 0, (4, 50, n)), 0).astype(np.float32)  # whole dB: many ties
    x[:, :10] = -80.0
    x[:, 10:13, :5] = -80.0
    for q in (10, 90):
        got = np.asarray(_band_percentile(x, q))
        assert np.allclose(got, np.percentile(x, q, axis=-1), atol=1e-4), q


def test_the_floor_can_use_more_mfccs_and_bands_and_a_mismatch_is_refused():
    from models import architectures as A
    from models.handcrafted import window_features_of
    from models.hybrid import build_hybrid, fit_floor

    rng = np.random.default_rng(2)
    X = rng.uniform(-80, 0, (20, 128, 387)).astype(np.float32)
    y = np.arange(20) % 10
    scaler, lr = fit_floor(X, y, n_mfcc=30, n_bands=32, smooth=3, medians=False)
    assert len(scaler.mean_) == window_features_of(X[:1], n_mfcc=30, n_bands=32, smooth=3, medians=False).shape[1]
    member = A.build("ours", window=39)
    model = build_hybrid([member], scaler, lr, floor_weight=1.0, sub_hop=39, pooling="geometric", floor_smooth=3,
                         floor_medians=False, floor_mfcc=30, floor_bands=32)
    # with all the weight on the floor, the model's answer is the logistic regression's
    want = lr.predict_proba(scaler.transform(window_features_of(X[:4], n_mfcc=30, n_bands=32, smooth=3, medians=False)))
    np.testing.assert_allclose(model.predict(X[:4], verbose=0)[0], want, atol=2e-3)
    with pytest.raises(ValueError, match="features"):
        build_hybrid([member], scaler, lr, floor_weight=0.5, sub_hop=39, floor_smooth=3, floor_medians=False)
