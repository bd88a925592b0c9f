"""The shipped "ours": CNN members and the hand-made-feature floor in one Keras model.

Input: one 30 s excerpt window ``(128, 387)`` (the front end's own normalisation unit), first
contrast-normalised when the members were trained so (``models.layers.ContrastNormalise``: the
answer then does not depend on the front end's min-max stretch, which encoders and resamplers
change).
- CNN branch: each member (trained on 3 s crops) runs on the excerpt's 3 s sub-windows
  (``Frames``: width = member window, hop as at evaluation); its window probabilities are
  averaged (``GroupMean``), then averaged over members.
- Floor branch: ``ClipStatistics`` (the numpy features of ``models.handcrafted.window_features``,
  re-computed in Keras) -> standardisation -> multinomial logistic regression fitted on the
  TRAIN clips with scikit-learn, weights copied into a Dense softmax.
- Output: ``w * floor + (1 - w) * cnn`` (``pooling="arithmetic"``) or the normalised product of
  experts ``softmax(w log floor + (1 - w) log cnn)`` (``pooling="geometric"``); the embedding is the members' trunk embeddings, averaged
  over the sub-windows and concatenated.
- Third output ``timeline`` ``(batch, n_sub, C)``: the same mix per 3 s sub-window -- the window's
  floor with the members' average on that sub-window -- so the app can show the genre of the
  current moment at 3 s resolution (its mean over the sub-windows is close to, not equal to,
  ``probs``, which stays the model's answer for the window).
"""
from __future__ import annotations

import numpy as np

from core.features import EXCERPT_COLUMNS, N_MELS

#: how the floor and the CNN part are mixed (module docstring)
POOLINGS = ("arithmetic", "geometric")


