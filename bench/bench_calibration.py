"""Benchmark: are the genre probabilities honest?  Expected calibration error on the valid clips.

    .venv/bin/python bench/bench_calibration.py [--model DIR] [--runtime litert|keras] [--plot PNG]

Runs the model on the 197 valid clips of the training arrays (the app's runtime; track level:
window probabilities averaged per clip) and prints the expected calibration error (15
equal-width confidence bins, top label) of the network's own probabilities and of the calibrated
ones (the card's temperature, which was fitted without the valid clips), with accuracy,
log-loss and mean confidence, the ECE a perfectly calibrated model with the same confidences would
measure on that many clips (its sampling floor), and writes a reliability diagram of both
(default: resources/calibration.png).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="model directory (default: the shipped model)")
    ap.add_argument("--runtime", choices=("auto", "litert", "keras"), default="auto")
    ap.add_argument("--data", default=None, help="npz with a valid split (default: the GTZAN arrays)")
    ap.add_argument("--bins", type=int, default=15)
    ap.add_argument("--plot", default=str(ROOT / "resources" / "calibration.png"))
    a = ap.parse_args()
    from models.calibration import log_loss
    from models.data import DEFAULT_NPZ, load_npz
    from models.genre import GenreModel
    from models.metrics import ece_of_calibrated, expected_calibration_error, plot_reliability

    valid = load_npz(a.data or DEFAULT_NPZ).part("valid")
    model = GenreModel.load(a.model, runtime=a.runtime)
    t = model.temperature
    calibrated = model.predict_clips(np.asarray(valid.X, np.float32))
    model.temperature = 1.0  # the network's own probabilities
    raw = model.predict_clips(np.asarray(valid.X, np.float32))
    y = valid.y
    print(f"model {model.version} ({model.runtime}); {len(y)} valid clips, track level; temperature {t:.3f} "
          f"(from the card: {model.card.get('calibration', {}).get('fitted_on', 'none')})")
    rows = {"network's own": raw, f"calibrated (T = {t:.2f})": calibrated}
    for name, p in rows.items():
        print(f"  {name:22s} ECE({a.bins} bins) {expected_calibration_error(p, y, bins=a.bins):.3f}  "
              f"accuracy {np.mean(p.argmax(1) == y):.3f}  log-loss {log_loss(p, y):.3f}  "
              f"mean confidence {p.max(1).mean():.3f}")
    floor = ece_of_calibrated(calibrated.max(1), bins=a.bins)
    print(f"  a perfectly calibrated model with the calibrated confidences would measure ECE "
          f"{np.median(floor):.3f} (median; 90 % of 2000 draws in {np.quantile(floor, 0.05):.3f}-"
          f"{np.quantile(floor, 0.95):.3f}) on these {len(y)} clips")
    plot_reliability({k: (v, y) for k, v in rows.items()}, a.plot, bins=a.bins,
                     title=f"{model.version}: {len(y)} valid clips (GTZAN, artist-filtered)")
    print(f"reliability diagram: {a.plot}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
