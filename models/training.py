"""Training of the genre networks: random crops, SpecAugment, mixup, track-level early stopping.

The network is fitted on the ``train`` clips only; the ``valid`` clips are used only to pick
the epoch (early stopping on track-level accuracy: window probabilities averaged per clip).
Every run writes into its output directory:

- ``model.keras``    the selected weights (full Keras model; raw log-mel window in, probabilities out)
- ``card.json``      the model card (see ``make_card``)
- ``history.json``   per-epoch numbers
- ``curves.png``     training curves; ``confusion.png`` the valid confusion matrix
"""
from __future__ import annotations

import datetime as _dt
import json
import platform
import time
from pathlib import Path

import numpy as np

from core.features import COLUMNS_PER_SECOND, FRONTEND_PARAMS, N_MELS
from models.data import (GenreData, clip_windows, codec_augment, contrast_normalise, feature_stats, mixup,
                         norm_method, random_crops, same_genre_mix, spec_augment, spectral_augment, time_blur, track_probs)
from models.card import read_card, sha256_of, write_card
from models.genre import configure_tensorflow
from models.metrics import classification_metrics, plot_confusion, plot_curves

WEIGHTS_NAME = "model.keras"

#: training defaults (overridable from the CLI)
TRAIN_DEFAULTS = {
    "window": 39,  # columns (~3 s)
    "hop": None,  # evaluation / inference hop in columns; None = window // 2
    "epochs": 60,
    "batch": 32,
    "crops_per_clip": 8,  # random crops of each train clip per epoch
    "lr": 2e-3,
    "weight_decay": 1e-3,
    "label_smoothing": 0.1,
    "warmup_epochs": 2,
    "specaug": True,
    "eq_db": 0.0,  # random EQ curve amplitude (dB); 0 = off
    "band_shift": 0,  # random mel-band shift (bins)
    "contrast": 0.0,  # random dB scaling +-
    "same_mix": 0.0,  # fraction of crops mixed with a crop of another clip of the same genre
    "noise_db": 0.0,  # Gaussian noise (dB) per cell: front-end differences (audio vs the npz rendering)
    "time_blur": 0.0,  # fraction of crops blurred over time by a random [a, 1-2a, a] (the app's smoother front end)
    "mixup": 0.3,  # Beta(alpha, alpha); 0 = off
    "patience": 20,
    "seed": 0,
    "time_budget_s": None,
    "selection": "valid",  # "valid": keep the epoch with the best valid track accuracy; "last": the last epoch
    "contrast_norm": False,  # train on models.data.contrast_normalise'd clips (the hybrid then normalises its input)
    "codec_aug": 0.0,  # fraction of clips per epoch given models.data.codec_augment (low-pass, contrast, tilt)
    "init": None,  # a trained model.keras to start from (fine-tuning) instead of new weights
}


