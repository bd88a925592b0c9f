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
        if "valid_loss" in history:
            a.plot(ep, history["valid_loss"], label="valid track log-loss")
        a.set_xlabel("epoch")
        a.legend()
        if "train_acc" in history:
            b.plot(ep, history["train_acc"], label="train window acc (augmented)")
        if "valid_acc" in history:
            b.plot(ep, history["valid_acc"], label="valid track accuracy")
        if "valid_f1" in history:
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
