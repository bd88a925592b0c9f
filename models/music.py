"""The music / not-music detector at run time: is each 3 s cell of a track music, speech or
another sound?  Imports no TensorFlow.

    detector = MusicDetector.load()          # models/shipped/music/ by default
    r = detector.analyse_track(S)            # S: core.features.logmel_track(...) (128, n_columns)
    r["music_probability"], r["is_music"], r["kind"], r["cell_music"]

The detector is its own small network (``models/music_training.py`` trains it; its card is
``models/shipped/music/card.json``), run on the same log-mel front end as the genre model, one
cell of ``CELL_COLUMNS`` columns (3 s) at a time, on the genre timeline's grid: cell ``k`` covers
columns ``[k * 39, (k + 1) * 39)`` (the last, partial cell is read from the last 39 columns; a
track shorter than a cell is repeated to fill it, ``core.features.fill_window``).

Each cell is standardised on its own (:func:`cell_inputs`: its mean removed, divided by its
standard deviation) so that the 30 s excerpt's min-max rescale, the recording level and the
clip length say nothing; a cell with less than ``SILENT_CELL_STD`` dB of variation is silent
(its probabilities are NaN and it takes no part in the track's decision).

The network has three outputs per cell: ``music``, ``speech``, ``sound`` (any other non-music:
nature, animals, machines).  A track's ``music_probability`` is the median of its non-silent
cells' music probabilities, and it is music when that is at least ``MUSIC_THRESHOLD``: when most
of it is music (a song with a spoken intro stays music).  A non-music track's ``kind`` is the more
likely of speech and sound over its non-music cells.

The runtime is the LiteRT export (``model.tflite``, in the ``ai-edge-litert`` interpreter, as for
the genre model); ``runtime="keras"`` loads the Keras model (TensorFlow) instead.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from core.features import COLUMNS_PER_SECOND, N_MELS, fill_window
from models.card import CARD_NAME, ModelError, read_card, sha256_of

#: default directory of the shipped detector
SHIPPED_MUSIC_DIR = Path(__file__).resolve().parent / "shipped" / "music"
#: environment variable naming another detector directory
ENV_MUSIC_DIR = "MELOGRAPH_MUSIC_MODEL_DIR"
#: columns per cell: 39 columns = 3.02 s, the genre timeline's cell
CELL_COLUMNS = 39
CLASSES = ("music", "speech", "sound")
#: a cell whose log-mel varies by less than this (dB, standard deviation) is silent
SILENT_CELL_STD = 0.5
#: a cell / track is music when its music probability is at least this (fixed before training)
MUSIC_THRESHOLD = 0.5


def music_dir(override=None) -> Path:
    """The detector's directory: ``override``, else ``$MELOGRAPH_MUSIC_MODEL_DIR``, else the shipped one."""
    import os

    if override is not None:
        return Path(override)
    return Path(os.environ.get(ENV_MUSIC_DIR) or SHIPPED_MUSIC_DIR)


