"""``python main.py evaluate-genre [--model DIR] --data NPZ [--split NAME] [--json]``.

Track-level accuracy (window probabilities averaged per clip), macro-F1, per-genre recall and
the confusion matrix of a trained model on any npz in the shared format (X, y, genres, optional
ids and split).  All clips are evaluated unless ``--split`` names one part.
"""
from __future__ import annotations

import argparse

import numpy as np

from cli.common import emit, existing_file, existing_folder, fail, nonempty, number


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", metavar="DIR", default=None, type=existing_folder,
                        help="model directory (default: the shipped model)")
    parser.add_argument("--data", metavar="NPZ", required=True, type=existing_file,
                        help="npz with X, y, genres (optional ids, split)")
    parser.add_argument("--split", default=None, metavar="SPLIT", type=nonempty,
                        help="evaluate only the clips of this split (e.g. valid)")
    parser.add_argument("--hop", type=number(int, low=1), default=None, metavar="N",
                        help="window hop in columns (default: the card's)")


def evaluate(model, data) -> dict:
    """Metrics of ``model`` (a GenreModel) on ``data`` (a GenreData); classes matched by name."""
    from models.data import DataError
    from models.metrics import bootstrap_interval, classification_metrics

    unknown = [g for g in data.genres if g not in model.classes]
    if unknown:
        raise DataError(f"{data.path}: genres {', '.join(unknown)} are not classes of model {model.version}")
    if data.X.shape[2] < model.window:
        raise DataError(f"{data.path}: clips have {data.X.shape[2]} columns, fewer than the model window {model.window}")
    to_model = np.array([model.classes.index(g) for g in data.genres])
    y = to_model[data.y]
    probs = model.predict_clips(data.X)
    pred = probs.argmax(1)
    m = classification_metrics(y, pred, model.classes, probs)
    m["per_genre_recall"] = {c: v["recall"] for c, v in m["per_class"].items() if v["support"]}
    m["accuracy_interval_95"] = list(bootstrap_interval(np.asarray(y) == np.asarray(pred)))
    m["errors"] = [{"id": str(i), "true": model.classes[t], "predicted": model.classes[p],
                    "confidence": round(float(probs[j, p]), 3)}
                   for j, (i, t, p) in enumerate(zip(data.ids, y, pred)) if t != p]
    return m


def run(args: argparse.Namespace) -> int:
    from models.data import DataError, load_npz
    from models.card import ModelError
    from models.genre import GenreModel

    try:
        data = load_npz(args.data)
        if args.split:
            data = data.part(args.split)
        model = GenreModel.load(args.model)
        if args.hop:
            model.card["hop"] = int(args.hop)
        m = evaluate(model, data)
    except (DataError, ModelError) as exc:
        return fail(args, str(exc))
    lines = [f"model {model.version} on {data.path}{' [' + args.split + ']' if args.split else ''}: {m['n_clips']} clips",
             f"track-level accuracy {m['accuracy']:.3f} (95 % bootstrap interval over the clips "
             f"{m['accuracy_interval_95'][0]:.3f}-{m['accuracy_interval_95'][1]:.3f})   macro-F1 {m['macro_f1']:.3f}",
             "per-genre recall:"]
    for c, r in m["per_genre_recall"].items():
        lines.append(f"  {c:<10} {r:.3f}  (n={m['per_class'][c]['support']})")
    lines.append("confusion (rows true, columns predicted: " + " ".join(c[:4] for c in model.classes) + "):")
    for c, row in zip(model.classes, m["confusion"]):
        lines.append(f"  {c:<10} " + " ".join(f"{v:4d}" for v in row))
    emit(args, {"model": model.version, "data": str(data.path), "split": args.split, **m}, "\n".join(lines))
    return 0
