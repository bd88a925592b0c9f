"""The small numpy network of the recommender: dense ReLU layers with dropout and one logit,
trained by Adam with decoupled weight decay, on negatives drawn afresh every epoch."""
from __future__ import annotations

import contextlib
import math
from typing import Sequence

import numpy as np


class NegativeSampler:
    """Draws negative windows uniformly from a pool, afresh on every call (one call per epoch)."""

    def __init__(self, pool: np.ndarray, rng: np.random.Generator):
        self.pool = np.asarray(pool, dtype=np.int64)
        self.rng = rng
        self.draws = 0

    def draw(self, n: int) -> np.ndarray:
        if len(self.pool) == 0 or n <= 0:
            return np.zeros(0, np.int64)
        self.draws += 1
        replace = n > len(self.pool)
        return self.pool[self.rng.choice(len(self.pool), size=n, replace=replace)]


def single_blas_thread():
    """A context in which numpy's BLAS uses one thread: the matrices here are small, and more
    threads only fight the analysis workers for the cores."""
    try:
        from threadpoolctl import threadpool_limits

        return threadpool_limits(1, user_api="blas")
    except Exception:  # noqa: BLE001 - optional: without it training is only slower under load
        return contextlib.nullcontext()


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # stable for any z


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, np.float64), 1e-7, 1 - 1e-7)
    return np.log(p) - np.log1p(-p)


class MLP:
    """Dense ReLU layers with dropout, one logit output.  Parameters: ``[W0, b0, W1, b1, ...]``."""

    def __init__(self, params: list[np.ndarray]):
        self.params = params

    @classmethod
    def init(cls, d_in: int, hidden: Sequence[int], rng: np.random.Generator) -> "MLP":
        params = []
        sizes = [d_in, *hidden, 1]
        for a, b in zip(sizes[:-1], sizes[1:]):
            params.append((rng.standard_normal((a, b)) * math.sqrt(2.0 / a)).astype(np.float32))
            params.append(np.zeros(b, np.float32))
        params[-2] *= 0.5 / math.sqrt(2.0)  # a smaller output layer starts near 0.5
        return cls(params)

    def logits(self, X: np.ndarray) -> np.ndarray:
        h = X
        n_layers = len(self.params) // 2
        for k in range(n_layers):
            h = h @ self.params[2 * k] + self.params[2 * k + 1]
            if k < n_layers - 1:
                np.maximum(h, 0, out=h)
        return h[:, 0]

    def loss_grad(self, X, y, w, dropout, rng):
        """Weighted binary cross-entropy (mean by ``w.sum()``) and its gradients."""
        n_layers = len(self.params) // 2
        acts, masks = [X], []
        h = X
        for k in range(n_layers):
            h = h @ self.params[2 * k] + self.params[2 * k + 1]
            if k < n_layers - 1:
                np.maximum(h, 0, out=h)
                if dropout > 0:
                    m = (rng.random(h.shape, dtype=np.float32) >= dropout).astype(np.float32) / (1 - dropout)
                    h = h * m
                else:
                    m = None
                masks.append(m)
                acts.append(h)
        z = h[:, 0]
        wsum = float(w.sum())
        loss = float(np.sum(w * (np.logaddexp(0, z) - y * z)) / wsum)
        dz = ((sigmoid(z) - y) * w / wsum).astype(np.float32)[:, None]
        grads = [None] * len(self.params)
        g = dz
        for k in range(n_layers - 1, -1, -1):
            grads[2 * k] = acts[k].T @ g
            grads[2 * k + 1] = g.sum(axis=0)
            if k > 0:
                g = g @ self.params[2 * k].T
                g = g * (acts[k] > 0)
                if masks[k - 1] is not None:
                    g = g * masks[k - 1]
        return loss, grads


class Adam:
    """Adam over a list of parameter arrays, updated in place; weight decay (AdamW style) on the
    matrices only."""

    def __init__(self, params, lr, weight_decay, b1=0.9, b2=0.999, eps=1e-8):
        self.params, self.lr, self.wd, self.b1, self.b2, self.eps = params, lr, weight_decay, b1, b2, eps
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0

    def step(self, grads):
        self.t += 1
        c1 = 1 - self.b1 ** self.t
        c2 = 1 - self.b2 ** self.t
        lr_t = self.lr * math.sqrt(c2) / c1  # bias corrections folded into the step size
        eps = self.eps * math.sqrt(c2)
        for i, (p, g) in enumerate(zip(self.params, grads)):
            m, v = self.m[i], self.v[i]
            m *= self.b1
            m += (1 - self.b1) * g
            v *= self.b2
            g = g * g  # a new array: the caller's gradient is left alone
            g *= 1 - self.b2
            v += g
            np.sqrt(v, out=g)
            g += eps
            np.divide(m, g, out=g)
            g *= lr_t
            if self.wd and p.ndim == 2:
                p *= 1 - self.lr * self.wd
            p -= g
