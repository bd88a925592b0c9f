"""How well the model's valid number transfers to real audio (the app's path).

    .venv/bin/python -m models.audio_check [--model DIR] [--audio DIR] [--data NPZ]

For every clip of ``gtzan_audio/manifest.csv`` that is also a row of the npz: the track-level
prediction from the audio file (``core.features.logmel_file`` -> model) and from the npz
row, per split; prints accuracies and how often the two agree.
"""
from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np


def check(model, audio_dir: Path, data, logmels: dict | None = None) -> dict:
    from core.features import logmel_file

    ids = {str(i): k for k, i in enumerate(data.ids)}
    rows = [r for r in csv.DictReader(open(audio_dir / "manifest.csv")) if r["file"].rsplit(".", 1)[0] in ids]
    out = {}
    for r in rows:
        cid = r["file"].rsplit(".", 1)[0]
        S = logmels[cid] if logmels and cid in logmels else logmel_file(audio_dir / r["file"])
        if logmels is not None:
            logmels[cid] = S
        pa = model.predict_logmel(S)[1]
        pn = model.predict_clips(data.X[ids[cid] : ids[cid] + 1])[0]
        out[cid] = (r["split"], r["genre"], model.classes[int(pa.argmax())], model.classes[int(pn.argmax())])
    res = {}
    for split in sorted({v[0] for v in out.values()}) + ["all"]:
        v = [x for x in out.values() if split in ("all", x[0])]
        res[split] = {"clips": len(v), "audio_accuracy": float(np.mean([x[1] == x[2] for x in v])),
                      "npz_accuracy": float(np.mean([x[1] == x[3] for x in v])),
                      "agreement": float(np.mean([x[2] == x[3] for x in v]))}
    return res


def main() -> int:
    from models.data import DEFAULT_NPZ, load_npz
    from models.genre import GenreModel

    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=None)
    ap.add_argument("--audio", default=str(DEFAULT_NPZ.parent.parent / "gtzan_audio"))
    ap.add_argument("--data", default=str(DEFAULT_NPZ))
    a = ap.parse_args()
    model = GenreModel.load(a.model)
    print(json.dumps({"model": model.version, **check(model, Path(a.audio), load_npz(a.data))}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
