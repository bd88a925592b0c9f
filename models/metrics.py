"""Track-level classification metrics and the plots a training run writes (matplotlib Agg)."""
from __future__ import annotations

import numpy as np


def classification_metrics(y_true, y_pred, classes: list[str], probs: np.ndarray | None = None) -> dict:
    """Accuracy, macro-F1, per-class recall/precision/F1, confusion matrix (rows = true)."""
    y_true = np.asarray(y_true, np.int64)
    y_pred = np.asarray(y_pred, np.int64)
    k = len(classes)
    cm = np.zeros((k, k), np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    tp = np.diag(cm).astype(np.float64)
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    recall = np.divide(tp, support, out=np.zeros(k), where=support > 0)
    precision = np.divide(tp, predicted, out=np.zeros(k), where=predicted > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros(k), where=(precision + recall) > 0)
    present = support > 0  # macro over the classes present in the data
    out = {
        "n_clips": int(len(y_true)),
        "accuracy": float((y_true == y_pred).mean()) if len(y_true) else 0.0,
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "per_class": {c: {"recall": float(recall[i]), "precision": float(precision[i]), "f1": float(f1[i]),
                          "support": int(support[i])} for i, c in enumerate(classes)},
        "confusion": cm.tolist(),
    }
    if probs is not None and len(y_true):
        p = np.clip(np.asarray(probs, np.float64)[np.arange(len(y_true)), y_true], 1e-7, 1.0)
        out["log_loss"] = float(-np.log(p).mean())
    return out


def bootstrap_interval(correct, *, level: float = 0.95, draws: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of an accuracy from the per-clip outcomes (``correct``: 0/1
    per clip): how far the same model could land on another draw of as many clips like these.
    With 197 valid clips an accuracy near 0.69 moves by about +-6.5 points (95 %)."""
    c = np.asarray(correct, np.float64)
    if not len(c):
        return (0.0, 0.0)
    rng = np.random.default_rng(seed)
    means = c[rng.integers(0, len(c), size=(draws, len(c)))].mean(axis=1)
    a = (1.0 - level) / 2.0
    return float(np.quantile(means, a)), float(np.quantile(means, 1.0 - a))


def plot_curves(history: dict, path, title: str = "") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ep = np.arange(1, len(history.get("loss", [])) + 1)
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    if len(ep):
        a.plot(ep, history["loss"], label="train loss (augmented windows)")
        if history.get("valid_loss"):
            a.plot(ep, history["valid_loss"], label="valid track log-loss")
        a.set_xlabel("epoch")
        a.legend()
        if history.get("train_acc"):
            b.plot(ep, history["train_acc"], label="train window acc (augmented)")
        if history.get("valid_acc"):
            b.plot(ep, history["valid_acc"], label="valid track accuracy")
        if history.get("valid_f1"):
            b.plot(ep, history["valid_f1"], label="valid track macro-F1")
        b.axhline(0.1, color="grey", lw=0.5, ls="--")
        b.set_xlabel("epoch")
        b.set_ylim(0, 1)
        b.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_confusion(cm, classes: list[str], path, title: str = "") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cm = np.asarray(cm)
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(len(classes)), classes, rotation=60, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            if cm[i, j]:
                ax.text(j, i, str(cm[i, j]), ha="center", va="center",
                        color="white" if cm[i, j] > cm.max() / 2 else "black", fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def reliability_bins(probs: np.ndarray, y_true, *, bins: int = 15) -> dict:
    """Top-label reliability in ``bins`` equal-width confidence bins over [0, 1]: per bin the
    number of clips, their mean confidence (the top probability) and their accuracy (how often
    the top genre is the true one); empty bins have count 0 and NaN means."""
    p = np.asarray(probs, np.float64)
    y = np.asarray(y_true, np.int64)
    if p.ndim != 2 or len(p) != len(y):
        raise ValueError(f"probs must be (n, classes) with one label per row, got {p.shape} and {y.shape}")
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}")
    conf = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype(np.float64)
    # bin k holds confidences in (k/bins, (k+1)/bins]; a confidence of exactly 0 goes to bin 0
    idx = np.clip(np.ceil(conf * bins).astype(np.int64) - 1, 0, bins - 1)
    count = np.bincount(idx, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(idx, weights=conf, minlength=bins) / count
        acc = np.bincount(idx, weights=correct, minlength=bins) / count
    return {"edges": np.linspace(0.0, 1.0, bins + 1), "count": count, "confidence": mean_conf, "accuracy": acc}


def expected_calibration_error(probs: np.ndarray, y_true, *, bins: int = 15) -> float:
    """Expected calibration error (Guo et al. 2017): the clip-weighted mean over ``bins``
    equal-width confidence bins of |accuracy - mean confidence| (:func:`reliability_bins`).
    0 means "70 % sure" is right 70 % of the time."""
    r = reliability_bins(probs, y_true, bins=bins)
    n = r["count"].sum()
    if n == 0:
        return 0.0
    used = r["count"] > 0
    return float(np.sum(r["count"][used] * np.abs(r["accuracy"][used] - r["confidence"][used])) / n)


def ece_of_calibrated(confidences, *, bins: int = 15, draws: int = 2000, seed: int = 0) -> np.ndarray:
    """The expected calibration errors a *perfectly* calibrated classifier would measure on a
    set of this size: each clip, with its top-label confidence ``c``, is right with probability
    ``c`` (one Bernoulli draw per clip and draw).  With a couple of hundred clips the measured
    ECE of such a model is well above 0 -- the floor that a measured ECE cannot be told apart
    from.  Returns ``draws`` ECE values."""
    c = np.clip(np.asarray(confidences, np.float64), 0.0, 1.0)
    rng = np.random.default_rng(seed)
    idx = np.minimum((c * bins).astype(int), bins - 1)
    count = np.bincount(idx, minlength=bins)
    conf_sum = np.bincount(idx, weights=c, minlength=bins)
    out = np.empty(int(draws))
    for d in range(int(draws)):
        right = rng.random(len(c)) < c
        acc_sum = np.bincount(idx, weights=right.astype(np.float64), minlength=bins)
        out[d] = np.abs(acc_sum - conf_sum).sum() / max(1, len(c))
    return out


def plot_reliability(curves: dict, path, *, bins: int = 15, title: str = "") -> None:
    """Reliability diagram: for each ``name -> (probs, y_true)`` the accuracy of each confidence
    bin against its mean confidence (the diagonal is perfect calibration), with its ECE in the
    legend, and below the number of clips per bin."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(2, 1, figsize=(5.5, 6.5), gridspec_kw={"height_ratios": [3, 1]}, sharex=True)
    a.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--", label="perfect calibration")
    width = 1.0 / bins
    for k, (name, (probs, y)) in enumerate(curves.items()):
        r = reliability_bins(probs, y, bins=bins)
        used = r["count"] > 0
        ece = expected_calibration_error(probs, y, bins=bins)
        a.plot(r["confidence"][used], r["accuracy"][used], marker="o", ms=4, label=f"{name} (ECE {ece:.3f})")
        centres = r["edges"][:-1] + width / 2
        off = (k - (len(curves) - 1) / 2) * width / max(1, len(curves))
        b.bar(centres + off, r["count"], width=width / max(1, len(curves)), label=name)
    a.set_ylabel("accuracy in the bin")
    a.set_xlim(0, 1)
    a.set_ylim(0, 1)
    a.legend(fontsize=8, loc="upper left")
    a.set_title(title, fontsize=9)
    b.set_xlabel(f"confidence (top genre's probability; {bins} bins)")
    b.set_ylabel("clips")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
