"""The genre networks, one function per architecture, each built from a config dict.

Every Keras model here takes the raw model window of the front end, shape ``(N_MELS, window)``
(dB in [-80, 0], exactly what ``core.features.windows`` returns), so the app never needs to
know which features a model uses: per-band normalisation and MFCCs (a frozen DCT-II layer,
``core.features.dct_matrix``, the transform of ``core.features.mfcc_from_logmel``) are layers inside the model.

Each model outputs softmax probabilities over the classes and has one layer named
``"embedding"``: the pooled output of its trunk, used as the window embedding (recommender).

The non-deep floor (``floor_svm`` / ``floor_logreg``) is a scikit-learn pipeline over per-clip
statistics (see ``models.handcrafted``).

TensorFlow/Keras is imported inside the functions: importing this module is cheap.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from core.features import N_MELS, dct_matrix

#: arch name -> (builder, default config).  Filled by ``_register``.
ARCHITECTURES: dict[str, tuple[Callable[..., Any], dict]] = {}
#: arch names whose model is scikit-learn over per-clip statistics, not a window network.
SKLEARN_ARCHS = ("floor_svm", "floor_logreg")


def _register(name: str, defaults: dict):
    def deco(fn):
        ARCHITECTURES[name] = (fn, dict(defaults))
        return fn

    return deco


def default_config(arch: str) -> dict:
    if arch not in ARCHITECTURES:
        raise KeyError(f"unknown architecture {arch!r}; known: {', '.join(sorted(ARCHITECTURES))}")
    return dict(ARCHITECTURES[arch][1])


def build(arch: str, config: dict | None = None, *, n_classes: int = 10, window: int, stats: dict | None = None):
    """Build architecture ``arch`` with ``config`` (missing keys from its defaults).

    ``stats`` holds the per-feature normalisation fitted on the training clips:
    ``{"logmel": (mean[128], var[128]), "mfcc": (mean[n], var[n])}`` (either may be absent,
    then no normalisation is applied for that feature).
    """
    fn, defaults = ARCHITECTURES[arch] if arch in ARCHITECTURES else (None, None)
    if fn is None:
        raise KeyError(f"unknown architecture {arch!r}; known: {', '.join(sorted(ARCHITECTURES))}")
    cfg = dict(defaults)
    cfg.update(config or {})
    return fn(cfg, n_classes=n_classes, window=window, stats=stats or {})


# --------------------------------------------------------------------------- shared pieces


def _l2(cfg):
    from keras import regularizers

    v = float(cfg.get("l2", 0.0) or 0.0)
    return regularizers.L2(v) if v > 0 else None


def _features(cfg: dict, window: int, stats: dict):
    """Input layer and the time-major feature sequence ``(window, F)`` (normalised).

    ``cfg["smooth"]`` (odd, default 1 = off): a moving average over that many columns first
    (``AveragePooling1D``, stride 1; at the edges the mean of the columns there), for log-mels
    that were averaged over frames where the training arrays point-sample them; no shipped member
    uses it."""
    import keras
    from keras import layers

    inp = keras.Input(shape=(N_MELS, window), name="logmel")
    x = layers.Permute((2, 1), name="time_major")(inp)  # (window, 128)
    k = int(cfg.get("smooth", 1))
    if k > 1:
        if k % 2 == 0:
            raise ValueError(f"smooth must be odd, got {k}")
        x = layers.AveragePooling1D(k, strides=1, padding="same", name="smooth_time")(x)
    feature = cfg.get("feature", "logmel")
    if feature == "mfcc":
        n = int(cfg.get("n_mfcc", 20))
        dct = layers.Dense(n, use_bias=False, trainable=False, name="mfcc_dct")
        x = dct(x)
        dct.set_weights([dct_matrix(N_MELS, n)])
    elif feature != "logmel":
        raise ValueError(f"unknown feature {feature!r} (logmel or mfcc)")
    if feature in stats and stats[feature] is not None:
        mean, var = stats[feature]
        x = layers.Normalization(axis=-1, mean=np.asarray(mean), variance=np.asarray(var), name="norm")(x)
    else:  # a fixed, data-independent scaling of dB values
        x = layers.Rescaling(1.0 / 20.0, offset=2.0 if feature == "logmel" else 0.0, name="norm")(x)
    return inp, x


def _head(x, cfg, n_classes, dense=(), dropout=0.0):
    from keras import layers

    for i, units in enumerate(dense):
        x = layers.Dense(units, activation="relu", kernel_regularizer=_l2(cfg), name=f"dense{i}")(x)
        if dropout:
            x = layers.Dropout(dropout, name=f"drop{i}")(x)
    return layers.Dense(n_classes, activation="softmax", name="probs")(x)


def _model(inp, out, name):
    import keras

    return keras.Model(inp, out, name=name)


# --------------------------------------------------------------------------- 1. CNN-1D (MFCC)


@_register("cnn1d", {"feature": "mfcc", "n_mfcc": 20, "filters": [256, 128], "kernel": 3, "dense": 512,
                     "dropout": 0.5, "l2": 0.001})
def cnn1d(cfg, *, n_classes, window, stats):
    """Two Conv1D (256, 128; width 3) with BN, max-pool 2 between, global max-pool, dense 512."""
    from keras import layers

    inp, x = _features(cfg, window, stats)
    f1, f2 = cfg["filters"]
    x = layers.Conv1D(f1, cfg["kernel"], padding="same", kernel_regularizer=_l2(cfg))(x)
    x = layers.Activation("relu")(layers.BatchNormalization()(x))
    x = layers.MaxPooling1D(2)(x)
    x = layers.Conv1D(f2, cfg["kernel"], padding="same", kernel_regularizer=_l2(cfg))(x)
    x = layers.Activation("relu")(layers.BatchNormalization()(x))
    emb = layers.GlobalMaxPooling1D(name="embedding")(x)
    return _model(inp, _head(emb, cfg, n_classes, [cfg["dense"]], cfg["dropout"]), "cnn1d")


# --------------------------------------------------------------------------- 2. CNN-2D (log-mel)


@_register("cnn2d", {"feature": "logmel", "filters": [128, 64, 64], "kernels": [3, 3, 2], "dense": 128,
                     "dropout": 0.4, "l2": 0.001})
def cnn2d(cfg, *, n_classes, window, stats):
    """Conv2D 128/64/64 with 3x3, 3x3, 2x2 kernels, each followed by 2x2 max-pool; dense 128."""
    from keras import layers

    inp, x = _features(cfg, window, stats)
    x = layers.Reshape((window, -1, 1))(x)  # (time, freq, 1)
    for f, k in zip(cfg["filters"], cfg["kernels"]):
        x = layers.Conv2D(f, k, padding="same", activation="relu", kernel_regularizer=_l2(cfg))(x)
        x = layers.MaxPooling2D(2, padding="same")(x)
        x = layers.BatchNormalization()(x)
    emb = layers.GlobalAveragePooling2D(name="embedding")(x)
    return _model(inp, _head(emb, cfg, n_classes, [cfg["dense"]], cfg["dropout"]), "cnn2d")


# --------------------------------------------------------------------------- 3. LSTM


@_register("lstm", {"feature": "mfcc", "n_mfcc": 20, "units": [128, 64], "dense": 64, "dropout": 0.3})
def lstm(cfg, *, n_classes, window, stats):
    """Two LSTM layers (128 then 64 units), dense 64."""
    from keras import layers

    inp, x = _features(cfg, window, stats)
    u1, u2 = cfg["units"]
    x = layers.LSTM(u1, return_sequences=True)(x)
    emb = layers.LSTM(u2, name="embedding")(x)
    return _model(inp, _head(emb, cfg, n_classes, [cfg["dense"]], cfg["dropout"]), "lstm")


# --------------------------------------------------------------------------- 4. CRNN


@_register("crnn", {"feature": "logmel", "filters": [64, 128, 128], "kernel": 3, "units": 128, "dense": 64,
                    "dropout": 0.3})
def crnn(cfg, *, n_classes, window, stats):
    """Three Conv1D-BN-ReLU-MaxPool blocks along time, LSTM 128, dense 64."""
    from keras import layers

    inp, x = _features(cfg, window, stats)
    for f in cfg["filters"]:
        x = layers.Conv1D(f, cfg["kernel"], padding="same")(x)
        x = layers.Activation("relu")(layers.BatchNormalization()(x))
        x = layers.MaxPooling1D(2, padding="same")(x)
    emb = layers.LSTM(cfg["units"], name="embedding")(x)
    return _model(inp, _head(emb, cfg, n_classes, [cfg["dense"]], cfg["dropout"]), "crnn")


# --------------------------------------------------------------------------- 5. parallel CNN + GRU


@_register("parallel", {"feature": "logmel", "filters": [16, 32, 64, 64], "gru": 64, "freq_pool": 4,
                        "dropout": 0.3})
def parallel(cfg, *, n_classes, window, stats):
    """A 2D CNN branch and a GRU branch over the same input, concatenated, softmax."""
    from keras import layers

    inp, x = _features(cfg, window, stats)
    c = layers.Reshape((window, -1, 1))(x)
    for f in cfg["filters"]:
        c = layers.Conv2D(f, 3, padding="same")(c)
        c = layers.Activation("relu")(layers.BatchNormalization()(c))
        c = layers.MaxPooling2D(2, padding="same")(c)
    c = layers.GlobalMaxPooling2D()(c)
    # GRU branch: pool frequency first (128 -> 32 bands) so the recurrence stays cheap
    g = layers.Reshape((window, -1, 1))(x)
    g = layers.AveragePooling2D((1, cfg["freq_pool"]), padding="same")(g)
    g = layers.Reshape((window, -1))(g)
    g = layers.GRU(cfg["gru"])(g)
    emb = layers.Concatenate(name="embedding")([c, g])
    if cfg["dropout"]:
        emb2 = layers.Dropout(cfg["dropout"])(emb)
    else:
        emb2 = emb
    return _model(inp, _head(emb2, cfg, n_classes), "parallel")


# --------------------------------------------------------------------------- 6. Conv1D x3 + LSTM


@_register("conv1d_lstm", {"feature": "logmel", "filters": 256, "kernel": 5, "units": 256, "dropout": 0.3})
def conv1d_lstm(cfg, *, n_classes, window, stats):
    """Three Conv1D layers of 256 filters (width 5) with max-pool, then LSTM 256, softmax."""
    from keras import layers

    inp, x = _features(cfg, window, stats)
    for _ in range(3):
        x = layers.Conv1D(cfg["filters"], cfg["kernel"], padding="same", activation="relu")(x)
        x = layers.MaxPooling1D(2, padding="same")(x)
    emb = layers.LSTM(cfg["units"], name="embedding")(x)
    if cfg["dropout"]:
        emb = layers.Dropout(cfg["dropout"])(emb)
    return _model(inp, _head(emb, cfg, n_classes), "conv1d_lstm")


# --------------------------------------------------------------------------- 7. "preprocessor" CNN


@_register("preproc", {"feature": "logmel", "filters": [256, 128], "widths": [4, 2], "dense": [1024, 128],
                       "dropout": 0.5})
def preproc(cfg, *, n_classes, window, stats):
    """256 kernels spanning all 128 bands x 4 frames, max-pool 2, 128 kernels of width 2,
    max-pool; the trunk's global max-pool is the embedding, then dense 1024 and 128 with dropout.

    A kernel spanning all bands is a Conv1D over the time-major sequence (bands as channels).
    """
    from keras import layers

    inp, x = _features(cfg, window, stats)
    (f1, f2), (w1, w2) = cfg["filters"], cfg["widths"]
    x = layers.Conv1D(f1, w1, padding="same", activation="relu", name="band_conv")(x)
    x = layers.MaxPooling1D(2, padding="same")(x)
    x = layers.Conv1D(f2, w2, padding="same", activation="relu")(x)
    x = layers.MaxPooling1D(2, padding="same")(x)
    emb = layers.GlobalMaxPooling1D(name="embedding")(x)
    return _model(inp, _head(emb, cfg, n_classes, cfg["dense"], cfg["dropout"]), "preproc")


# --------------------------------------------------------------------------- 9. ours


@_register("ours", {"feature": "logmel", "stem": 128, "channels": [128, 192, 256], "kernel": 3,
                    "dropout": 0.3, "l2": 0.0, "freq_pool": 1})
def ours(cfg, *, n_classes, window, stats):
    """Residual 1-D CNN over time (mel bands as channels), BN, global pooling over time.

    Stem: Conv1D (bands -> ``stem``, width 3); then per entry of ``channels`` a residual block
    (two Conv1D-BN, ReLU, 1x1 projection when the width changes) followed by max-pool 2 except
    after the last.  Embedding = concat(global average, global max) of the last block, or with
    ``pool="stats"`` concat(mean, std, max) over time (a learned version of the clip statistics
    of the floor).  ``centre=True`` first removes the window's mean spectrum
    (``models.layers.CentreOverTime``), leaving the member the changes over time.
    """
    from keras import layers

    inp, x = _features(cfg, window, stats)
    if cfg.get("centre"):
        from models.layers import CentreOverTime

        x = CentreOverTime(name="centre")(x)
    k = cfg["kernel"]
    reg = _l2(cfg)
    x = layers.Conv1D(cfg["stem"], k, padding="same", use_bias=False, kernel_regularizer=reg)(x)
    x = layers.Activation("relu")(layers.BatchNormalization()(x))
    chans = cfg["channels"]
    for i, c in enumerate(chans):
        sc = x
        if sc.shape[-1] != c:
            sc = layers.Conv1D(c, 1, use_bias=False, kernel_regularizer=reg)(sc)
            sc = layers.BatchNormalization()(sc)
        y = layers.Conv1D(c, k, padding="same", use_bias=False, kernel_regularizer=reg)(x)
        y = layers.Activation("relu")(layers.BatchNormalization()(y))
        y = layers.Conv1D(c, k, padding="same", use_bias=False, kernel_regularizer=reg)(y)
        y = layers.BatchNormalization()(y)
        x = layers.Activation("relu")(layers.Add()([sc, y]))
        if i < len(chans) - 1:
            x = layers.MaxPooling1D(2, padding="same")(x)
    if cfg.get("pool", "meanmax") == "stats":
        from models.layers import StatsPooling1D

        emb = StatsPooling1D(name="embedding")(x)
    else:
        emb = layers.Concatenate(name="embedding")([layers.GlobalAveragePooling1D()(x), layers.GlobalMaxPooling1D()(x)])
    h = layers.Dropout(cfg["dropout"])(emb) if cfg["dropout"] else emb
    return _model(inp, _head(h, cfg, n_classes), "ours")


@_register("ours2d", {"feature": "logmel", "channels": [24, 48, 96, 160], "dropout": 0.3, "l2": 0.0})
def ours2d(cfg, *, n_classes, window, stats):
    """Small residual 2-D CNN (time x frequency), BN, 2x2 pooling, global mean+max pooling."""
    from keras import layers

    inp, x = _features(cfg, window, stats)
    reg = _l2(cfg)
    x = layers.Reshape((window, -1, 1))(x)
    chans = cfg["channels"]
    x = layers.Conv2D(chans[0], 3, padding="same", use_bias=False, kernel_regularizer=reg)(x)
    x = layers.Activation("relu")(layers.BatchNormalization()(x))
    x = layers.MaxPooling2D((1, 2), padding="same")(x)  # frequency only: 128 -> 64 bands
    for i, c in enumerate(chans[1:]):
        if cfg.get("block", "residual") == "plain":  # one conv per stage: cheaper
            x = layers.Conv2D(c, 3, padding="same", use_bias=False, kernel_regularizer=reg)(x)
            x = layers.Activation("relu")(layers.BatchNormalization()(x))
            x = layers.MaxPooling2D(2, padding="same")(x)
            continue
        sc = layers.BatchNormalization()(layers.Conv2D(c, 1, use_bias=False, kernel_regularizer=reg)(x))
        y = layers.Conv2D(c, 3, padding="same", use_bias=False, kernel_regularizer=reg)(x)
        y = layers.Activation("relu")(layers.BatchNormalization()(y))
        y = layers.Conv2D(c, 3, padding="same", use_bias=False, kernel_regularizer=reg)(y)
        y = layers.BatchNormalization()(y)
        x = layers.Activation("relu")(layers.Add()([sc, y]))
        x = layers.MaxPooling2D(2, padding="same")(x)
    x = layers.Reshape((-1, x.shape[-1]))(x)
    emb = layers.Concatenate(name="embedding")([layers.GlobalAveragePooling1D()(x), layers.GlobalMaxPooling1D()(x)])
    h = layers.Dropout(cfg["dropout"])(emb) if cfg["dropout"] else emb
    return _model(inp, _head(h, cfg, n_classes), "ours2d")


# --------------------------------------------------------------------------- ensembles


def ensemble(members: list, *, name: str = "ensemble"):
    """One Keras model that averages the members' probabilities.

    Two outputs: ``probs`` (the mean of the members' softmax outputs) and ``embedding`` (the
    members' embeddings concatenated).  Members must share the input shape.
    """
    import keras
    from keras import layers

    window = int(members[0].inputs[0].shape[-1])
    inp = keras.Input(shape=(N_MELS, window), name="logmel")
    probs, embs = [], []
    for i, m in enumerate(members):
        sub = keras.Model(m.inputs, [m.output, m.get_layer("embedding").output], name=f"member{i}")
        p, e = sub(inp)
        probs.append(p)
        embs.append(e)
    out = layers.Average(name="probs")(probs) if len(probs) > 1 else layers.Identity(name="probs")(probs[0])
    emb = layers.Concatenate(name="embedding")(embs) if len(embs) > 1 else layers.Identity(name="embedding")(embs[0])
    return keras.Model(inp, [out, emb], name=name)


# --------------------------------------------------------------------------- 8. the floor (sklearn)


@_register("floor_svm", {"C": 3.0, "gamma": "scale", "n_mfcc": 20})
def floor_svm(cfg, *, n_classes=10, window=None, stats=None):
    """Standardised per-clip statistics -> RBF SVM (C ~ 3, one-vs-one)."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    return make_pipeline(StandardScaler(), SVC(C=float(cfg["C"]), gamma=cfg["gamma"], kernel="rbf"))


@_register("floor_logreg", {"C": 1.0, "n_mfcc": 20})
def floor_logreg(cfg, *, n_classes=10, window=None, stats=None):
    """Standardised per-clip statistics -> multinomial logistic regression."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=float(cfg["C"]), max_iter=5000))
