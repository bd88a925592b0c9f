"""The genre model at run time: load a shipped (or any trained) model with its card, predict.

    model = GenreModel.load()                       # models.card.model_dir(): models/shipped/ by default
    window_probs, track_probs = model.predict_logmel(S)
    window_probs, track_probs, emb = model.analyse_logmel(S)   # one forward pass

``S`` is a whole track's log-mel from ``core.features.logmel_track`` ``(128, n_columns)``.

Two runtimes compute the same function (``models/export.py`` checks them against each other):

- ``"litert"``: the model's LiteRT (TensorFlow Lite) export, ``model.tflite``, run by the small
  ``ai-edge-litert`` interpreter.  No TensorFlow is imported; loading takes a few milliseconds
  instead of seconds.  The analysis workers use it.
- ``"keras"``: the Keras model (``model.keras``) in TensorFlow, the reference and the training
  format; TensorFlow is imported only when such a model is loaded (the app starts without it).

``GenreModel.load(path, runtime="auto")`` takes the LiteRT export when the card names one
(``python -m models.export DIR`` writes it), else the Keras model.

Every probability it returns (windows, track, timeline) is calibrated with the temperature in
the card (``models.calibration``; none: the network's own), whichever runtime computed it.

Loading refuses, with a ``ModelError`` and a one-line reason, what ``models.card.read_card``
refuses (a missing or corrupt card, other front-end parameters than the code's), a missing or
corrupt weights or ``.tflite`` file (the card records their SHA-256), a ``.tflite`` exported
from other weights than the card's, and a card that does not describe the network it loaded: an
input other than the card's window, or a number of outputs other than the card's class names
(results would be stored under the card's version with the wrong names).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from core.features import N_MELS, fill_window, window_starts, windows
from models.calibration import apply_temperature
from models.card import CARD_NAME, ModelError, model_dir as resolve_model_dir, read_card, sha256_of, temperature_of


def compute_threads(threads: int | None = None) -> int:
    """Inference threads: ``threads``, else ``$MELOGRAPH_TF_THREADS``, else up to 2."""
    return threads or int(os.environ.get("MELOGRAPH_TF_THREADS", "0") or 0) or min(2, os.cpu_count() or 1)


def configure_tensorflow(threads: int | None = None) -> None:
    """Quiet TF logging and cap its threads (:func:`compute_threads`; call before the first TF op).
    Nothing to do when Keras runs on another back end (``KERAS_BACKEND=jax``: training on a GPU
    machine without TensorFlow)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow":
        return
    import tensorflow as tf

    n = compute_threads(threads)
    try:
        tf.config.threading.set_inter_op_parallelism_threads(n)
        tf.config.threading.set_intra_op_parallelism_threads(n)
    except RuntimeError:  # already initialised: keep what is there
        pass


RUNTIMES = ("auto", "litert", "keras")


class KerasBackend:
    """The Keras model in TensorFlow (the reference runtime)."""

    runtime = "keras"

    def __init__(self, keras_model, batch_size: int = 256):
        self.keras_model = keras_model
        self.batch_size = batch_size
        self._fn = None

    @property
    def embedding_dim(self) -> int:
        return int(self.keras_model.outputs[1].shape[-1])

    @property
    def n_outputs(self) -> int:
        """Classes the network scores (the size of its ``probs`` output)."""
        return int(self.keras_model.outputs[0].shape[-1])

    @property
    def has_timeline(self) -> bool:
        return len(self.keras_model.outputs) > 2

    def forward(self, wins: np.ndarray, *, timeline: bool = False):
        """``(probs, embeddings)``, or ``(probs, embeddings, timeline)`` with ``timeline=True``
        (``None`` for a model without that output)."""
        import tensorflow as tf

        if self._fn is None:
            model = self.keras_model
            self._fn = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
        outs: list[list[np.ndarray]] = [[], [], []]
        for a in range(0, len(wins), self.batch_size):
            got = self._fn(tf.convert_to_tensor(wins[a : a + self.batch_size]))
            for k, t in enumerate(got[:3]):
                outs[k].append(t.numpy())
        p, e = np.concatenate(outs[0]).astype(np.float32), np.concatenate(outs[1]).astype(np.float32)
        if not timeline:
            return p, e
        return p, e, (np.concatenate(outs[2]).astype(np.float32) if outs[2] else None)