def library_versions() -> dict:
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for pkg in ("tensorflow-cpu", "tensorflow", "keras", "numpy", "librosa", "scikit-learn", "scipy"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return out


def data_summary(data: GenreData, fit_on: str, selected_on: str | None) -> dict:
    counts = {}
    if data.split is not None:
        for s in sorted(set(data.split.tolist())):
            counts[s] = int((data.split == s).sum())
    return {"file": Path(data.path).name, "path": str(data.path), "n_clips": len(data), "clips_per_split": counts,
            "fit_on": fit_on, "selected_on": selected_on, "clip_columns": int(data.X.shape[2])}


def version_hash(weights_sha256: str, temperature: float | None = None) -> str:
    """8 hex digits naming a model: its weights, the front end that feeds it and its calibration
    temperature, so that stored analysis results go stale when any changes (the same weights
    behind a new front end or another temperature give other numbers)."""
    import hashlib

    front = json.dumps(FRONTEND_PARAMS, sort_keys=True)
    key = f"{weights_sha256}\n{front}"
    if temperature is not None and float(temperature) != 1.0:
        key += f"\ntemperature {float(temperature):.6g}"
    return hashlib.sha256(key.encode()).hexdigest()[:8]


def make_card(*, arch: str, config: dict, classes: list[str], window: int, hop: int, weights_path: Path,
              parameters: int, data: dict, training: dict, metrics: dict, extra: dict | None = None) -> dict:
    sha = sha256_of(weights_path)
    date = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d")
    card = {
        "version": f"genre-{arch}-{date}-{version_hash(sha, ((extra or {}).get('calibration') or {}).get('temperature'))}",
        "arch": arch,
        "config": config,
        "classes": list(classes),
        "frontend": dict(FRONTEND_PARAMS),
        "window": int(window),
        "hop": int(hop),
        "window_seconds": round(window / COLUMNS_PER_SECOND, 3),
        "hop_seconds": round(hop / COLUMNS_PER_SECOND, 3),
        "input_shape": [N_MELS, int(window)],
        "input": "dB log-mel window from core.features.windows(core.features.logmel_track(...)); "
                 "normalisation is inside the model",
        "output": "softmax over classes per window; track = mean of the window probabilities",
        "weights": weights_path.name,
        "weights_sha256": sha,
        "weights_bytes": weights_path.stat().st_size,
        "parameters": int(parameters),
        "data": data,
        "training": training,
        "metrics": metrics,
        "versions": library_versions(),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    if extra:
        card.update(extra)
    return card


GTZAN_CLASSES = ["blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock"]


def write_untrained(out_dir: str | Path, *, config: dict | None = None, window: int = 39, hop: int = 19,
                    export: bool = False) -> Path:
    """An untrained "ours" network saved with a valid card (and its LiteRT export when ``export``)
    in ``out_dir``: a stand-in with the shipped model's interface for tests and benchmarks that
    need a model but not its accuracy.  Run it in a subprocess to keep TensorFlow out of a process."""
    from models import architectures as A

    configure_tensorflow()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cfg = dict(config or {})
    model = A.build("ours", cfg, n_classes=len(GTZAN_CLASSES), window=window)
    model.save(out / WEIGHTS_NAME)
    write_card(out, make_card(arch="ours", config=cfg, classes=GTZAN_CLASSES, window=window, hop=hop,
                              weights_path=out / WEIGHTS_NAME, parameters=model.count_params(),
                              data={"file": "none"}, training={}, metrics={}))
    if export:
        from models.export import export as export_litert

        export_litert(out, log=lambda *a: None)
    return out


def _one_hot(y, k):
    out = np.zeros((len(y), k), np.float32)
    out[np.arange(len(y)), y] = 1.0
    return out


class _Evaluator:
    """Track-level evaluation on a fixed set of clips (windows cut once)."""

    def __init__(self, X, y, classes, window, hop):
        self.wins, self.owner = clip_windows(X, width=window, hop=hop)
        self.y, self.n, self.classes = np.asarray(y), len(X), classes

    def __call__(self, model, batch=512):
        import keras

        if keras.backend.backend() != "tensorflow":
            probs = track_probs(model.predict(self.wins, batch_size=batch, verbose=0), self.owner, self.n)
            return classification_metrics(self.y, probs.argmax(1), self.classes, probs), probs
        import tensorflow as tf

        fn = getattr(model, "_melograph_eval_fn", None)
        if fn is None:
            fn = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
            model._melograph_eval_fn = fn  # noqa: SLF001
        ps = [fn(tf.convert_to_tensor(self.wins[a : a + batch])).numpy() for a in range(0, len(self.wins), batch)]
        probs = track_probs(np.concatenate(ps), self.owner, self.n)
        return classification_metrics(self.y, probs.argmax(1), self.classes, probs), probs


def train_network(data: GenreData, *, arch: str, out_dir: Path, config: dict | None = None, log=print,
                  train_split: str = "train", valid_split: str = "valid", subset: int | None = None,
                  holdout: tuple[int, int] | None = None, **overrides) -> dict:
    """Train ``arch`` on ``data``'s train clips, select on its valid clips; returns the card.

    ``holdout=(i, k)`` leaves fold ``i`` of ``k`` (``models.data.artist_folds`` over the train clips)
    out of the fitting and writes the fitted model's track probabilities on those clips, at the
    hybrid's sub-window hop (``window``), to ``heldout.npz`` (ids, y, probs): the out-of-fold
    predictions from which ``combine`` can weigh the CNN against the floor without the valid clips."""
    opts = dict(TRAIN_DEFAULTS)
    opts.update({k: v for k, v in overrides.items() if v is not None})
    for key in ("same_mix", "time_blur"):
        if not 0.0 <= float(opts[key]) <= 1.0:
            raise ValueError(f"{key.replace('_', '-')} is a fraction of the crops: between 0 and 1, got {opts[key]}")
    window = int(opts["window"])
    hop = int(opts["hop"] or max(1, window // 2))
    seed = int(opts["seed"])
    configure_tensorflow()
    import keras

    import models.layers  # noqa: F401
    from models import architectures as A

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)

    train = data.part(train_split)
    valid = data.part(valid_split) if data.split is not None and (data.split == valid_split).any() else None
    heldout = None
    if holdout is not None:
        from models.data import artist_folds

        fold, k_folds = (int(v) for v in holdout)
        if not 0 <= fold < k_folds:
            raise ValueError(f"holdout fold must be in 0..{k_folds - 1}, got {fold}")
        folds = artist_folds(train.ids, train.y, k_folds)
        heldout, train = train.subset(folds == fold), train.subset(folds != fold)
    if subset:
        idx = np.sort(rng.permutation(len(train))[: int(subset)])
        train = train.subset(idx)
        if valid is not None:
            valid = valid.subset(np.sort(rng.permutation(len(valid))[: max(10, int(subset) // 2)]))
    classes = data.genres
    k = len(classes)
    cfg = A.default_config(arch)
    if opts["init"] and (Path(opts["init"]).parent / "card.json").is_file():
        cfg.update(read_card(Path(opts["init"]).parent).get("config", {}))  # the network being fine-tuned
    cfg.update(config or {})
    norm = norm_method(opts["contrast_norm"])
    opts["contrast_norm"] = norm
    prep = (lambda X: contrast_normalise(X, method=norm)) if norm else (lambda X: np.asarray(X, np.float32))
    if opts["init"]:
        model = keras.models.load_model(opts["init"], compile=False)
        if int(model.inputs[0].shape[-1]) != window:
            raise ValueError(f"{opts['init']}: its input has {model.inputs[0].shape[-1]} columns, not the window {window}")
    else:
        stats = feature_stats(prep(train.X), n_mfcc=int(cfg.get("n_mfcc", 20)))
        model = A.build(arch, cfg, n_classes=k, window=window, stats=stats)
    params = model.count_params()
    Xtr = np.asarray(train.X, np.float32)

    steps = int(np.ceil(len(train) * opts["crops_per_clip"] / opts["batch"]))
    total = steps * int(opts["epochs"])
    warm = steps * int(opts["warmup_epochs"])
    sched = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=float(opts["lr"]) * (0.1 if warm else 1.0), decay_steps=max(1, total - warm),
        warmup_target=float(opts["lr"]) if warm else None, warmup_steps=warm, alpha=0.01)
    opt = keras.optimizers.AdamW(learning_rate=sched, weight_decay=float(opts["weight_decay"]))
    model.compile(optimizer=opt,
                  loss=keras.losses.CategoricalCrossentropy(label_smoothing=float(opts["label_smoothing"])),
                  metrics=["categorical_accuracy"])
    ev_valid = _Evaluator(prep(valid.X), valid.y, classes, window, hop) if valid is not None else None
    # with selection "last" the valid clips choose nothing: they are measured once, at the end
    per_epoch_valid = ev_valid is not None and opts["selection"] == "valid"

    log(f"[{arch}] params={params:,} window={window} hop={hop} train={len(train)} "
        f"valid={0 if valid is None else len(valid)} steps/epoch={steps} seed={seed}")
    hist: dict[str, list] = {"loss": [], "train_acc": [], "valid_acc": [], "valid_f1": [], "valid_loss": [],
                             "seconds": []}
    best = (-1.0, -np.inf)
    best_epoch, best_metrics, since = 0, None, 0
    weights_path = out_dir / WEIGHTS_NAME
    t0 = time.time()
    for epoch in range(int(opts["epochs"])):
        Xep = Xtr
        if opts["codec_aug"]:
            Xep = codec_augment(Xtr.copy(), rng=rng, p=float(opts["codec_aug"]))
        xs, ys = random_crops(prep(Xep) if norm else Xep, train.y, width=window,
                              per_clip=int(opts["crops_per_clip"]), rng=rng)
        if opts["same_mix"]:
            same_genre_mix(xs, ys, p=float(opts["same_mix"]), rng=rng)
        if opts["eq_db"] or opts["band_shift"] or opts["contrast"]:
            spectral_augment(xs, rng=rng, eq_db=float(opts["eq_db"]), shift=int(opts["band_shift"]),
                             scale=float(opts["contrast"]), low=None if norm == "mean" else -80.0)
        if opts["time_blur"]:
            time_blur(xs, p=float(opts["time_blur"]), rng=rng)
        if opts["noise_db"]:
            xs += rng.normal(0.0, float(opts["noise_db"]), size=xs.shape).astype(np.float32)
            np.clip(xs, None if norm == "mean" else -80.0, 0.0, out=xs)
        if opts["specaug"]:
            spec_augment(xs, rng=rng)
        ysoft = _one_hot(ys, k)
        if opts["mixup"]:
            xs, ysoft = mixup(xs, ysoft, alpha=float(opts["mixup"]), rng=rng)
        h = model.fit(xs, ysoft, batch_size=int(opts["batch"]), epochs=1, verbose=0, shuffle=False)
        hist["loss"].append(float(h.history["loss"][-1]))
        hist["train_acc"].append(float(h.history["categorical_accuracy"][-1]))
        msg = f"epoch {epoch + 1:3d} loss {hist['loss'][-1]:.3f} train_win_acc {hist['train_acc'][-1]:.3f}"
        if per_epoch_valid:
            m, _ = ev_valid(model)
            hist["valid_acc"].append(m["accuracy"])
            hist["valid_f1"].append(m["macro_f1"])
            hist["valid_loss"].append(m["log_loss"])
            score = (m["accuracy"], -m["log_loss"])
            msg += f" | valid track acc {m['accuracy']:.3f} f1 {m['macro_f1']:.3f} loss {m['log_loss']:.3f}"
            if score > best or opts["selection"] == "last":
                best, best_epoch, best_metrics, since = score, epoch + 1, m, 0
                model.save(weights_path)
                msg += " *"
            else:
                since += 1
        else:
            model.save(weights_path)
            best_epoch = epoch + 1
        hist["seconds"].append(round(time.time() - t0, 1))
        log(msg + f" ({hist['seconds'][-1]:.0f}s)")
        if per_epoch_valid and since >= int(opts["patience"]):
            log(f"early stop: no better valid accuracy for {since} epochs")
            break
        if opts["time_budget_s"] and time.time() - t0 > float(opts["time_budget_s"]):
            log(f"time budget of {opts['time_budget_s']}s reached")
            break
    seconds = time.time() - t0

    # the selected model: reload it and measure train + valid track level, clean (no augmentation)
    best_model = keras.models.load_model(weights_path, compile=False)
    metrics: dict = {}
    ev_train = _Evaluator(prep(Xtr), train.y, classes, window, hop)
    metrics["train"] = ev_train(best_model)[0]
    if ev_valid is not None:
        metrics["valid"] = ev_valid(best_model)[0]
        if hist["valid_acc"]:
            metrics["valid_last_epoch"] = {"accuracy": hist["valid_acc"][-1], "macro_f1": hist["valid_f1"][-1]}
            metrics["valid_last5_mean_accuracy"] = float(np.mean(hist["valid_acc"][-5:]))
    metrics["level"] = "track: window probabilities averaged per clip, then argmax"
    training = {k2: v for k2, v in opts.items()}
    training.update({"hop": hop, "epochs_run": len(hist["loss"]), "best_epoch": best_epoch,
                     "seconds": round(seconds, 1), "steps_per_epoch": steps, "subset": subset,
                     "selection": ("epoch with the best valid track accuracy (ties: lower valid log-loss)"
                                   if opts["selection"] == "valid" else "last epoch")})
    card = make_card(arch=arch, config=cfg, classes=classes, window=window, hop=hop, weights_path=weights_path,
                     parameters=params, data=data_summary(data if not subset else train, train_split,
                                                          valid_split if valid is not None else None),
                     training=training, metrics=metrics)
    if subset:
        card["data"]["subset"] = {"train_clips": len(train), "valid_clips": 0 if valid is None else len(valid)}
    if heldout is not None:
        m_held, p_held = _Evaluator(prep(heldout.X), heldout.y, classes, window, window)(best_model)
        metrics["heldout"] = m_held
        card["data"]["holdout"] = {"fold": holdout[0], "folds": holdout[1], "split": train_split,
                                   "held_out_clips": len(heldout), "fit_clips": len(train),
                                   "folds_by": "models.data.artist_folds (runs of consecutive ids per genre)"}
        np.savez(out_dir / "heldout.npz", ids=heldout.ids, y=heldout.y, probs=p_held)
        log(f"held-out fold {holdout[0]}/{holdout[1]} ({len(heldout)} train clips): track acc {m_held['accuracy']:.3f}")
    write_card(out_dir, card)
    (out_dir / "history.json").write_text(json.dumps(hist, indent=1) + "\n")
    plot_curves(hist, out_dir / "curves.png", f"{card['version']}")
    if "valid" in metrics:
        plot_confusion(metrics["valid"]["confusion"], classes, out_dir / "confusion.png",
                       f"valid, track level: acc {metrics['valid']['accuracy']:.3f}")
    return card


def combine(member_dirs: list[Path], data: GenreData, *, out_dir: Path, hop: int | None = None, log=print,
            valid_split: str = "valid", train_split: str = "train", floor_weight: float | None = None,
            floor_C: float = 0.03, pooling: str = "arithmetic", floor_smooth: int = 1,
            floor_medians: bool = True, stack_folds: list[Path] | None = None, floor_mfcc: int = 20,
            floor_bands: int = 16, floor_codec_copies: int = 0, calibrate_folds: list[Path] | None = None,
            input_norm: str | None = None, floor_shape: bool = True) -> dict:
    """Average trained members (same window and classes) into one Keras model; evaluate on valid.

    With ``floor_weight`` (0..1) the result is the hybrid of ``models.hybrid``: the members run
    on the 3 s sub-windows of a 30 s excerpt window and are mixed with the hand-made-feature
    logistic regression (fitted here on the train clips only) with that weight.

    ``stack_folds`` (run directories trained with ``holdout``, one per fold, together covering the
    train clips) chooses the floor weight from the train clips alone: the floor is fitted on the
    same folds, and ``models.hybrid.fit_mix_weight`` weighs the two on their out-of-fold
    predictions.  The valid clips then only measure the result.

    Members trained with ``contrast_norm`` make a hybrid that contrast-normalises its input, with
    a floor fitted on contrast-normalised clips and ``floor_codec_copies`` codec-augmented copies
    of them (``models.hybrid.floor_inputs``).  ``input_norm`` puts that normalisation in front of
    members trained without it (the floor is then fitted on normalised clips too).  ``calibrate_folds`` (fold runs as for
    ``stack_folds``) fits the calibration temperature on the hybrid's out-of-fold predictions of
    the train clips (``calibration_from_folds``) and stores it in the card.
    """
    configure_tensorflow()
    import keras

    import models.layers  # noqa: F401
    from models import architectures as A

    t0 = time.time()
    cards = [read_card(d) for d in member_dirs]
    norms = {norm_method(c["training"].get("contrast_norm")) for c in cards}
    if len(norms) != 1:
        raise ValueError("the members disagree on contrast normalisation (train them all with or all without it)")
    contrast_norm = norms.pop()
    if input_norm is not None:
        if contrast_norm is not None and contrast_norm != norm_method(input_norm):
            raise ValueError(f"the members were trained with contrast normalisation {contrast_norm!r}, "
                             f"not {input_norm!r}")
        contrast_norm = norm_method(input_norm)
    floor_opts = dict(smooth=floor_smooth, medians=floor_medians, shape=floor_shape, n_mfcc=floor_mfcc,
                      n_bands=floor_bands, contrast_norm=contrast_norm, codec_copies=int(floor_codec_copies))
    window = cards[0]["window"]
    if any(c["window"] != window or c["classes"] != cards[0]["classes"] for c in cards):
        raise ValueError("ensemble members must share window and classes")
    classes = cards[0]["classes"]
    if classes != list(data.genres):
        raise ValueError("the members' classes differ from the data's genres")
    members = [keras.models.load_model(Path(d) / c["weights"], compile=False) for d, c in zip(member_dirs, cards)]
    for i, m in enumerate(members):
        m.name = f"m{i}_{m.name}"
    member_hop = int(hop or cards[0]["hop"])
    valid = data.part(valid_split)
    metrics: dict = {}
    extra: dict = {}
    stacking = None
    if stack_folds:
        stacking = stack_weight(stack_folds, data.part(train_split), floor_C=floor_C, pooling=pooling,
                                floor_smooth=floor_smooth, floor_medians=floor_medians, floor_mfcc=floor_mfcc,
                                floor_bands=floor_bands, contrast_norm=contrast_norm,
                                codec_copies=int(floor_codec_copies), floor_shape=floor_shape)
        floor_weight = stacking["floor_weight"]
        log(f"floor weight from {stacking['clips']} out-of-fold train clips: {floor_weight:.3f} "
            f"(out-of-fold acc {stacking['accuracy']:.3f}; at 0.5: {stacking['accuracy_at_0.5']:.3f}; "
            f"floor {stacking['floor_accuracy']:.3f}, cnn {stacking['cnn_accuracy']:.3f})")
    if floor_weight is None:
        model = A.ensemble(members, name="ensemble")
        out_window, out_hop, arch = window, member_hop, "ensemble-" + "+".join(sorted({c["arch"] for c in cards}))
    else:
        from models.hybrid import build_hybrid, fit_floor

        train = data.part(train_split)
        scaler, lr = fit_floor(train.X, train.y, C=floor_C, n_classes=len(classes), **floor_opts)
        model = build_hybrid(members, scaler, lr, floor_weight=float(floor_weight), sub_hop=member_hop,
                             pooling=pooling, floor_smooth=floor_smooth, floor_medians=floor_medians,
                             floor_mfcc=floor_mfcc, floor_bands=floor_bands, contrast_norm=contrast_norm,
                             floor_shape=floor_shape)
        out_window = int(model.inputs[0].shape[-1])
        out_hop = out_window
        arch = "hybrid"
        # the two parts alone, for the record (same valid clips, same windows)
        cnn_only = keras.Model(model.inputs, model.get_layer("cnn_probs").output)
        floor_only = keras.Model(model.inputs, model.get_layer("floor_logreg").output)
        ev = _Evaluator(valid.X, valid.y, classes, out_window, out_hop)
        metrics["valid_cnn_part"] = ev(cnn_only)[0]
        metrics["valid_floor_part"] = ev(floor_only)[0]
        extra["hybrid"] = {"floor_weight": float(floor_weight), "floor_C": floor_C, "sub_window": window,
                           "sub_hop": member_hop, "floor_fit_on": train_split, "pooling": pooling,
                           "floor_smooth": int(floor_smooth), "floor_medians": bool(floor_medians),
                           "floor_shape": bool(floor_shape),
                           "floor_mfcc": int(floor_mfcc), "floor_bands": int(floor_bands),
                           "contrast_norm": contrast_norm, "floor_codec_copies": int(floor_codec_copies)}
        if stacking is not None:
            extra["hybrid"]["floor_weight_from"] = {**stacking, "runs": [str(d) for d in stack_folds]}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    weights_path = out_dir / WEIGHTS_NAME
    model.save(weights_path)
    probe = keras.Model(model.inputs, model.outputs[0])
    metrics["valid"], valid_probs = _Evaluator(valid.X, valid.y, classes, out_window, out_hop)(probe)
    if calibrate_folds:
        if floor_weight is None:
            raise ValueError("calibration from fold runs needs a hybrid (--floor-weight or --stack-folds)")
        from models.calibration import apply_temperature
        from models.metrics import expected_calibration_error

        cal = calibration_from_folds(calibrate_folds, data.part(train_split), floor_weight=float(floor_weight),
                                     pooling=pooling, floor_C=floor_C, **floor_opts)
        t = cal["temperature"]
        cal["valid_ece_15_before"] = expected_calibration_error(valid_probs, valid.y)
        cal["valid_ece_15_after"] = expected_calibration_error(apply_temperature(valid_probs, t), valid.y)
        extra["calibration"] = cal
        log(f"calibration temperature {t:.3f} from {cal['clips']} out-of-fold train clips "
            f"(their ECE {cal['oof_ece_15_before']:.3f} -> {cal['oof_ece_15_after']:.3f}); valid ECE "
            f"{cal['valid_ece_15_before']:.3f} -> {cal['valid_ece_15_after']:.3f}")
    # members trained without the valid clips at hand (a GPU machine given only the train clips)
    # have no valid numbers of their own
    accs = [c["metrics"]["valid"]["accuracy"] for c in cards if "valid" in c.get("metrics", {})]
    f1s = [c["metrics"]["valid"]["macro_f1"] for c in cards if "macro_f1" in c.get("metrics", {}).get("valid", {})]
    sd = (lambda v: float(np.std(v, ddof=1)) if len(v) > 1 else 0.0)
    if accs:
        metrics["members_valid_accuracy"] = {"values": accs, "mean": float(np.mean(accs)), "sd": sd(accs)}
    if f1s:
        metrics["members_valid_macro_f1"] = {"values": f1s, "mean": float(np.mean(f1s)), "sd": sd(f1s)}
    metrics["level"] = "track: window probabilities averaged per clip, then argmax"
    msg = (f"{arch} of {len(cards)} members: valid track acc {metrics['valid']['accuracy']:.3f} "
           f"f1 {metrics['valid']['macro_f1']:.3f}")
    if accs:
        msg += f"; members {np.mean(accs):.3f} +- {metrics['members_valid_accuracy']['sd']:.3f}"
    if "valid_cnn_part" in metrics:
        msg += (f"; cnn part {metrics['valid_cnn_part']['accuracy']:.3f}, "
                f"floor part {metrics['valid_floor_part']['accuracy']:.3f}")
    log(msg)
    training = {"members": [{"version": c["version"], "arch": c["arch"], "seed": c["training"].get("seed"),
                             "config": c["config"], "training": c["training"],
                             "valid_accuracy": c["metrics"].get("valid", {}).get("accuracy")} for c in cards],
                "seconds": round(sum(c["training"].get("seconds", 0) for c in cards) + time.time() - t0, 1)}
    card = make_card(arch=arch, config={"members": len(cards), **extra.get("hybrid", {})}, classes=classes,
                     window=out_window, hop=out_hop, weights_path=weights_path, parameters=model.count_params(),
                     data=data_summary(data, train_split, valid_split), training=training, metrics=metrics,
                     extra=extra)
    write_card(out_dir, card)
    plot_confusion(metrics["valid"]["confusion"], classes, out_dir / "confusion.png",
                   f"{arch} ({len(cards)} CNN members), valid, track level: acc {metrics['valid']['accuracy']:.3f}")
    _plot_member_curves(member_dirs, out_dir / "curves.png")
    return card


def _heldout_probs_normalised(run_dir: Path, card: dict, train: GenreData, ids, method: str | None) -> np.ndarray:
    """A fold run's track probabilities of its held-out clips ``ids``, the clips first given the
    contrast normalisation ``method`` (the hybrid's input normalisation in front of a network
    trained without it), evaluated as training evaluated them (windows at hop = window)."""
    configure_tensorflow()
    import keras

    import models.layers  # noqa: F401

    pos = {c: j for j, c in enumerate(train.ids)}
    held = train.subset(np.array([pos[i] for i in ids]))
    X = contrast_normalise(held.X, method=method) if method else np.asarray(held.X, np.float32)
    model = keras.models.load_model(run_dir / card["weights"], compile=False)
    return _Evaluator(X, held.y, card["classes"], card["window"], card["window"])(model)[1]


def oof_predictions(fold_dirs: list[Path], train: GenreData, *, floor_C: float = 0.03, **floor_opts) -> tuple:
    """Out-of-fold predictions of the train clips: ``(p_floor, p_cnn, k)`` -- the CNN's from
    ``heldout.npz`` of runs trained with ``holdout=(i, k)`` (averaged over the runs of a fold;
    recomputed from the run's weights on normalised clips when the hybrid contrast-normalises its
    input and the run was trained without it), the floor's refitted on the same folds here
    (``models.hybrid.oof_floor_probs`` with ``floor_opts``: smooth, medians, shape, n_mfcc, n_bands,
    contrast_norm, codec_copies)."""
    from models.hybrid import oof_floor_probs

    ks = set()
    cnn = {}
    fold_of: dict[str, int] = {}
    for d in fold_dirs:
        p = Path(d) / "heldout.npz"
        if not p.exists():
            raise ValueError(f"{d}: no heldout.npz (train it with --holdout-fold I/K)")
        h = np.load(p, allow_pickle=False)
        card = read_card(d)
        ks.add(int(card["data"]["holdout"]["folds"]))
        fold = int(card["data"]["holdout"]["fold"])
        probs = h["probs"]
        if norm_method(card["training"].get("contrast_norm")) != norm_method(floor_opts.get("contrast_norm")):
            probs = _heldout_probs_normalised(Path(d), card, train, h["ids"].astype(str),
                                              norm_method(floor_opts.get("contrast_norm")))
        for i, pr in zip(h["ids"].astype(str), probs):
            cnn.setdefault(i, []).append(pr)
            if fold_of.setdefault(i, fold) != fold:
                raise ValueError(f"{d}: clip {i} is held out by fold {fold} here and by fold {fold_of[i]} in "
                                 f"another run (the runs were split differently)")
    if len(ks) != 1:
        raise ValueError(f"the fold runs disagree on the number of folds: {sorted(ks)}")
    k = ks.pop()
    missing = [i for i in train.ids if i not in cnn]
    if missing:
        raise ValueError(f"{len(missing)} train clips have no out-of-fold CNN prediction (e.g. {missing[0]}): "
                         f"train every fold 0..{k - 1}")
    p_cnn = np.stack([np.mean(cnn[i], axis=0) for i in train.ids])
    folds = np.array([fold_of[i] for i in train.ids], np.int64)  # the folds the runs were trained on
    p_floor = oof_floor_probs(train.X, train.y, folds, C=floor_C, n_classes=len(train.genres), **floor_opts)
    return p_floor, p_cnn, k


def stack_weight(fold_dirs: list[Path], train: GenreData, *, floor_C: float = 0.03, pooling: str = "geometric",
                 floor_smooth: int = 1, floor_medians: bool = True, floor_mfcc: int = 20, floor_bands: int = 16,
                 contrast_norm: bool | str = False, codec_copies: int = 0, floor_shape: bool = True) -> dict:
    """The floor weight fitted on out-of-fold predictions of the train clips (see ``combine`` and
    :func:`oof_predictions`)."""
    from models.hybrid import fit_mix_weight

    p_floor, p_cnn, k = oof_predictions(fold_dirs, train, floor_C=floor_C, smooth=floor_smooth,
                                        medians=floor_medians, shape=floor_shape, n_mfcc=floor_mfcc,
                                        n_bands=floor_bands, contrast_norm=contrast_norm, codec_copies=codec_copies)
    out = fit_mix_weight(p_floor, p_cnn, train.y, pooling=pooling)
    out["folds"] = k
    return out


def mix_probs(p_floor: np.ndarray, p_cnn: np.ndarray, *, floor_weight: float, pooling: str,
              eps: float = 1e-6) -> np.ndarray:
    """The hybrid's mix of floor and CNN probabilities in numpy (``models.layers.WeightedAverage``
    or ``LogLinearPool``)."""
    w = float(floor_weight)
    if pooling == "arithmetic":
        return w * np.asarray(p_floor) + (1 - w) * np.asarray(p_cnn)
    z = w * np.log(np.asarray(p_floor, np.float64) + eps) + (1 - w) * np.log(np.asarray(p_cnn, np.float64) + eps)
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def calibration_from_folds(fold_dirs: list[Path], train: GenreData, *, floor_weight: float, pooling: str,
                           floor_C: float = 0.03, **floor_opts) -> dict:
    """The calibration temperature of a hybrid, fitted on its out-of-fold predictions of the train
    clips (:func:`oof_predictions` mixed as the hybrid mixes them) -- never on the valid clips.
    Returns the card's ``calibration`` record."""
    from models.calibration import apply_temperature, fit_temperature, log_loss
    from models.metrics import expected_calibration_error

    p_floor, p_cnn, k = oof_predictions(fold_dirs, train, floor_C=floor_C, **floor_opts)
    p = mix_probs(p_floor, p_cnn, floor_weight=floor_weight, pooling=pooling)
    t = fit_temperature(p, train.y)
    cal = apply_temperature(p, t)
    return {"temperature": round(t, 4), "method": "temperature scaling (minimum log-loss)",
            "fitted_on": f"out-of-fold predictions of the {len(train)} train clips, {k} artist folds "
                         "(models.data.artist_folds); CNN part from the fold runs, floor refitted per fold",
            "runs": [str(d) for d in fold_dirs], "clips": int(len(train)), "folds": int(k),
            "oof_accuracy": float((p.argmax(1) == train.y).mean()),
            "oof_log_loss_before": log_loss(p, train.y), "oof_log_loss_after": log_loss(cal, train.y),
            "oof_ece_15_before": expected_calibration_error(p, train.y),
            "oof_ece_15_after": expected_calibration_error(cal, train.y)}


def _plot_member_curves(member_dirs, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    for d in member_dirs:
        hp = Path(d) / "history.json"
        if not hp.exists():
            continue
        h = json.loads(hp.read_text())
        ep = np.arange(1, len(h["loss"]) + 1)
        a.plot(ep, h["loss"], label=f"{Path(d).name} train loss")
        if h.get("valid_loss"):
            a.plot(ep, h["valid_loss"], ls="--", label=f"{Path(d).name} valid log-loss")
        if h.get("valid_acc"):
            b.plot(ep, h["valid_acc"], label=f"{Path(d).name} valid track acc")
    a.set_xlabel("epoch")
    b.set_xlabel("epoch")
    b.set_ylim(0, 1)
    a.legend(fontsize=6)
    b.legend(fontsize=6)
    fig.suptitle("ensemble members: training curves")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def train_floor(data: GenreData, *, arch: str, out_dir: Path, config: dict | None = None, log=print,
                train_split: str = "train", valid_split: str = "valid", subset: int | None = None) -> dict:
    """The non-deep floor: per-clip statistics -> SVM / logistic regression (clip level)."""
    import pickle

    from models import architectures as A
    from models.handcrafted import features_of

    cfg = A.default_config(arch)
    cfg.update(config or {})
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    train = data.part(train_split)
    valid = data.part(valid_split)
    if subset:
        train = train.subset(np.sort(np.random.default_rng(0).permutation(len(train))[: int(subset)]))
    Ft, Fv = features_of(train.X, int(cfg["n_mfcc"])), features_of(valid.X, int(cfg["n_mfcc"]))
    clf = A.build(arch, cfg, n_classes=len(data.genres), window=0)
    clf.fit(Ft, train.y)
    seconds = time.time() - t0
    metrics = {"train": classification_metrics(train.y, clf.predict(Ft), data.genres),
               "valid": classification_metrics(valid.y, clf.predict(Fv), data.genres),
               "level": "clip: one feature vector per clip"}
    path = out_dir / "model.pkl"
    with open(path, "wb") as f:
        pickle.dump(clf, f)
    log(f"[{arch}] valid acc {metrics['valid']['accuracy']:.3f} f1 {metrics['valid']['macro_f1']:.3f} ({seconds:.0f}s)")
    card = make_card(arch=arch, config=cfg, classes=data.genres, window=int(data.X.shape[2]), hop=int(data.X.shape[2]),
                     weights_path=path, parameters=int(Ft.shape[1]),
                     data=data_summary(data, train_split, None), training={"seconds": round(seconds, 1)},
                     metrics=metrics, extra={"note": "scikit-learn floor; not loadable by GenreModel"})
    write_card(out_dir, card)
    plot_confusion(metrics["valid"]["confusion"], data.genres, out_dir / "confusion.png",
                   f"{arch}, valid: acc {metrics['valid']['accuracy']:.3f}")
    return card


def extract_members(hybrid_dir: str | Path, out_root: str | Path) -> list[Path]:
    """The CNN members of a trained hybrid (``combine``) as runs of their own: ``out_root/m0``,
    ``m1``, ... each with the member's network (probabilities out, layer ``embedding`` inside) as
    ``model.keras`` and a card made from the hybrid card's record of that member; for
    fine-tuning them (``train_network(init=...)``) when their original run folders are gone."""
    configure_tensorflow()
    import keras

    import models.layers  # noqa: F401

    hybrid_dir, out_root = Path(hybrid_dir), Path(out_root)
    card = read_card(hybrid_dir)
    model = keras.models.load_model(hybrid_dir / card["weights"], compile=False)
    records = card["training"]["members"]
    out = []
    for i, rec in enumerate(records):
        sub = model.get_layer(f"member{i}")
        net = keras.Model(sub.inputs, sub.outputs[0], name=f"member{i}")
        d = out_root / f"m{i}"
        d.mkdir(parents=True, exist_ok=True)
        net.save(d / WEIGHTS_NAME)
        write_card(d, make_card(arch=rec["arch"], config=rec["config"], classes=card["classes"],
                                window=int(rec["training"]["window"]), hop=int(rec["training"]["hop"]),
                                weights_path=d / WEIGHTS_NAME, parameters=net.count_params(), data=card["data"],
                                training=rec["training"], metrics={"valid": {"accuracy": rec["valid_accuracy"]}},
                                extra={"extracted_from": card["version"]}))
        out.append(d)
    return out
