"""The genre model at run time: load a shipped (or any trained) model with its card, predict.

    model = GenreModel.load()                       # models/shipped/
    window_probs, track_probs = model.predict_logmel(S)
    window_probs, track_probs, emb = model.analyse_logmel(S)   # one forward pass

``S`` is a whole track's log-mel from ``core.features.logmel_track`` ``(128, n_columns)``.
TensorFlow is imported only when a model is loaded (the app starts without it).

A model directory holds ``card.json`` and the weights file it names (a ``.keras`` model).
Loading refuses, with a ``ModelError`` and a one-line reason, a missing or corrupt card, a
missing or corrupt weights file (the card records its SHA-256), or a card whose front-end
parameters differ from ``core.features.FRONTEND_PARAMS``.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from core.features import FRONTEND_PARAMS, N_MELS, window_starts, windows

SHIPPED_DIR = Path(__file__).resolve().parent / "shipped"
CARD_NAME = "card.json"
REQUIRED_CARD_KEYS = ("version", "classes", "frontend", "window", "hop", "input_shape", "weights", "weights_sha256")


class ModelError(RuntimeError):
    """A model that cannot be used: missing/corrupt files or an incompatible card."""


def sha256_of(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def configure_tensorflow(threads: int | None = None) -> None:
    """Quiet TF logging and cap its threads (call before the first TF op)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    n = threads or int(os.environ.get("MELOGRAPH_TF_THREADS", "0") or 0) or min(2, os.cpu_count() or 1)
    try:
        tf.config.threading.set_inter_op_parallelism_threads(n)
        tf.config.threading.set_intra_op_parallelism_threads(n)
    except RuntimeError:  # already initialised: keep what is there
        pass


def read_card(model_dir: str | Path) -> dict:
    """Read and check a model card; ``ModelError`` on anything unusable."""
    model_dir = Path(model_dir)
    card_path = model_dir / CARD_NAME
    if not model_dir.exists():
        raise ModelError(f"{model_dir}: no such model directory")
    if not card_path.is_file():
        raise ModelError(f"{card_path}: model card is missing")
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{card_path}: model card is corrupt ({exc.__class__.__name__}: {exc})") from None
    if not isinstance(card, dict):
        raise ModelError(f"{card_path}: model card is corrupt (not a JSON object)")
    missing = [k for k in REQUIRED_CARD_KEYS if k not in card]
    if missing:
        raise ModelError(f"{card_path}: model card is corrupt (missing {', '.join(missing)})")
    if card["frontend"] != FRONTEND_PARAMS:
        diff = sorted(k for k in set(card["frontend"] or {}) | set(FRONTEND_PARAMS)
                      if (card["frontend"] or {}).get(k) != FRONTEND_PARAMS.get(k))
        raise ModelError(f"{card_path}: the model was trained with other front-end parameters than this "
                         f"code computes (differs in: {', '.join(diff) or 'everything'}); it cannot be used")
    if not isinstance(card["classes"], list) or len(card["classes"]) < 2:
        raise ModelError(f"{card_path}: model card is corrupt (classes must be a list of names)")
    try:
        card["window"], card["hop"] = int(card["window"]), int(card["hop"])
    except (TypeError, ValueError):
        raise ModelError(f"{card_path}: model card is corrupt (window/hop must be integers)") from None
    if card["window"] <= 0 or card["hop"] <= 0:
        raise ModelError(f"{card_path}: model card is corrupt (window/hop must be positive)")
    return card


