"""``python main.py predict FILE... [--model DIR] [--json]``: genre of whole tracks and their timeline.

Each file is decoded to mono 22050 Hz, turned into the GTZAN log-mel (``core.features.logmel_track``),
cut into the model's windows and classified in one batch.  The timeline is the model's windows
(30 s), or for the shipped hybrid its 3 s sub-windows (one entry every 3 s).  A file that cannot be read prints a
one-line reason and the others still run; the exit status is 1 if any file failed.
"""
from __future__ import annotations

import argparse

import numpy as np

from cli.main import emit, fail
from core.features import COLUMNS_PER_SECOND, SR

HELP = "print the genre distribution of audio files, whole track and per window"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="audio files")
    parser.add_argument("--model", metavar="DIR", default=None, help="model directory (default: the shipped model)")
    parser.add_argument("--top", type=int, default=3, help="genres shown per window in text output (default 3)")


def _load_audio(path: str) -> np.ndarray:
    """Mono float32 audio at 22050 Hz (``core.audio.decode.read``; librosa if that is unavailable)."""
    try:
        from core.audio.decode import read
    except ImportError:  # pragma: no cover - core.audio.decode is part of the project
        import librosa

        y, _ = librosa.load(path, sr=SR, mono=True)
        return y.astype(np.float32)
    y, _ = read(path, sr=SR, mono=True)
    return np.asarray(y, np.float32)


def _reason(exc: BaseException) -> str:
    try:
        from core.errors import reason_of

        return reason_of(exc)
    except ImportError:  # pragma: no cover
        return " ".join(str(exc).split()) or exc.__class__.__name__


def predict_file(model, path: str) -> dict:
    from core.features import logmel_track

    y = _load_audio(path)
    if len(y) == 0:
        raise ValueError("no audio samples decoded")
    r = model.analyse_track(logmel_track(y=y))
    tp, wp, starts = r["track_probs"], r["timeline"], r["timeline_starts"]
    classes = model.classes
    order = np.argsort(-tp)
    return {
        "file": path,
        "seconds": round(len(y) / SR, 2),
        "genre": classes[int(order[0])],
        "track": {classes[i]: round(float(tp[i]), 4) for i in order},
        "timeline": [{"start_s": round(float(s) / COLUMNS_PER_SECOND, 2),
                      "probs": {c: round(float(p), 4) for c, p in zip(classes, row)}}
                     for s, row in zip(starts, wp)],
    }


def _text(res: dict, top: int) -> str:
    lines = [f"{res['file']}  ({res['seconds']:.1f} s): {res['genre']}",
             "  track: " + "  ".join(f"{g} {p:.2f}" for g, p in list(res["track"].items())[:5])]
    for w in res["timeline"]:
        best = sorted(w["probs"].items(), key=lambda kv: -kv[1])[:top]
        lines.append(f"  {w['start_s']:7.1f}s  " + "  ".join(f"{g} {p:.2f}" for g, p in best))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    import sys

    from models.genre import GenreModel, ModelError

    try:
        model = GenreModel.load(args.model)
    except ModelError as exc:
        return fail(args, str(exc))
    results, failures = [], []
    for path in args.files:
        try:
            res = predict_file(model, path)
        except Exception as exc:  # noqa: BLE001  one bad file must not stop the others
            reason = _reason(exc)
            msg = reason if reason.startswith(str(path)) else f"{path}: {reason}"
            failures.append({"file": path, "error": msg})
            print(f"melograph: error: {msg}", file=sys.stderr)
            continue
        results.append(res)
        if not args.json:
            print(_text(res, args.top))
    emit(args, {"model": model.version, "results": results, "failures": failures})
    return 1 if failures else 0
