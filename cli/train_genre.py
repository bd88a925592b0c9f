"""``python main.py train-genre --arch NAME [--data NPZ] [--out DIR] ...``: train a genre model.

Fits on the npz's ``train`` clips, picks the epoch on its ``valid`` clips (track-level accuracy),
writes weights, model card, curves and confusion matrix into ``--out``.
``--members DIR DIR ...`` instead averages already trained runs into one ensemble model.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
from pathlib import Path

from cli.common import emit, existing_file, fail, new_or_folder, nonempty, number


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from models.architectures import ARCHITECTURES

    count, at_least_0 = number(int, low=1), number(int, low=0)
    amount, share = number(float, low=0), number(float, low=0, high=1)

    parser.add_argument("--arch", default="ours", choices=sorted(ARCHITECTURES), help="architecture (default: ours)")
    parser.add_argument("--data", metavar="NPZ", default=None, type=existing_file,
                        help="training npz (default: the shared GTZAN log-mels)")
    parser.add_argument("--out", metavar="DIR", default=None, type=new_or_folder,
                        help="output directory (default: runs/<arch>-<time>)")
    parser.add_argument("--epochs", type=count, default=None, help="maximum epochs (default 60)")
    parser.add_argument("--window", type=count, default=None, help="window width in columns (default 39 = 3 s)")
    parser.add_argument("--hop", type=count, default=None, help="evaluation/inference hop in columns (default window//2)")
    parser.add_argument("--seed", type=at_least_0, default=None, help="random seed (default 0)")
    parser.add_argument("--subset", type=count, default=None, help="train on only N train clips (smoke tests)")
    parser.add_argument("--batch", type=count, default=None)
    parser.add_argument("--lr", type=number(float, above=0), default=None)
    parser.add_argument("--weight-decay", type=amount, default=None)
    parser.add_argument("--label-smoothing", type=share, default=None)
    parser.add_argument("--crops", type=count, default=None, dest="crops_per_clip", help="random crops per clip per epoch")
    parser.add_argument("--mixup", type=amount, default=None, help="mixup Beta alpha (0 = off)")
    parser.add_argument("--no-specaug", action="store_true", help="disable SpecAugment masks")
    parser.add_argument("--eq-db", type=amount, default=None, help="random EQ augmentation amplitude in dB (0 = off)")
    parser.add_argument("--band-shift", type=at_least_0, default=None, help="random mel-band shift augmentation (bins)")
    parser.add_argument("--contrast", type=amount, default=None, help="random dB scaling augmentation (+-)")
    parser.add_argument("--same-mix", type=share, default=None, dest="same_mix",
                        help="fraction of training crops mixed with a crop of another clip of the same genre (0 = off)")
    parser.add_argument("--time-blur", type=share, default=None, dest="time_blur",
                        help="fraction of training crops blurred over time by a random 3-column kernel (0 = off)")
    parser.add_argument("--noise-db", type=amount, default=None, help="Gaussian noise augmentation in dB (0 = off)")
    parser.add_argument("--contrast-norm", nargs="?", const="low-min", choices=("top-bands", "low-min", "mean"),
                        default=None,
                        dest="contrast_norm",
                        help="train on contrast-normalised clips (models.data.contrast_normalise; default "
                             "method low-min): the answer no longer depends on the front end's min-max "
                             "stretch, which encoders change")
    parser.add_argument("--codec-aug", type=share, default=None, dest="codec_aug",
                        help="fraction of clips per epoch given an encoder-like low-pass, contrast and tilt "
                             "(models.data.codec_augment; 0 = off)")
    parser.add_argument("--init", metavar="MODEL", default=None, type=existing_file,
                        help="start from this trained model.keras (fine-tuning) instead of new weights")
    parser.add_argument("--patience", type=at_least_0, default=None, help="early-stopping patience in epochs")
    parser.add_argument("--warmup", type=at_least_0, default=None, dest="warmup_epochs")
    parser.add_argument("--time-budget", type=number(float, above=0), default=None, dest="time_budget_s",
                        help="stop after this many seconds")
    parser.add_argument("--selection", choices=("valid", "last"), default=None,
                        help="keep the epoch with the best valid track accuracy (default) or the last epoch")
    parser.add_argument("--holdout-fold", default=None, metavar="I/K",
                        help="leave fold I of K of the train clips out (runs of consecutive ids per genre) and write the "
                             "model's predictions on them to heldout.npz (for --stack-folds)")
    parser.add_argument("--config", default=None, metavar="JSON",
                        help="architecture config overrides as JSON, e.g. '{\"dropout\": 0.5}'")
    parser.add_argument("--members", nargs="+", metavar="DIR", default=None, type=nonempty,
                        help="combine these trained run directories into one averaging ensemble (no training)")
    parser.add_argument("--floor-weight", type=share, default=None,
                        help="with --members: build the hybrid (30 s excerpt window) mixing the hand-made-feature "
                             "logistic regression with this weight")
    parser.add_argument("--stack-folds", nargs="+", metavar="DIR", default=None, type=nonempty,
                        help="with --members: choose the floor weight on the train clips alone, from the "
                             "out-of-fold predictions of these runs (trained with --holdout-fold I/K, one per fold)")
    parser.add_argument("--floor-c", type=number(float, above=0), default=0.03,
                        help="logistic-regression C of the hybrid's floor")
    parser.add_argument("--pooling", choices=("arithmetic", "geometric"), default="arithmetic",
                        help="with --floor-weight: mix floor and CNN probabilities as a weighted mean (arithmetic) "
                             "or a normalised weighted product (geometric, a product of experts)")
    parser.add_argument("--floor-smooth", type=number(int, low=1, odd=True), default=1,
                        help="with --floor-weight: average the log-mel over this many columns (odd) before the "
                             "floor's features (1 = off, as in the shipped model)")
    parser.add_argument("--floor-mfcc", type=number(int), default=20,
                        help="with --floor-weight/--stack-folds: MFCCs of the floor's features (up to 128: all of them)")
    parser.add_argument("--floor-bands", type=count, default=16,
                        help="with --floor-weight/--stack-folds: band groups of the floor's band features (divides 128)")
    parser.add_argument("--floor-codec-copies", type=at_least_0, default=0, metavar="N",
                        help="with --floor-weight: also fit the floor on N codec-augmented copies of the train clips")
    parser.add_argument("--calibrate-folds", nargs="+", metavar="RUN", default=None, type=nonempty,
                        help="with --members: fit the calibration temperature on the hybrid's out-of-fold "
                             "predictions of the train clips, from these --holdout-fold runs")
    parser.add_argument("--input-norm", choices=("top-bands", "low-min", "mean"), default=None,
                        help="with --floor-weight: contrast-normalise the hybrid's input (models.data.contrast_normalise) "
                             "in front of members trained without it; the floor is fitted on normalised clips")
    parser.add_argument("--floor-no-median", action="store_false", dest="floor_medians",
                        help="with --floor-weight: leave the medians out of the floor's statistics (they need a "
                             "sort over time: about half of the floor's cost in the analysis workers)")
    parser.add_argument("--floor-no-shape", action="store_false", dest="floor_shape",
                        help="with --floor-weight: leave skew and kurtosis out of the floor's statistics (they "
                             "move most when one song comes in another format)")


def run(args: argparse.Namespace) -> int:
    from core.features import N_MELS
    from models.architectures import SKLEARN_ARCHS
    from models.data import DEFAULT_NPZ, DataError, load_npz
    from models.card import ModelError, read_card

    # the arguments first: a mistake is told before the data loads (or TensorFlow)
    try:
        config = json.loads(args.config) if args.config is not None else None
    except json.JSONDecodeError as exc:
        return fail(args, f"--config is not valid JSON ({exc})")
    if config is not None and not isinstance(config, dict):
        return fail(args, f"--config must be a JSON object such as '{{\"dropout\": 0.5}}', got {args.config!r}")
    holdout = None
    if args.holdout_fold is not None:
        try:
            holdout = tuple(int(v) for v in args.holdout_fold.split("/"))
            if len(holdout) != 2 or holdout[1] < 2 or not 0 <= holdout[0] < holdout[1]:
                raise ValueError
        except ValueError:
            return fail(args, f"--holdout-fold must be I/K with 0 <= I < K and K >= 2, got {args.holdout_fold!r}")
    if args.stack_folds and not args.members:
        return fail(args, "--stack-folds needs --members (the runs whose hybrid it weighs)")
    if not 1 <= args.floor_mfcc <= N_MELS:
        return fail(args, f"--floor-mfcc must be in 1..{N_MELS}, got {args.floor_mfcc}")
    if N_MELS % args.floor_bands:
        return fail(args, f"--floor-bands must divide {N_MELS} (1, 2, 4, ..., 128), got {args.floor_bands}")
    if args.input_norm and args.floor_weight is None and not args.stack_folds:
        return fail(args, "--input-norm needs a hybrid (--members with --floor-weight or --stack-folds)")
    if args.calibrate_folds and not args.members:
        return fail(args, "--calibrate-folds needs --members (the runs whose hybrid it calibrates)")
    for run_dir in (args.members or []) + (args.stack_folds or []) + (args.calibrate_folds or []):
        try:
            read_card(run_dir)  # a trained run holds its card
        except ModelError as exc:
            return fail(args, f"{run_dir} is not a trained run: {exc}")
    data_path = Path(args.data) if args.data else DEFAULT_NPZ
    try:
        data = load_npz(data_path)
        if data.split is None:
            return fail(args, f"{data_path}: training needs a 'split' array with train/valid clips")
    except DataError as exc:
        return fail(args, str(exc))
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    name = "ensemble" if args.members else args.arch
    out = Path(args.out) if args.out else Path("runs") / f"{name}-{stamp}"
    log = (lambda m: None) if args.json else (lambda m: print(m, flush=True))
    try:
        if args.members:
            from models.training import combine

            card = combine([Path(d) for d in args.members], data, out_dir=out, hop=args.hop, log=log,
                           floor_weight=args.floor_weight, floor_C=args.floor_c, pooling=args.pooling,
                           floor_smooth=args.floor_smooth, floor_medians=args.floor_medians,
                           stack_folds=[Path(d) for d in args.stack_folds] if args.stack_folds else None,
                           floor_mfcc=args.floor_mfcc, floor_bands=args.floor_bands,
                           floor_codec_copies=args.floor_codec_copies, input_norm=args.input_norm,
                           floor_shape=args.floor_shape,
                           calibrate_folds=[Path(d) for d in args.calibrate_folds] if args.calibrate_folds else None)
        elif args.arch in SKLEARN_ARCHS:
            from models.training import train_floor

            card = train_floor(data, arch=args.arch, out_dir=out, config=config, log=log, subset=args.subset)
        else:
            from models.training import train_network

            opts = {k: getattr(args, k) for k in ("epochs", "window", "hop", "seed", "batch", "lr", "weight_decay",
                                                  "label_smoothing", "crops_per_clip", "mixup", "patience",
                                                  "warmup_epochs", "time_budget_s", "eq_db", "band_shift", "contrast", "noise_db", "same_mix",
                                                  "time_blur", "contrast_norm", "codec_aug", "init",
                                                  "selection")}
            if args.no_specaug:
                opts["specaug"] = False
            card = train_network(data, arch=args.arch, out_dir=out, config=config, log=log, subset=args.subset,
                                 holdout=holdout, **opts)
    except (DataError, ModelError, ValueError) as exc:
        return fail(args, str(exc))
    v = card["metrics"].get("valid", {})
    emit(args, {"out": str(out), "card": card},
         f"wrote {out}/ ({card['version']}): valid track accuracy {v.get('accuracy', float('nan')):.3f}, "
         f"macro-F1 {v.get('macro_f1', float('nan')):.3f}")
    return 0