def floor_inputs(X: np.ndarray, y: np.ndarray, *, contrast_norm: bool = False, codec_copies: int = 0,
                 seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The clips the floor is fitted on: ``X`` and ``codec_copies`` copies given
    ``models.data.codec_augment`` (every clip, a new draw per copy), contrast-normalised when the
    hybrid normalises its input (``contrast_norm``).  Returns ``(X, y)``."""
    from models.data import codec_augment, contrast_normalise, norm_method

    X = np.asarray(X, np.float32)
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    parts = [X] + [codec_augment(X.copy(), rng=rng, p=1.0) for _ in range(int(codec_copies))]
    Xa = np.concatenate(parts) if len(parts) > 1 else X
    method = norm_method(contrast_norm)
    return (contrast_normalise(Xa, method=method) if method else Xa), np.tile(y, len(parts))


def fit_floor(X_train: np.ndarray, y_train: np.ndarray, *, C: float = 0.03, n_classes: int = 10, smooth: int = 1,
              medians: bool = True, n_mfcc: int = 20, n_bands: int = 16, contrast_norm: bool = False,
              codec_copies: int = 0, seed: int = 0, shape: bool = True):
    """Standardiser + logistic regression on ``window_features`` of whole train clips (pass the
    same ``smooth``, ``medians``, ``shape``, ``n_mfcc``, ``n_bands`` and ``contrast_norm`` to
    ``build_hybrid(floor_...=...)``); ``codec_copies``: see :func:`floor_inputs`."""
    from models.handcrafted import window_features_of

    X, y = floor_inputs(X_train, y_train, contrast_norm=contrast_norm, codec_copies=codec_copies, seed=seed)
    F = window_features_of(X, n_mfcc=n_mfcc, n_bands=n_bands, smooth=smooth, medians=medians, shape=shape)
    return _fit_floor_features(F, y, C=C, n_classes=n_classes)


def _fit_floor_features(F: np.ndarray, y: np.ndarray, *, C: float, n_classes: int):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(F)
    lr = LogisticRegression(C=C, max_iter=5000).fit(scaler.transform(F), y)
    if list(lr.classes_) != list(range(n_classes)):
        raise ValueError("every class must occur in the training clips")
    return scaler, lr


def oof_floor_probs(X_train: np.ndarray, y_train: np.ndarray, folds: np.ndarray, *, C: float = 0.03,
                    n_classes: int = 10, smooth: int = 1, medians: bool = True, shape: bool = True, n_mfcc: int = 20,
                    n_bands: int = 16, contrast_norm: bool = False, codec_copies: int = 0,
                    seed: int = 0) -> np.ndarray:
    """Out-of-fold floor probabilities of the train clips: for each fold, the floor fitted on the
    other folds (``fit_floor``, with the same ``contrast_norm`` and ``codec_copies``) predicts
    its clips as they are.  ``(n_train, n_classes)``."""
    from models.data import contrast_normalise, norm_method
    from models.handcrafted import window_features_of

    X_train = np.asarray(X_train, np.float32)
    method = norm_method(contrast_norm)
    y_train = np.asarray(y_train)
    feats = dict(n_mfcc=n_mfcc, n_bands=n_bands, smooth=smooth, medians=medians, shape=shape)
    held_F = window_features_of(contrast_normalise(X_train, method=method) if method else X_train, **feats)
    out = np.zeros((len(y_train), n_classes), np.float64)
    for f in np.unique(folds):
        fit, held = folds != f, folds == f
        Xf, yf = floor_inputs(X_train[fit], y_train[fit], contrast_norm=contrast_norm, codec_copies=codec_copies,
                              seed=seed)
        scaler, lr = _fit_floor_features(window_features_of(Xf, **feats), yf, C=C, n_classes=n_classes)
        out[held] = lr.predict_proba(scaler.transform(held_F[held]))
    return out


def fit_mix_weight(p_floor: np.ndarray, p_cnn: np.ndarray, y: np.ndarray, *, pooling: str = "geometric",
                   eps: float = 1e-6) -> dict:
    """The floor weight ``w`` that minimises the log-loss of the mix on out-of-fold predictions.

    Geometric: ``softmax(a log floor + b log cnn)`` is fitted over ``a, b >= 0`` (the product of
    experts with a free temperature) and ``w = a / (a + b)``: the argmax depends only on ``w``,
    the temperature only rescales how sure the mix says it is.  Arithmetic: ``w`` on a grid.
    Returns ``w``, the fitted scale ``a + b``, and the out-of-fold log-loss and accuracy at ``w``
    and at 0.5, for the record."""
    from scipy.optimize import minimize

    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, not {pooling!r}")
    y = np.asarray(y)
    lf, lc = np.log(np.asarray(p_floor, np.float64) + eps), np.log(np.asarray(p_cnn, np.float64) + eps)
    rows = np.arange(len(y))

    def mixed(w, scale=1.0):
        if pooling == "arithmetic":
            p = w * np.exp(lf) + (1 - w) * np.exp(lc)
            return p / p.sum(1, keepdims=True)
        z = scale * (w * lf + (1 - w) * lc)
        z -= z.max(1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(1, keepdims=True)

    def nll(p):
        return float(-np.log(p[rows, y] + 1e-12).mean())

    if pooling == "geometric":
        def obj(ab):
            a, b = np.abs(ab)
            s = a + b
            return nll(mixed(a / s if s > 0 else 0.5, s))
        res = min((minimize(obj, x0, method="Nelder-Mead", options={"xatol": 1e-4, "fatol": 1e-7, "maxiter": 4000})
                   for x0 in ([0.5, 0.5], [0.8, 0.2], [0.2, 0.8])), key=lambda r: r.fun)
        a, b = np.abs(res.x)
        w, scale = float(a / (a + b)), float(a + b)
    else:
        grid = np.linspace(0, 1, 101)
        w = float(grid[int(np.argmin([nll(mixed(g)) for g in grid]))])
        scale = 1.0
    curve = {f"{g:.1f}": float((mixed(g, scale).argmax(1) == y).mean()) for g in np.linspace(0, 1, 11)}
    at_w, at_half = mixed(w, scale), mixed(0.5, scale)
    return {"floor_weight": w, "scale": scale, "pooling": pooling, "clips": int(len(y)),
            "log_loss": nll(at_w), "accuracy": float((at_w.argmax(1) == y).mean()),
            "log_loss_at_0.5": nll(at_half), "accuracy_at_0.5": float((at_half.argmax(1) == y).mean()),
            "floor_accuracy": float((lf.argmax(1) == y).mean()), "cnn_accuracy": float((lc.argmax(1) == y).mean()),
            "accuracy_by_weight": curve}


def floor_branch(inp, scaler, lr, smooth: int = 1, medians: bool = True, n_mfcc: int = 20, n_bands: int = 16,
                 shape: bool = True):
    from keras import layers

    from models.layers import ClipStatistics

    f = ClipStatistics(n_mfcc=n_mfcc, n_bands=n_bands, smooth=smooth, medians=medians, shape=shape,
                       name="clip_statistics")(inp)
    if int(f.shape[-1]) != len(scaler.mean_):
        raise ValueError(f"the floor was fitted on {len(scaler.mean_)} features, the layer gives {f.shape[-1]} "
                         "(pass the same smooth/medians/shape/n_mfcc/n_bands to fit_floor and build_hybrid)")
    var = np.where(scaler.var_ > 0, scaler.var_, 1.0)
    f = layers.Normalization(axis=-1, mean=scaler.mean_, variance=var, name="floor_standardise")(f)
    dense = layers.Dense(lr.coef_.shape[0], activation="softmax", name="floor_logreg")
    out = dense(f)
    dense.set_weights([lr.coef_.T.astype(np.float32), lr.intercept_.astype(np.float32)])
    return out


def build_hybrid(members: list, scaler, lr, *, floor_weight: float, sub_hop: int, window: int = EXCERPT_COLUMNS,
                 pooling: str = "arithmetic", floor_smooth: int = 1, floor_medians: bool = True,
                 floor_mfcc: int = 20, floor_bands: int = 16, contrast_norm: bool | str = False,
                 floor_shape: bool = True):
    """One Keras model with outputs ``[probs, embedding, timeline]`` (see the module docstring).
    ``contrast_norm``: the window is first ``models.layers.ContrastNormalise``d (members trained
    and floor fitted on ``models.data.contrast_normalise``d clips)."""
    import keras
    from keras import layers

    from models.data import norm_method
    from models.layers import ContrastNormalise, Frames, GroupMean, LogLinearPool, Regroup, WeightedAverage

    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, not {pooling!r}")

    raw = keras.Input(shape=(N_MELS, window), name="logmel")
    method = norm_method(contrast_norm)
    inp = ContrastNormalise(method, name="contrast_normalise")(raw) if method else raw
    sub_w = int(members[0].inputs[0].shape[-1])
    frames_layer = Frames(sub_w, sub_hop, name="sub_windows")
    n = frames_layer.n_frames(window)
    fr = frames_layer(inp)
    probs, embs, subs = [], [], []
    for i, m in enumerate(members):
        sub = keras.Model(m.inputs, [m.output, m.get_layer("embedding").output], name=f"member{i}")
        p, e = sub(fr)
        subs.append(p)
        probs.append(GroupMean(n, name=f"member{i}_track")(p))
        embs.append(GroupMean(n, name=f"member{i}_embedding")(e))
    cnn = layers.Average(name="cnn_probs")(probs) if len(probs) > 1 else layers.Identity(name="cnn_probs")(probs[0])
    cnn_sub = layers.Average(name="cnn_sub_probs")(subs) if len(subs) > 1 else subs[0]
    cnn_sub = Regroup(n, name="cnn_timeline")(cnn_sub)
    emb = layers.Concatenate(name="embedding")(embs) if len(embs) > 1 else layers.Identity(name="embedding")(embs[0])
    if floor_weight > 0:
        fl = floor_branch(inp, scaler, lr, smooth=floor_smooth, medians=floor_medians, n_mfcc=floor_mfcc,
                          n_bands=floor_bands, shape=floor_shape)
        pool = WeightedAverage if pooling == "arithmetic" else LogLinearPool
        out = pool([floor_weight, 1.0 - floor_weight], name="probs")([fl, cnn])
        fl_sub = layers.RepeatVector(n, name="floor_per_sub_window")(fl)
        timeline = pool([floor_weight, 1.0 - floor_weight], name="timeline")([fl_sub, cnn_sub])
    else:
        out = layers.Identity(name="probs")(cnn)
        timeline = layers.Identity(name="timeline")(cnn_sub)
    return keras.Model(raw, [out, emb, timeline], name="hybrid")