class _quiet_stderr:
    """Silence file descriptor 2 for a moment (LiteRT's C++ logging cannot be configured)."""

    def __enter__(self):
        try:
            import sys

            sys.stderr.flush()
            self._saved = os.dup(2)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)
            os.close(devnull)
        except OSError:
            self._saved = None
        return self

    def __exit__(self, *exc):
        if self._saved is not None:
            os.dup2(self._saved, 2)
            os.close(self._saved)


class LiteRTBackend:
    """A ``.tflite`` export (``models/export.py``) in the ``ai-edge-litert`` interpreter: input
    ``logmel`` ``(batch, 128, window)``, outputs ``probs`` and ``embedding`` (and ``timeline`` when
    the model has one); the batch size is dynamic (the interpreter re-plans only when it changes).
    Not thread-safe: one caller at a time."""

    runtime = "litert"

    def __init__(self, path: str | Path, threads: int | None = None, batch_size: int = 64):
        from ai_edge_litert.interpreter import Interpreter

        n = compute_threads(threads)
        try:
            with _quiet_stderr():  # "INFO: Created TensorFlow Lite XNNPACK delegate for CPU." on every load
                self._it = Interpreter(model_path=str(path), num_threads=int(n))
                self._it.allocate_tensors()
            runner = self._it.get_signature_runner()
            ins, outs = runner.get_input_details(), runner.get_output_details()
            del runner  # it holds a reference that makes the interpreter refuse to re-allocate
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"{path}: not a usable LiteRT model ({str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__})") from None
        if set(ins) != {"logmel"} or not {"probs", "embedding"} <= set(outs):
            raise ModelError(f"{path}: the LiteRT model has inputs {sorted(ins)} and outputs {sorted(outs)}; "
                             "expected logmel -> probs, embedding (re-run python -m models.export)")
        self._in = ins["logmel"]["index"]
        self._in_shape = [int(d) for d in ins["logmel"]["shape_signature"]]
        self._probs = outs["probs"]["index"]
        self._n_outputs = int(outs["probs"]["shape_signature"][-1])
        self._emb = outs["embedding"]["index"]
        self._emb_dim = int(outs["embedding"]["shape_signature"][-1])
        self._timeline = outs["timeline"]["index"] if "timeline" in outs else None
        self._batch = None
        self.batch_size = batch_size

    @property
    def input_shape(self) -> list[int]:
        """``[batch, 128, window]`` (batch -1: dynamic)."""
        return list(self._in_shape)

    @property
    def embedding_dim(self) -> int:
        return self._emb_dim

    @property
    def n_outputs(self) -> int:
        """Classes the network scores (the size of its ``probs`` output)."""
        return self._n_outputs

    @property
    def has_timeline(self) -> bool:
        return self._timeline is not None

    def _run(self, x: np.ndarray, timeline: bool) -> list[np.ndarray]:
        it = self._it
        if self._batch != len(x):
            it.resize_tensor_input(self._in, [len(x), *self._in_shape[1:]])
            it.allocate_tensors()
            self._batch = len(x)
        it.set_tensor(self._in, x)
        it.invoke()
        idx = [self._probs, self._emb] + ([self._timeline] if timeline and self._timeline is not None else [])
        return [it.get_tensor(i).astype(np.float32, copy=True) for i in idx]

    def forward(self, wins: np.ndarray, *, timeline: bool = False):
        """``(probs, embeddings)``, or ``(probs, embeddings, timeline)`` with ``timeline=True``
        (``None`` for a model without that output)."""
        wins = np.ascontiguousarray(wins, dtype=np.float32)
        parts = [self._run(wins[a : a + self.batch_size], timeline) for a in range(0, max(1, len(wins)), self.batch_size)]
        out = [np.concatenate([p[k] for p in parts]) if len(parts) > 1 else parts[0][k] for k in range(len(parts[0]))]
        if not timeline:
            return out[0], out[1]
        return out[0], out[1], (out[2] if len(out) > 2 else None)