def cell_starts(n_columns: int, width: int = CELL_COLUMNS) -> np.ndarray:
    """Start column of each cell of a log-mel of ``n_columns`` columns: ``k * width`` for the
    ``ceil(n_columns / width)`` cells of the grid, the last one end-aligned when it would run past
    the end (a log-mel shorter than a cell: one cell at 0)."""
    n_cells = max(1, -(-int(n_columns) // width))
    starts = np.arange(n_cells, dtype=np.int64) * width
    return np.minimum(starts, max(0, int(n_columns) - width))


def standardise(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(inputs, silent)``: each cell ``(n, 128, w)`` minus its mean, divided by its standard
    deviation (float32), and a boolean ``(n,)`` that marks the silent cells (their input is 0)."""
    x = np.asarray(cells, np.float32)
    mean = x.mean(axis=(1, 2), keepdims=True)
    std = x.std(axis=(1, 2), keepdims=True)
    silent = std[:, 0, 0] < SILENT_CELL_STD
    out = (x - mean) / np.maximum(std, SILENT_CELL_STD)
    out[silent] = 0.0
    return np.ascontiguousarray(out, np.float32), silent


def cell_inputs(S: np.ndarray, width: int = CELL_COLUMNS) -> tuple[np.ndarray, np.ndarray]:
    """The network's inputs for a track's log-mel ``S`` ``(128, n_columns)`` dB: ``(inputs (n_cells,
    128, width) float32, silent (n_cells,) bool)`` on the grid of :func:`cell_starts`."""
    S = np.asarray(S, np.float32)
    if S.ndim != 2 or S.shape[0] != N_MELS or S.shape[1] == 0:
        raise ValueError(f"expected a log-mel of shape ({N_MELS}, n_columns > 0), got {S.shape}")
    n = S.shape[1]
    F = fill_window(S, width)
    cells = np.stack([F[:, s : s + width] for s in cell_starts(n, width)])
    return standardise(cells)


def track_decision(cell_probs: np.ndarray, silent: np.ndarray | None = None) -> dict:
    """The track's verdict from its cells' probabilities ``(n, 3)`` (music, speech, sound; NaN rows
    or ``silent`` cells are left out): ``music_probability`` (median of the cells' music
    probabilities), ``is_music``, ``kind`` (``"speech"`` / ``"sound"`` for non-music, else None)
    and ``music_share`` (the share of the cells that are music)."""
    p = np.asarray(cell_probs, np.float32).reshape(-1, len(CLASSES))
    keep = np.isfinite(p).all(axis=1)
    if silent is not None:
        keep &= ~np.asarray(silent, bool)
    if not keep.any():
        return {"music_probability": None, "is_music": None, "kind": None, "music_share": None}
    q = p[keep]
    music = q[:, 0]
    prob = float(np.median(music))
    is_music = prob >= MUSIC_THRESHOLD
    kind = None
    if not is_music:
        rest = q[music < MUSIC_THRESHOLD]
        kind = "speech" if rest[:, 1].mean() >= rest[:, 2].mean() else "sound"
    return {"music_probability": prob, "is_music": bool(is_music), "kind": kind,
            "music_share": float((music >= MUSIC_THRESHOLD).mean())}


class _LiteRT:
    """The ``.tflite`` export: input ``logmel`` ``(batch, 128, width)``, output ``probs`` ``(batch, 3)``."""

    runtime = "litert"

    def __init__(self, path: Path, threads: int = 1):
        from ai_edge_litert.interpreter import Interpreter

        from models.genre import _quiet_stderr

        try:
            with _quiet_stderr():
                self._it = Interpreter(model_path=str(path), num_threads=int(threads))
                self._it.allocate_tensors()
            runner = self._it.get_signature_runner()
            ins, outs = runner.get_input_details(), runner.get_output_details()
            del runner
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"{path}: not a usable LiteRT model ({exc.__class__.__name__})") from None
        if set(ins) != {"logmel"} or "probs" not in outs:
            raise ModelError(f"{path}: the LiteRT model has inputs {sorted(ins)} and outputs {sorted(outs)}; "
                             "expected logmel -> probs")
        self._in = ins["logmel"]["index"]
        self.input_shape = [int(d) for d in ins["logmel"]["shape_signature"]]
        self._out = outs["probs"]["index"]
        self.n_outputs = int(outs["probs"]["shape_signature"][-1])
        self._batch = None

    def forward(self, x: np.ndarray, batch: int = 256) -> np.ndarray:
        parts = []
        for a in range(0, len(x), batch):
            xb = np.ascontiguousarray(x[a : a + batch], np.float32)
            if self._batch != len(xb):
                self._it.resize_tensor_input(self._in, [len(xb), *self.input_shape[1:]])
                self._it.allocate_tensors()
                self._batch = len(xb)
            self._it.set_tensor(self._in, xb)
            self._it.invoke()
            parts.append(self._it.get_tensor(self._out).astype(np.float32, copy=True))
        return np.concatenate(parts) if parts else np.zeros((0, self.n_outputs), np.float32)


class _Keras:
    runtime = "keras"

    def __init__(self, path: Path, threads: int = 1):
        from models.genre import configure_tensorflow

        configure_tensorflow(threads)
        import keras

        try:
            self.model = keras.models.load_model(path, compile=False)
        except Exception as exc:  # noqa: BLE001 (keras raises many kinds for a bad file)
            raise ModelError(f"{path}: weights file is corrupt or not a Keras model ({exc.__class__.__name__})") from None
        self.input_shape = [None, *[int(d) for d in self.model.inputs[0].shape[1:]]]
        self.n_outputs = int(self.model.outputs[0].shape[-1])

    def forward(self, x: np.ndarray, batch: int = 256) -> np.ndarray:
        if not len(x):
            return np.zeros((0, self.n_outputs), np.float32)
        return np.asarray(self.model.predict(np.asarray(x, np.float32), batch_size=batch, verbose=0), np.float32)


class MusicDetector:
    """A loaded music / not-music detector and its card.  Load once; run on whole tracks."""

    def __init__(self, backend, card: dict, path: Path):
        self._backend = backend
        self.card = card
        self.path = path

    @classmethod
    def load(cls, path=None, *, threads: int = 1, runtime: str = "auto") -> "MusicDetector":
        """Load the detector in ``path`` (default :func:`music_dir`).  ``ModelError`` (one line)
        for a missing or corrupt card or file, or a card that does not describe the network."""
        directory = music_dir(path)
        card = read_card(directory)
        if list(card["classes"]) != list(CLASSES):
            raise ModelError(f"{directory / CARD_NAME}: a music detector's classes must be {list(CLASSES)}")
        if runtime == "auto":
            runtime = "litert" if card.get("tflite") else "keras"
        if runtime == "litert":
            tfl = directory / str(card.get("tflite") or "model.tflite")
            if not card.get("tflite") or not tfl.is_file():
                raise ModelError(f"{tfl}: the detector's LiteRT file is missing")
            if sha256_of(tfl) != card["tflite_sha256"]:
                raise ModelError(f"{tfl}: the detector's LiteRT file is corrupt (its SHA-256 does not match the card)")
            if card["tflite_export"]["from_weights_sha256"] != card["weights_sha256"]:
                raise ModelError(f"{tfl}: exported from other weights than {card['weights']}")
            backend = _LiteRT(tfl, threads)
        elif runtime == "keras":
            weights = directory / str(card["weights"])
            if not weights.is_file():
                raise ModelError(f"{weights}: the detector's weights file is missing")
            if sha256_of(weights) != card["weights_sha256"]:
                raise ModelError(f"{weights}: the detector's weights file is corrupt (its SHA-256 does not match the card)")
            backend = _Keras(weights, threads)
        else:
            raise ValueError(f"runtime must be auto, litert or keras, got {runtime!r}")
        if backend.input_shape[1:] != [N_MELS, card["window"]] or backend.n_outputs != len(CLASSES):
            raise ModelError(f"{directory / CARD_NAME}: the card does not describe the network "
                             f"(input {backend.input_shape[1:]}, {backend.n_outputs} outputs)")
        return cls(backend, card, directory)

    @property
    def version(self) -> str:
        return str(self.card["version"])

    @property
    def width(self) -> int:
        return int(self.card["window"])

    @property
    def runtime(self) -> str:
        return self._backend.runtime

    def cell_probs(self, S: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(probs (n_cells, 3) float32 with NaN rows for silent cells, silent (n_cells,))`` of a
        track's log-mel ``S`` on the grid of :func:`cell_starts`."""
        x, silent = cell_inputs(S, self.width)
        p = np.full((len(x), len(CLASSES)), np.nan, np.float32)
        if (~silent).any():
            p[~silent] = self._backend.forward(x[~silent])
        return p, silent

    def analyse_track(self, S: np.ndarray) -> dict:
        """Everything the app keeps: ``cell_music`` ``(n_cells,)`` float32 (music probability of
        each 3 s cell, NaN when silent), ``cell_probs`` ``(n_cells, 3)``, and
        :func:`track_decision`'s ``music_probability``, ``is_music``, ``kind``, ``music_share``;
        plus ``version`` and ``cell_seconds``."""
        p, silent = self.cell_probs(S)
        out = track_decision(p, silent)
        out.update(cell_probs=p, cell_music=np.ascontiguousarray(p[:, 0]), version=self.version,
                   cell_seconds=self.width / COLUMNS_PER_SECOND)
        return out

    def predict_cells(self, X: np.ndarray) -> np.ndarray:
        """Probabilities ``(n, 3)`` of ready-cut cells ``(n, 128, width)`` dB (standardised here)."""
        x, silent = standardise(X)
        p = np.full((len(x), len(CLASSES)), np.nan, np.float32)
        if (~silent).any():
            p[~silent] = self._backend.forward(x[~silent])
        return p


def installed_version(path=None) -> str | None:
    """The version of the detector in ``path`` (default :func:`music_dir`) when it can be used
    (its card reads and its LiteRT file matches the card's SHA-256), else None.  Cheap: no
    interpreter is loaded (the analysis service asks it to know which results are current)."""
    directory = music_dir(path)
    try:
        card = read_card(directory)
        tfl = directory / str(card.get("tflite") or "")
        if list(card["classes"]) != list(CLASSES) or not card.get("tflite") or not tfl.is_file():
            return None
        if sha256_of(tfl) != card.get("tflite_sha256"):
            return None
    except (ModelError, OSError, KeyError):
        return None
    return str(card["version"])
