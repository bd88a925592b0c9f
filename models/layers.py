"""Custom Keras layers (registered for .keras serialisation; import this module before loading)."""
from __future__ import annotations

import keras
import numpy as np
from keras import ops

from core.features import dct_matrix, window_starts
from models.handcrafted import DEGENERATE_ABS, DEGENERATE_REL


@keras.saving.register_keras_serializable(package="melograph")
class StatsPooling1D(keras.layers.Layer):
    """Global statistics over time of ``(batch, time, channels)``: concat(mean, std[, max])."""

    def __init__(self, with_max: bool = True, eps: float = 1e-5, **kwargs):
        super().__init__(**kwargs)
        self.with_max = bool(with_max)
        self.eps = float(eps)

    def call(self, x):
        mean = ops.mean(x, axis=1)
        var = ops.mean(ops.square(x - ops.expand_dims(mean, 1)), axis=1)
        parts = [mean, ops.sqrt(var + self.eps)]
        if self.with_max:
            parts.append(ops.max(x, axis=1))
        return ops.concatenate(parts, axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2] * (3 if self.with_max else 2))

    def get_config(self):
        return {**super().get_config(), "with_max": self.with_max, "eps": self.eps}


@keras.saving.register_keras_serializable(package="melograph")
class CentreOverTime(keras.layers.Layer):
    """Subtract each channel's mean over time from ``(batch, time, channels)``: on the log-mel, a
    window's own average spectrum (its mix, its mastering EQ, much of an artist's sound) is
    removed and what changes over time is left."""

    def call(self, x):
        return x - ops.mean(x, axis=1, keepdims=True)

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package="melograph")
class ContrastNormalise(keras.layers.Layer):
    """``models.data.contrast_normalise`` on ``(batch, 128, cols)`` log-mel windows: the front
    end's min-max stretch (a factor that encoders and resamplers change) cancelled.  ``"low-min"``
    and ``"top-bands"`` take their quantile with ``top_k`` (a LiteRT builtin)."""

    def __init__(self, method: str = "low-min", bands: int | None = None, ref: float | None = None, **kwargs):
        super().__init__(**kwargs)
        if bands is not None or ref is not None:  # a layer saved with the "mean" method's settings
            method = "mean"
        if method not in ("top-bands", "low-min", "mean"):
            raise ValueError(f"unknown contrast normalisation {method!r}")
        self.method = method

    def call(self, x):
        from models.data import (LOW_MIN_BANDS, LOW_MIN_QUANTILE, NORM_BANDS, NORM_REF_DB, TOP_BANDS_KEEP,
                                 TOP_BANDS_QUANTILE, TOP_DB, low_min_cells)

        if self.method == "mean":
            m = ops.mean(x[:, :NORM_BANDS, :], axis=(1, 2), keepdims=True)
            return x * (NORM_REF_DB / ops.minimum(m, -1.0))
        bands, q = LOW_MIN_BANDS, LOW_MIN_QUANTILE
        if self.method == "top-bands":
            bands, q = TOP_BANDS_KEEP, TOP_BANDS_QUANTILE
            n_top = int(x.shape[1]) - bands
            x = ops.concatenate([x[:, :bands, :]] + [x[:, bands - 1 : bands, :]] * n_top, axis=1)
        k = low_min_cells(int(x.shape[2]), bands=bands, q=q)
        flat = ops.reshape(x[:, :bands, :], (-1, bands * int(x.shape[2])))
        smallest, _ = ops.top_k(-flat, k)  # the k largest of -x: -(the k quietest cells)
        low = ops.reshape(smallest[:, k - 1], (-1, 1, 1))  # -(k-th quietest)
        return ops.maximum(x * (TOP_DB / ops.maximum(low, 1.0)), -TOP_DB)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "method": self.method}


def _split_sizes(n: int, k: int) -> list[int]:
    """Sizes of ``numpy.array_split(range(n), k)``."""
    q, r = divmod(n, k)
    return [q + 1] * r + [q] * (k - r)


