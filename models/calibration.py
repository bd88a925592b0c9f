"""Temperature scaling of the genre probabilities (Guo et al. 2017).

A network's softmax is often more (or less) sure than it is right.  One number, the temperature
``T``, fixes most of that without touching which genre comes first:
``calibrated = softmax(log(p) / T)``; ``T > 1`` softens, ``T < 1`` sharpens.  ``T`` is fitted by
minimising the log-loss of predictions the model did not train on -- for the shipped model the
out-of-fold predictions of artist-kept folds inside the train clips, never the valid clips --
and stored in the model card (``card["calibration"]``); ``models.genre.GenreModel`` applies it
to every window and timeline distribution, with the Keras and the LiteRT runtime alike.
"""
from __future__ import annotations

import numpy as np

#: the fitted temperature is kept inside these bounds (a value at a bound means the fit failed)
T_BOUNDS = (0.05, 20.0)


def apply_temperature(probs: np.ndarray, temperature: float) -> np.ndarray:
    """``softmax(log(probs) / T)`` over the last axis, float32; ``T == 1`` returns the input."""
    p = np.asarray(probs, np.float32)
    t = float(temperature)
    if not t > 0:
        raise ValueError(f"the temperature must be positive, got {temperature}")
    if t == 1.0:
        return p
    z = np.log(np.maximum(p.astype(np.float64), 1e-12)) / t
    z -= z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)


def log_loss(probs: np.ndarray, y) -> float:
    """Mean negative log-likelihood of the true classes."""
    p = np.asarray(probs, np.float64)
    y = np.asarray(y, np.int64)
    return float(-np.log(np.maximum(p[np.arange(len(y)), y], 1e-12)).mean())


def fit_temperature(probs: np.ndarray, y) -> float:
    """The temperature that minimises the log-loss of ``apply_temperature(probs, T)`` on ``y``
    (bounded scalar search over ``log T``)."""
    from scipy.optimize import minimize_scalar

    p = np.asarray(probs, np.float64)
    y = np.asarray(y, np.int64)
    if p.ndim != 2 or len(p) != len(y) or not len(y):
        raise ValueError(f"need probs (n, classes) and n labels, got {p.shape} and {y.shape}")
    lo, hi = np.log(T_BOUNDS[0]), np.log(T_BOUNDS[1])
    res = minimize_scalar(lambda lt: log_loss(apply_temperature(p, float(np.exp(lt))), y), bounds=(lo, hi),
                          method="bounded", options={"xatol": 1e-5})
    return float(np.exp(res.x))

