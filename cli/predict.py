"""``python main.py predict FILE... [--model DIR] [--json]``: genre of whole tracks and their timeline.

Each file is decoded to mono 22050 Hz and turned into the GTZAN log-mel excerpt by excerpt, as the
library analysis does it (``analysis.worker.prepare_file``), cut into the model's windows and
classified (``models.genre.GenreModel.analyse_track``).  The timeline is the model's windows
(30 s), or for the shipped hybrid its 3 s sub-windows (one entry every 3 s).  The music detector
(``models.music``) says whether it is music at all: ``music_probability`` and ``is_music`` for the
file and each 3 s cell; a file that is not music has ``"genre": null`` and its ``kind``
(``speech``, ``sound``).  ``label`` is what the app shows ("jazz 81%", "uncertain: blues or
jazz", "Not music (speech)").  A file that cannot be read prints a
one-line reason and the others still run; the exit status is 1 if any file failed.
"""
from __future__ import annotations

import argparse

import numpy as np

from cli.common import emit, existing_folder, fail, nonempty, number
from core.features import COLUMNS_PER_SECOND


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", type=nonempty, help="audio files")
    parser.add_argument("--model", metavar="DIR", default=None, type=existing_folder,
                        help="model directory (default: the shipped model)")
    parser.add_argument("--top", type=number(int, low=1), default=3, metavar="N",
                        help="genres shown per window in text output (default 3)")


def predict_file(model, path: str, music=None) -> dict:
    """Genre of one file: decoded and turned into the log-mel as the library analysis does it
    (``analysis.worker.prepare_file``, which refuses silent or too short files and analyses the
    readable part of a damaged one), then ``GenreModel.analyse_track``."""
    from analysis.worker import prepare_file

    from core.genrelabel import label_of_probs

    prep = prepare_file(path)
    r = model.analyse_track(prep["S"])
    m = music.analyse_track(prep["S"]) if music is not None else None
    tp, wp, starts = r["track_probs"], r["timeline"], r["timeline_starts"]
    classes = model.classes
    order = np.argsort(-tp)
    is_music = m["is_music"] if m is not None else None
    lab = label_of_probs(classes, tp, is_music=is_music, kind=m["kind"] if m else None,
                         music_probability=m["music_probability"] if m else None)
    # per-cell music probabilities when the timeline is on the detector's 3 s grid
    cells = m["cell_music"] if m is not None and r["timeline_width"] == music.width else None
    res = {
        "file": path,
        "seconds": round(prep["seconds"], 2),
        "genre": None if is_music is False else classes[int(order[0])],
        "label": lab.text,
        "uncertain": lab.uncertain,
        "music_probability": None if m is None or m["music_probability"] is None else round(m["music_probability"], 4),
        "is_music": is_music,
        "kind": m["kind"] if m is not None else None,
        "track": {classes[i]: round(float(tp[i]), 4) for i in order},
        "timeline": [{"start_s": round(float(s) / COLUMNS_PER_SECOND, 2),
                      "probs": {c: round(float(p), 4) for c, p in zip(classes, row)},
                      **({} if cells is None or k >= len(cells) else
                         {"music_probability": None if not np.isfinite(cells[k]) else round(float(cells[k]), 4)})}
                     for k, (s, row) in enumerate(zip(starts, wp))],
    }
    if prep["note"]:
        res["note"] = prep["note"]
    return res


def _text(res: dict, top: int) -> str:
    lines = [f"{res['file']}  ({res['seconds']:.1f} s): {res['label']}"
             + (f"  (music probability {res['music_probability']:.2f})" if res.get("music_probability") is not None else ""),
             "  track: " + "  ".join(f"{g} {p:.2f}" for g, p in list(res["track"].items())[:5])]
    if "note" in res:
        lines.append(f"  note: {res['note']}")
    for w in res["timeline"]:
        best = sorted(w["probs"].items(), key=lambda kv: -kv[1])[:top]
        m = w.get("music_probability")
        lines.append(f"  {w['start_s']:7.1f}s  " + "  ".join(f"{g} {p:.2f}" for g, p in best)
                     + (f"  (not music: {m:.2f})" if m is not None and m < 0.5 else ""))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    import sys

    from core.errors import reason_of
    from models.card import ModelError
    from models.genre import GenreModel
    from models.music import MusicDetector

    try:
        model = GenreModel.load(args.model)
    except ModelError as exc:
        return fail(args, str(exc))
    try:
        music = MusicDetector.load()
    except ModelError as exc:
        print(f"melograph: warning: no music detector, genres only ({exc})", file=sys.stderr)
        music = None
    results, failures = [], []
    for path in args.files:
        try:
            res = predict_file(model, path, music)
        except Exception as exc:  # noqa: BLE001  one bad file must not stop the others
            reason = reason_of(exc)
            msg = reason if reason.startswith(str(path)) else f"{path}: {reason}"
            failures.append({"file": path, "error": msg})
            print(f"melograph: error: {msg}", file=sys.stderr)
            continue
        results.append(res)
        if not args.json:
            print(_text(res, args.top))
    emit(args, {"model": model.version, "music_model": music.version if music is not None else None,
                "results": results, "failures": failures})
    return 1 if failures else 0
