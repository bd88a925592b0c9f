"""Seed architecture "frame LSTM": an LSTM over frozen ~1 s frame embeddings of our own CNN.

    .venv/bin/python -m models.frame_lstm --trunk RUN --out runs/NAME [--epochs 60] [--seed 0]

The trunk is a trained "ours" member (``RUN/model.keras``, fitted on the train clips only): its
convolutional layers and per-band normalisation, rebuilt for frames of ``FRAME`` columns (13
columns = 1.0 s; the 1-D convolutions do not depend on the input length), give one embedding per
frame (global mean + max over time, the member's layer ``embedding``).  A clip's 387 columns
become 29 frames (hop 13; ``core.features.window_starts``), and the LSTM reads that sequence:
LSTM(64) -> dropout 0.3 -> softmax.  The trunk stays frozen, so the embeddings are computed once
(at three frame phases, 0 / 4 / 8 columns, for the train clips: three sequences per clip) and
only the LSTM trains: random contiguous runs of 10-29 frames per epoch, Adam, the last epoch
kept (the valid clips are measured once, at the end).  When the trunk was trained on
contrast-normalised clips (its card says so) the clips are contrast-normalised first.

The run folder gets ``lstm.keras`` (the LSTM on embeddings) and a ``card.json`` with the same
metrics as every other run (``models.results_table`` prints its row).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from core.features import N_MELS, window_starts

FRAME = 13  #: columns per frame (~1.0 s)


def frame_embedder(trunk_dir: Path, frame: int = FRAME):
    """The trunk's layers on ``(batch, 128, frame)`` inputs, output its ``embedding``."""
    import keras

    import models.layers  # noqa: F401
    from models import architectures as A
    from models.card import read_card

    card = read_card(trunk_dir)
    member = keras.models.load_model(Path(trunk_dir) / card["weights"], compile=False)
    cfg = dict(card["config"])
    norm = member.get_layer("norm")
    stats = {cfg.get("feature", "logmel"): None}
    if hasattr(norm, "mean") and hasattr(norm, "variance"):  # the per-band Normalization: copy its statistics
        stats[cfg.get("feature", "logmel")] = (np.asarray(norm.mean).reshape(-1), np.asarray(norm.variance).reshape(-1))
    net = A.build(card["arch"], cfg, n_classes=len(card["classes"]), window=frame, stats=stats)
    if len(net.weights) != len(member.weights):
        raise ValueError(f"{trunk_dir}: cannot rebuild the trunk for {frame}-column frames")
    net.set_weights(member.get_weights())
    return keras.Model(net.inputs, net.get_layer("embedding").output, name="frame_embedder"), card


def sequences(embedder, X: np.ndarray, *, frame: int = FRAME, phase: int = 0, batch: int = 1024) -> np.ndarray:
    """Frame embeddings ``(n_clips, n_frames, D)`` of clips ``(n, 128, cols)`` starting at ``phase``."""
    X = np.asarray(X, np.float32)[:, :, phase:]
    starts = window_starts(X.shape[2], width=frame, hop=frame)
    frames = np.stack([X[:, :, s : s + frame] for s in starts], axis=1).reshape(-1, N_MELS, frame)
    out = np.concatenate([embedder.predict(frames[a : a + batch], verbose=0) for a in range(0, len(frames), batch)])
    return out.reshape(len(X), len(starts), -1).astype(np.float32)


def build_lstm(dim: int, n_classes: int, units: int = 64, dropout: float = 0.3):
    import keras
    from keras import layers

    inp = keras.Input(shape=(None, dim), name="frame_embeddings")
    h = layers.LSTM(units, name="lstm")(inp)
    h = layers.Dropout(dropout)(h)
    return keras.Model(inp, layers.Dense(n_classes, activation="softmax", name="probs")(h), name="frame_lstm")