def _smallest(x, k: int) -> list:
    """The ``k`` smallest values along the last axis of ``x``, in ascending order, exactly as a sort
    would give them (ties included: each step removes one element, the first of the minima).
    For small ``k`` much cheaper than a sort in LiteRT, whose sort is a full TOPK_V2."""
    vals = []
    for j in range(k):
        m = ops.min(x, axis=-1)
        vals.append(m)
        if j < k - 1:
            eq = ops.cast(ops.equal(x, ops.expand_dims(m, -1)), "float32")
            first = eq * ops.cast(ops.equal(ops.cumsum(eq, axis=-1), 1.0), "float32")
            x = x + first * 1e9  # out of the running (values here are dB, far below 1e9)
    return vals


def _band_percentile(x, q: float):
    """numpy's linear-interpolation percentile ``q`` along the last axis of ``x`` (a handful of
    values: a mel band's bins), from its few smallest (q < 50) or largest values."""
    n = x.shape[-1]
    pos = q / 100.0 * (n - 1)
    lo, hi = int(pos // 1), min(int(pos // 1) + 1, n - 1)
    frac = pos - lo
    if q < 50:
        v = _smallest(x, hi + 1)
        return v[lo] + (v[hi] - v[lo]) * frac
    top = [-t for t in _smallest(-x, n - lo)]  # top[j] is sorted[n - 1 - j]
    a, b = top[n - 1 - lo], top[n - 1 - hi]
    return a + (b - a) * frac


@keras.saving.register_keras_serializable(package="melograph")
class ClipStatistics(keras.layers.Layer):
    """The hand-made features of ``models.handcrafted.window_features`` as a Keras layer.

    Input ``(batch, 128, W)`` dB log-mel windows; output ``(batch, n_features)``, in the same
    order as the numpy version, so a scikit-learn model fitted on the numpy features can be
    transplanted onto it (the floor inside a Keras model).  ``smooth``: see
    ``models.handcrafted.smooth_time`` (1, the default, leaves the input as it is).
    ``medians=False``: no medians (``models.handcrafted``), so no sort over time -- in LiteRT the
    layer then costs about half (its sorts are TOPK_V2 over the whole window).  ``shape=False``:
    no skew and kurtosis.
    """

    def __init__(self, n_mfcc: int = 20, n_bands: int = 16, smooth: int = 1, medians: bool = True,
                 shape: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.n_mfcc = int(n_mfcc)
        self.n_bands = int(n_bands)
        self.smooth = int(smooth)
        self.medians = bool(medians)
        self.shape = bool(shape)
        if self.smooth < 1 or self.smooth % 2 == 0:
            raise ValueError("the smoothing width must be odd and at least 1")

    def build(self, input_shape):
        n_mels = int(input_shape[1])
        self._dct = ops.convert_to_tensor(dct_matrix(n_mels, self.n_mfcc))
        self._bins = ops.convert_to_tensor(np.arange(n_mels, dtype=np.float32).reshape(1, n_mels, 1))
        self._splits = _split_sizes(n_mels, 6)

    def _stats7(self, D):
        mean = ops.mean(D, axis=2)
        c = D - ops.expand_dims(mean, 2)
        m2 = ops.mean(c * c, axis=2)
        if not self.shape:
            lead = [mean, ops.sqrt(m2)]
            if not self.medians:
                return lead + [ops.min(D, axis=2), ops.max(D, axis=2)]
            s = ops.sort(D, axis=2)
            return lead + [self._median(s), ops.take(s, 0, axis=2), ops.take(s, int(D.shape[2]) - 1, axis=2)]
        m3 = ops.mean(c * c * c, axis=2)
        m4 = ops.mean(c * c * c * c, axis=2)
        # a (near-)constant descriptor has no shape: skew and kurtosis 0, not statistics of float
        # rounding noise (which differ between runtimes); same rule as models.handcrafted
        ok = m2 > ops.square(DEGENERATE_REL * mean) + DEGENERATE_ABS
        safe = ops.where(ok, m2, ops.ones_like(m2))
        skew = ops.where(ok, m3 / (safe * ops.sqrt(safe)), ops.zeros_like(m2))
        kurt = ops.where(ok, m4 / (safe * safe) - 3.0, ops.zeros_like(m2))
        if not self.medians:
            return [mean, ops.sqrt(m2), skew, kurt, ops.min(D, axis=2), ops.max(D, axis=2)]
        s = ops.sort(D, axis=2)
        return [mean, ops.sqrt(m2), skew, kurt, self._median(s), ops.take(s, 0, axis=2),
                ops.take(s, int(D.shape[2]) - 1, axis=2)]

    @staticmethod
    def _median(s):
        """The median along the last axis of the sorted ``s``."""
        n = int(s.shape[2])
        return ops.take(s, n // 2, axis=2) if n % 2 else 0.5 * (ops.take(s, n // 2 - 1, axis=2) + ops.take(s, n // 2, axis=2))

    def _smooth(self, x):
        k = self.smooth
        if k <= 1:
            return x
        h, W = k // 2, x.shape[2]
        P = ops.concatenate([x[:, :, :1]] * h + [x] + [x[:, :, -1:]] * h, axis=2)
        out = P[:, :, 0:W]
        for i in range(1, k):
            out = out + P[:, :, i : i + W]
        return out / float(k)

    def call(self, x):
        x = self._smooth(ops.cast(x, "float32"))
        mf = ops.einsum("bfw,fk->bkw", x, self._dct)
        dmf = ops.abs(mf - ops.concatenate([mf[:, :, :1], mf[:, :, :-1]], axis=2))
        P = ops.exp(x * (np.log(10.0) / 10.0))
        tot = ops.sum(P, axis=1, keepdims=True) + 1e-10
        centroid = ops.sum(P * self._bins, axis=1, keepdims=True) / tot
        bandwidth = ops.sqrt(ops.sum(P * ops.square(self._bins - centroid), axis=1, keepdims=True) / tot)
        cum = ops.cumsum(P, axis=1) / tot
        rolloff = ops.sum(ops.cast(cum < 0.85, "float32"), axis=1, keepdims=True)
        flatness = ops.exp(ops.mean(ops.log(P + 1e-10), axis=1, keepdims=True)) / (ops.mean(P, axis=1, keepdims=True) + 1e-10)
        contrast, a = [], 0
        xt = ops.transpose(x, (0, 2, 1))  # (batch, W, mels): each band's bins on the last axis
        for n in self._splits:
            band = xt[:, :, a : a + n]
            contrast.append(ops.expand_dims(_band_percentile(band, 90) - _band_percentile(band, 10), 1))
            a += n
        loud = ops.mean(x, axis=1, keepdims=True)
        dloud = ops.abs(loud - ops.concatenate([loud[:, :, :1], loud[:, :, :-1]], axis=2))
        D = ops.concatenate([mf, dmf, centroid, bandwidth, rolloff, flatness] + contrast + [loud, dloud], axis=1)
        feats = self._stats7(D)
        # band statistics: 128 mel bands averaged into n_bands groups
        b, F, W = x.shape[0], x.shape[1], x.shape[2]
        B = ops.mean(ops.reshape(x, (-1, self.n_bands, F // self.n_bands, W)), axis=2)
        dB = ops.abs(B[:, :, 1:] - B[:, :, :-1])
        Bm = ops.mean(B, axis=2)
        Bs = ops.sqrt(ops.mean(ops.square(B - ops.expand_dims(Bm, 2)), axis=2))
        medB = []
        if self.medians:
            sB = ops.sort(B, axis=2)
            medB = [ops.take(sB, W // 2, axis=2) if W % 2 else 0.5 * (ops.take(sB, W // 2 - 1, axis=2) + ops.take(sB, W // 2, axis=2))]
        feats += [Bm, Bs] + medB + [ops.mean(dB, axis=2)]
        return ops.concatenate(feats, axis=1)

    def compute_output_shape(self, input_shape):
        n_stats = (7 if self.medians else 6) - (0 if self.shape else 2)
        return (input_shape[0], n_stats * (2 * self.n_mfcc + 12) + (4 if self.medians else 3) * self.n_bands)

    def get_config(self):
        return {**super().get_config(), "n_mfcc": self.n_mfcc, "n_bands": self.n_bands, "smooth": self.smooth,
                "medians": self.medians, "shape": self.shape}


@keras.saving.register_keras_serializable(package="melograph")
class Frames(keras.layers.Layer):
    """Cut ``(batch, F, W)`` into sub-windows (``core.features.window_starts``: every ``hop``
    columns, the last one end-aligned), stacked into the batch: ``(batch * n, F, width)``."""

    def __init__(self, width: int, hop: int, **kwargs):
        super().__init__(**kwargs)
        self.width, self.hop = int(width), int(hop)

    def n_frames(self, W: int) -> int:
        return len(window_starts(int(W), width=self.width, hop=self.hop))

    def call(self, x):
        W = x.shape[2]
        parts = [x[:, :, int(s) : int(s) + self.width] for s in window_starts(W, width=self.width, hop=self.hop)]
        y = ops.stack(parts, axis=1)
        return ops.reshape(y, (-1, x.shape[1], self.width))

    def compute_output_shape(self, input_shape):
        b = None if input_shape[0] is None else input_shape[0] * self.n_frames(input_shape[2])
        return (b, input_shape[1], self.width)

    def get_config(self):
        return {**super().get_config(), "width": self.width, "hop": self.hop}


@keras.saving.register_keras_serializable(package="melograph")
class GroupMean(keras.layers.Layer):
    """Undo ``Frames``: ``(batch * n, D)`` -> mean over each group of ``n`` -> ``(batch, D)``."""

    def __init__(self, n: int, **kwargs):
        super().__init__(**kwargs)
        self.n = int(n)

    def call(self, x):
        return ops.mean(ops.reshape(x, (-1, self.n, x.shape[-1])), axis=1)

    def compute_output_shape(self, input_shape):
        return (None, input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "n": self.n}


@keras.saving.register_keras_serializable(package="melograph")
class Regroup(keras.layers.Layer):
    """Undo ``Frames`` keeping the groups: ``(batch * n, D)`` -> ``(batch, n, D)``."""

    def __init__(self, n: int, **kwargs):
        super().__init__(**kwargs)
        self.n = int(n)

    def call(self, x):
        return ops.reshape(x, (-1, self.n, x.shape[-1]))

    def compute_output_shape(self, input_shape):
        return (None, self.n, input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "n": self.n}


@keras.saving.register_keras_serializable(package="melograph")
class WeightedAverage(keras.layers.Layer):
    """``sum_i w_i x_i`` with fixed weights (normalised to sum to 1)."""

    def __init__(self, weights: list[float], **kwargs):
        super().__init__(**kwargs)
        s = float(sum(weights))
        self.mix = [float(w) / s for w in weights]

    def call(self, xs):
        out = xs[0] * self.mix[0]
        for w, x in zip(self.mix[1:], xs[1:]):
            out = out + x * w
        return out

    def compute_output_shape(self, input_shapes):
        return input_shapes[0]

    def get_config(self):
        return {**super().get_config(), "weights": self.mix}


@keras.saving.register_keras_serializable(package="melograph")
class LogLinearPool(keras.layers.Layer):
    """Product of experts: ``softmax(sum_i w_i log p_i)`` over probability vectors ``p_i``
    (weights normalised to sum to 1; ``eps`` keeps a zero probability from ruling alone).
    A class only one part finds likely is damped more than with ``WeightedAverage``."""

    def __init__(self, weights: list[float], eps: float = 1e-6, **kwargs):
        super().__init__(**kwargs)
        s = float(sum(weights))
        self.mix = [float(w) / s for w in weights]
        self.eps = float(eps)

    def call(self, xs):
        out = ops.log(xs[0] + self.eps) * self.mix[0]
        for w, x in zip(self.mix[1:], xs[1:]):
            out = out + ops.log(x + self.eps) * w
        return ops.softmax(out, axis=-1)

    def compute_output_shape(self, input_shapes):
        return input_shapes[0]

    def get_config(self):
        return {**super().get_config(), "weights": self.mix, "eps": self.eps}