class GenreModel:
    """A loaded genre network and its card.  Load once; predict in batches."""

    def __init__(self, backend, card: dict, path: Path):
        self._backend = backend
        self.card = card
        self.path = path
        #: the card's calibration temperature (1.0: none), applied to every distribution below
        self.temperature = temperature_of(card)

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, path: str | Path | None = None, *, threads: int | None = None, runtime: str = "auto") -> "GenreModel":
        """Load the model in directory ``path`` (default: ``models.card.model_dir()``, the
        shipped model unless ``$MELOGRAPH_MODEL_DIR`` names another).

        ``runtime``: ``"auto"`` (the LiteRT export when the card names one, else Keras),
        ``"litert"`` (refused when there is no export) or ``"keras"``.  ``threads``: compute
        threads (default ``$MELOGRAPH_TF_THREADS`` or up to 2)."""
        if runtime not in RUNTIMES:
            raise ValueError(f"runtime must be one of {RUNTIMES}, got {runtime!r}")
        model_dir = resolve_model_dir(path)
        if model_dir.is_file():  # a card or weights file given directly
            model_dir = model_dir.parent
        card = read_card(model_dir)
        if runtime == "auto":
            runtime = "litert" if card.get("tflite") else "keras"
        if runtime == "litert":
            backend = cls._load_litert(model_dir, card, threads)
        else:
            backend = cls._load_keras(model_dir, card, threads)
        expected = [N_MELS, card["window"]]
        if runtime == "keras":
            got = [int(d) for d in backend.keras_model.inputs[0].shape[1:]]
        else:
            got = backend.input_shape[1:]
        if got != expected:
            name = card["weights"] if runtime == "keras" else card["tflite"]
            raise ModelError(f"{model_dir / name}: model input {got} does not match the card's window {expected}")
        if backend.n_outputs != len(card["classes"]):
            raise ModelError(f"{model_dir / CARD_NAME}: model card does not match the network "
                             f"({len(card['classes'])} class names, {backend.n_outputs} outputs)")
        return cls(backend, card, model_dir)

    @staticmethod
    def _load_litert(model_dir: Path, card: dict, threads: int | None) -> LiteRTBackend:
        if not card.get("tflite"):
            raise ModelError(f"{model_dir / CARD_NAME}: the model has no LiteRT export "
                             f"(run: python -m models.export {model_dir})")
        tfl = model_dir / str(card["tflite"])
        if not tfl.is_file():
            raise ModelError(f"{tfl}: LiteRT model file is missing (run: python -m models.export {model_dir})")
        if sha256_of(tfl) != card["tflite_sha256"]:
            raise ModelError(f"{tfl}: LiteRT model file is corrupt (its SHA-256 does not match the model card)")
        if card["tflite_export"]["from_weights_sha256"] != card["weights_sha256"]:
            raise ModelError(f"{tfl}: the LiteRT model was exported from other weights than {card['weights']} "
                             f"(re-run: python -m models.export {model_dir})")
        return LiteRTBackend(tfl, threads=threads)

    @staticmethod
    def _load_keras(model_dir: Path, card: dict, threads: int | None) -> KerasBackend:
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
        return KerasBackend(_with_embedding(raw))

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
        return self._backend.embedding_dim

    @property
    def runtime(self) -> str:
        """``"litert"`` or ``"keras"``: what computes the predictions."""
        return self._backend.runtime

    @property
    def keras_model(self):
        """The Keras model (outputs ``[probs, embedding]``); only with the ``"keras"`` runtime."""
        if self._backend.runtime != "keras":
            raise AttributeError("this model runs on LiteRT; load it with runtime='keras' for the Keras model")
        return self._backend.keras_model

    @property
    def timeline(self) -> dict | None:
        """The model's finer timeline, when it has one (the hybrid's 3 s sub-windows):
        ``{"width": columns, "starts": start column of each sub-window inside a window}``."""
        hyb = self.card.get("hybrid")
        if not hyb or not self._backend.has_timeline:
            return None
        width = int(hyb["sub_window"])
        starts = window_starts(self.window, width=width, hop=int(hyb["sub_hop"]))
        return {"width": width, "starts": [int(s) for s in starts]}

    # ------------------------------------------------------------------ prediction
    def analyse_windows_timeline(self, wins: np.ndarray):
        """``(probs (n, C), embeddings (n, D), timeline (n, n_sub, C) or None)`` of ready-cut
        windows, one batched forward pass; probabilities calibrated with the card's temperature."""
        p, e, t = self._backend.forward(np.asarray(wins, np.float32), timeline=True)
        return (apply_temperature(p, self.temperature), e,
                None if t is None else apply_temperature(t, self.temperature))

    def timeline_grid(self, window_starts, sub_probs: np.ndarray, n_columns: int) -> tuple[np.ndarray, int]:
        """The genre timeline of a whole track on a regular grid of the sub-window width:
        ``(probs (ceil(n_columns / width), C), width)``.  Cell ``k`` covers columns
        ``[k * width, (k + 1) * width)`` and takes the sub-window (of any window, from
        :meth:`analyse_windows_timeline`) whose centre is nearest its own -- windows overlap at the
        end of a track and the last sub-window of a window is end-aligned, so they do not tile
        the track exactly.  For a track shorter than a window (filled by repetition) only the
        cells of the real columns are kept."""
        tl = self.timeline
        if tl is None:
            raise ValueError("this model has no timeline output")
        width, starts = tl["width"], np.asarray(tl["starts"])
        centres = (np.asarray(window_starts)[:, None] + starts[None, :]).reshape(-1) + width / 2.0
        flat = np.asarray(sub_probs, np.float32).reshape(len(centres), -1)
        n_cells = max(1, -(-int(n_columns) // width))
        lo = np.arange(n_cells) * width
        cells = (lo + np.minimum(lo + width, max(int(n_columns), 1))) / 2.0  # centre of each cell's real columns
        # nearest centre by binary search (a 3-hour file has 3600 cells and 3600 sub-windows: no
        # distance matrix); on a tie the earlier centre
        order = np.argsort(centres, kind="stable")
        c = centres[order]
        right = np.clip(np.searchsorted(c, cells), 0, len(c) - 1)
        left = np.clip(right - 1, 0, len(c) - 1)
        pick = np.where(np.abs(c[right] - cells) < np.abs(c[left] - cells), right, left)
        return flat[order[pick]], width

    def analyse_track(self, S: np.ndarray, *, batch_columns: int = 10_000) -> dict:
        """Everything the app keeps of a whole track's log-mel ``S`` ``(128, n_columns)``, its
        windows run a batch at a time (at most ``batch_columns`` columns each, so an hours-long
        track never sits in memory as windows).  A log-mel shorter than a window is repeated to
        fill it (``core.features.fill_window``).  Returns

        - ``track_probs`` ``(C,)``: the mean of the windows' probabilities (the track's genre);
        - ``window_probs`` ``(W, C)`` and ``embeddings`` ``(W, D)``: one row per model window;
        - ``timeline`` ``(T, C)``, ``timeline_starts`` ``(T,)``, ``timeline_width`` and
          ``timeline_hop`` (columns): the genre timeline -- the windows themselves, or for a model
          with a finer timeline output (the hybrid's 3 s sub-windows) that output on a regular
          grid (:meth:`timeline_grid`).
        """
        S = np.asarray(S, dtype=np.float32)
        if S.ndim != 2 or S.shape[0] != N_MELS or S.shape[1] == 0:
            raise ValueError(f"expected a log-mel of shape ({N_MELS}, n_columns > 0), got {S.shape}")
        n = S.shape[1]
        S = fill_window(S, self.window)
        starts = window_starts(S.shape[1], width=self.window, hop=self.hop)
        per = max(1, int(batch_columns) // self.window)
        probs, embs, subs = [], [], []
        for a in range(0, len(starts), per):
            p, e, t = self.analyse_windows_timeline(np.stack([S[:, s : s + self.window] for s in starts[a : a + per]]))
            probs.append(p)
            embs.append(e)
            subs.append(t)
        window_probs = np.concatenate(probs)
        out = {"track_probs": window_probs.mean(axis=0).astype(np.float32), "window_probs": window_probs,
               "embeddings": np.concatenate(embs)}
        if self.timeline:
            grid, cell = self.timeline_grid(starts, np.concatenate(subs), min(n, S.shape[1]))
            out.update(timeline=grid, timeline_starts=np.arange(len(grid)) * cell, timeline_width=cell,
                       timeline_hop=cell)
        else:
            out.update(timeline=window_probs, timeline_starts=np.asarray(starts), timeline_width=self.window,
                       timeline_hop=self.hop)
        return out

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
        one batched forward pass; probabilities calibrated with the card's temperature."""
        p, e = self._backend.forward(np.asarray(wins, np.float32))
        return apply_temperature(p, self.temperature), e

    def analyse_logmel(self, S: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(window_probs (n_win, C), track_probs (C,), embeddings (n_win, D))`` in one pass."""
        p, e = self.analyse_windows(self.windows_of(S))
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
        return track_probs(self.analyse_windows(wins)[0], owner, len(X))


def _with_embedding(model):
    """A model with outputs ``[probs, embedding]`` (ensembles already have them)."""
    import keras

    if len(model.outputs) >= 2:  # [probs, embedding(, timeline)]
        return model
    try:
        emb = model.get_layer("embedding").output
    except ValueError:
        raise ModelError(f"model {model.name!r} has no layer named 'embedding'") from None
    return keras.Model(model.inputs, [model.outputs[0], emb], name=model.name + "_with_embedding")