def train(trunk_dir: Path, out_dir: Path, *, epochs: int = 60, seed: int = 0, log=print) -> dict:
    from models.genre import configure_tensorflow

    configure_tensorflow()
    import keras

    from models.card import write_card
    from models.data import DEFAULT_NPZ, contrast_normalise, load_npz, norm_method
    from models.metrics import classification_metrics
    from models.training import data_summary, make_card

    t0 = time.time()
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    data = load_npz(DEFAULT_NPZ)
    train, valid = data.part("train"), data.part("valid")
    embedder, trunk_card = frame_embedder(Path(trunk_dir))
    norm = norm_method(trunk_card["training"].get("contrast_norm"))
    prep = (lambda X: contrast_normalise(X, method=norm)) if norm else (lambda X: np.asarray(X, np.float32))
    Xtr, Xva = prep(train.X), prep(valid.X)
    phases = (0, 4, 8)
    seqs = [sequences(embedder, Xtr, phase=p) for p in phases]
    n_frames = min(s.shape[1] for s in seqs)
    S_tr = np.concatenate([s[:, :n_frames] for s in seqs])
    y_tr = np.tile(train.y, len(phases))
    S_va = sequences(embedder, Xva)
    log(f"[frame_lstm] trunk {trunk_card['version']}: {S_tr.shape[0]} train sequences of {n_frames} frames "
        f"x {S_tr.shape[2]} ({time.time() - t0:.0f}s)")
    k = len(data.genres)
    model = build_lstm(S_tr.shape[2], k)
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1), metrics=["categorical_accuracy"])
    onehot = np.eye(k, dtype=np.float32)
    hist = {"loss": [], "train_acc": []}
    for epoch in range(epochs):
        length = int(rng.integers(10, n_frames + 1))
        start = rng.integers(0, n_frames - length + 1, size=len(S_tr))
        xb = np.stack([S_tr[i, s : s + length] for i, s in enumerate(start)])
        h = model.fit(xb, onehot[y_tr], batch_size=32, epochs=1, verbose=0, shuffle=True)
        hist["loss"].append(float(h.history["loss"][-1]))
        hist["train_acc"].append(float(h.history["categorical_accuracy"][-1]))
        if (epoch + 1) % 10 == 0:
            log(f"epoch {epoch + 1:3d} loss {hist['loss'][-1]:.3f} train acc {hist['train_acc'][-1]:.3f}")
    seconds = time.time() - t0
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "lstm.keras"
    model.save(path)
    p_va = model.predict(S_va, verbose=0)
    p_tr = model.predict(seqs[0], verbose=0)
    metrics = {"train": classification_metrics(train.y, p_tr.argmax(1), data.genres, p_tr),
               "valid": classification_metrics(valid.y, p_va.argmax(1), data.genres, p_va),
               "level": "track: one 29-frame sequence per clip"}
    log(f"[frame_lstm] valid track acc {metrics['valid']['accuracy']:.3f} f1 {metrics['valid']['macro_f1']:.3f} "
        f"({seconds / 60:.1f} min)")
    trunk_params = int(embedder.count_params())
    card = make_card(arch="frame_lstm", config={"feature": "logmel", "frame": FRAME, "phases": list(phases),
                                                "units": 64, "dropout": 0.3, "trunk": str(trunk_dir),
                                                "trunk_version": trunk_card["version"],
                                                "trunk_parameters_frozen": trunk_params},
                     classes=data.genres, window=int(data.X.shape[2]), hop=int(data.X.shape[2]), weights_path=path,
                     parameters=model.count_params(), data=data_summary(data, "train", None),
                     training={"epochs": epochs, "epochs_run": epochs, "best_epoch": epochs, "seed": seed,
                               "selection": "last epoch", "seconds": round(seconds, 1),
                               "contrast_norm": norm},
                     metrics=metrics, extra={"note": "LSTM on frozen frame embeddings; not loadable by GenreModel"})
    write_card(out_dir, card)
    (out_dir / "history.json").write_text(json.dumps(hist, indent=1) + "\n")
    return card


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trunk", required=True, help="a trained 'ours' run (its model.keras and card.json)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    train(Path(a.trunk), Path(a.out), epochs=a.epochs, seed=a.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
