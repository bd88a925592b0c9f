"""Calibrate a trained genre hybrid without its valid clips:

    .venv/bin/python -m models.calibrate MODEL_DIR --folds RUN [RUN ...]

Fits the temperature of ``models.calibration`` on the hybrid's out-of-fold predictions of the
train clips (the fold runs: ``train-genre --holdout-fold I/K`` with the members' recipe, every
fold), measures the expected calibration error on the valid clips before and after, and writes
both into the model's card.
"""
from __future__ import annotations

import numpy as np

from models.calibration import apply_temperature


def calibrate_model(model_dir, fold_dirs, *, log=print) -> dict:
    """Fit the temperature of the trained hybrid in ``model_dir`` on out-of-fold predictions of
    the train clips (``models.training.calibration_from_folds``: the CNN part from ``fold_dirs``,
    runs trained with ``--holdout-fold I/K`` and the members' recipe; the floor refitted per fold
    with the card's floor settings), measure the expected calibration error on the valid clips
    before and after, and store it all in the card (``card["calibration"]``; the model's version
    changes with the temperature, so stored results are re-analysed).  The weights and their
    LiteRT export stay as they are.  Returns the calibration record."""
    from pathlib import Path

    from models.card import read_card, write_card
    from models.data import DEFAULT_NPZ, load_npz
    from models.genre import GenreModel
    from models.metrics import expected_calibration_error
    from models.training import calibration_from_folds, version_hash

    model_dir = Path(model_dir)
    card = read_card(model_dir)
    hyb = card.get("hybrid")
    if not hyb:
        raise ValueError(f"{model_dir}: not a hybrid (its card has no 'hybrid' record to refit the floor from)")
    data = load_npz(DEFAULT_NPZ)
    cal = calibration_from_folds([Path(d) for d in fold_dirs], data.part("train"), floor_weight=hyb["floor_weight"],
                                 pooling=hyb.get("pooling", "arithmetic"), floor_C=hyb.get("floor_C", 0.03),
                                 smooth=hyb.get("floor_smooth", 1), medians=hyb.get("floor_medians", True),
                                 shape=hyb.get("floor_shape", True),
                                 n_mfcc=hyb.get("floor_mfcc", 20), n_bands=hyb.get("floor_bands", 16),
                                 contrast_norm=hyb.get("contrast_norm", False),
                                 codec_copies=hyb.get("floor_codec_copies", 0))
    valid = data.part("valid")
    model = GenreModel.load(model_dir)
    model.temperature = 1.0
    raw = model.predict_clips(np.asarray(valid.X, np.float32))
    cal["valid_ece_15_before"] = expected_calibration_error(raw, valid.y)
    cal["valid_ece_15_after"] = expected_calibration_error(apply_temperature(raw, cal["temperature"]), valid.y)
    # a card calibrated before keeps naming the weights' own version, not the earlier temperature's
    old = card["version"]
    uncalibrated = (card.get("calibration") or {}).get("uncalibrated_version", old)
    card = {k: v for k, v in card.items() if k != "calibration"}
    card["version"] = old[: old.rfind("-") + 1] + version_hash(card["weights_sha256"], cal["temperature"])
    card["calibration"] = {**cal, "uncalibrated_version": uncalibrated}
    write_card(model_dir, card)
    log(f"{model_dir}: temperature {cal['temperature']:.3f} from {cal['clips']} out-of-fold train clips "
        f"(their ECE {cal['oof_ece_15_before']:.3f} -> {cal['oof_ece_15_after']:.3f}); valid ECE "
        f"{cal['valid_ece_15_before']:.3f} -> {cal['valid_ece_15_after']:.3f}; version {old} -> {card['version']}")
    return cal


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="fit a trained hybrid's calibration temperature without the valid clips")
    ap.add_argument("model_dir")
    ap.add_argument("--folds", nargs="+", required=True, metavar="RUN",
                    help="runs trained with --holdout-fold I/K (every fold) and the members' recipe")
    a = ap.parse_args(argv)
    calibrate_model(a.model_dir, a.folds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