class GenreModel:
    """A loaded genre network and its card.  Load once; predict in batches."""

    def __init__(self, keras_model, card: dict, path: Path, batch_size: int = 256):
        self._model = keras_model
        self.card = card
        self.path = path
        self.batch_size = batch_size
        self._fn = None

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, path: str | Path | None = None, *, threads: int | None = None) -> "GenreModel":
        """Load the model in directory ``path`` (default: the shipped model)."""
        model_dir = Path(path) if path is not None else SHIPPED_DIR
        if model_dir.is_file():  # a card or weights file given directly
            model_dir = model_dir.parent
        card = read_card(model_dir)
        weights = model_dir / str(card["weights"])
        if not weights.is_file():
            raise ModelError(f"{weights}: weights file is missing")
        if sha256_of(weights) != card["weights_sha256"]:
            raise ModelError(f"{weights}: weights file is corrupt (its SHA-256 does not match the model card)")
        configure_tensorflow(threads)
        import keras

        import models.layers  # noqa: F401  (registers the custom layers for deserialisation)

        try:
            raw = keras.models.load_model(weights, compile=False)
        except Exception as exc:  # noqa: BLE001  (keras raises many kinds for a bad file)
            raise ModelError(f"{weights}: weights file is corrupt or not a Keras model "
                             f"({exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''})") from None
        expected = [N_MELS, card["window"]]
        got = [int(d) for d in raw.inputs[0].shape[1:]]
        if got != expected:
            raise ModelError(f"{weights}: model input {got} does not match the card's window {expected}")
        return cls(_with_embedding(raw), card, model_dir)

    # ------------------------------------------------------------------ properties
    @property
    def classes(self) -> list[str]:
        return list(self.card["classes"])

    @property
    def version(self) -> str:
        return str(self.card["version"])

    @property
    def window(self) -> int:
        return int(self.card["window"])

    @property
    def hop(self) -> int:
        return int(self.card["hop"])

    @property
    def embedding_dim(self) -> int:
        return int(self._model.outputs[1].shape[-1])

    # ------------------------------------------------------------------ prediction
    def _forward(self, wins: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import tensorflow as tf

        if self._fn is None:
            model = self._model
            self._fn = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
        probs, embs = [], []
        for a in range(0, len(wins), self.batch_size):
            p, e = self._fn(tf.convert_to_tensor(wins[a : a + self.batch_size]))
            probs.append(p.numpy())
            embs.append(e.numpy())
        return np.concatenate(probs).astype(np.float32), np.concatenate(embs).astype(np.float32)

    def windows_of(self, S: np.ndarray) -> np.ndarray:
        S = np.asarray(S, dtype=np.float32)
        if S.ndim != 2 or S.shape[0] != N_MELS:
            raise ValueError(f"expected a log-mel of shape ({N_MELS}, n_columns), got {S.shape}")
        if S.shape[1] == 0:
            raise ValueError("the log-mel has no columns (empty audio)")
        return windows(S, width=self.window, hop=self.hop)

    def window_starts(self, S: np.ndarray) -> np.ndarray:
        """Start column of each window of ``S`` (as cut by ``core.features.windows``)."""
        return window_starts(S.shape[1], width=self.window, hop=self.hop)

    def analyse_windows(self, wins: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(probs (n, C), embeddings (n, D))`` of ready-cut windows ``(n, 128, window)``,
        one batched forward pass."""
        return self._forward(np.asarray(wins, np.float32))

    def predict_windows(self, wins: np.ndarray) -> np.ndarray:
        """Probabilities ``(n, n_classes)`` of ready-cut windows ``(n, 128, window)``."""
        return self._forward(np.asarray(wins, np.float32))[0]

    def analyse_logmel(self, S: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(window_probs (n_win, C), track_probs (C,), embeddings (n_win, D))`` in one pass."""
        p, e = self._forward(self.windows_of(S))
        return p, p.mean(axis=0), e

    def predict_logmel(self, S: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(window_probs (n_win, C), track_probs (C,))``: track = mean of the windows."""
        p, t, _ = self.analyse_logmel(S)
        return p, t

    def embed_logmel(self, S: np.ndarray) -> np.ndarray:
        """Window embeddings ``(n_win, D)`` float32 from the convolutional trunk."""
        return self.analyse_logmel(S)[2]

    def predict_clips(self, X: np.ndarray) -> np.ndarray:
        """Track probabilities ``(n_clips, C)`` for a stack of clip log-mels ``(n, 128, cols)``,
        all windows of all clips batched together."""
        from models.data import clip_windows, track_probs

        wins, owner = clip_windows(X, width=self.window, hop=self.hop)
        return track_probs(self.predict_windows(wins), owner, len(X))


def _with_embedding(model):
    """A model with outputs ``[probs, embedding]`` (ensembles already have them)."""
    import keras

    if len(model.outputs) == 2:
        return model
    try:
        emb = model.get_layer("embedding").output
    except ValueError:
        raise ModelError(f"model {model.name!r} has no layer named 'embedding'") from None
    return keras.Model(model.inputs, [model.outputs[0], emb], name=model.name + "_with_embedding")
