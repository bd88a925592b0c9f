"""The model card: the one reader of a model directory's ``card.json``.  Imports no TensorFlow.

A model directory holds ``card.json`` and the weights file it names (a ``.keras`` model), and
optionally the ``.tflite`` export it names (``tflite``, ``tflite_sha256``,
``tflite_export.from_weights_sha256``; ``models/export.py`` writes them).  The card gives the
class names in order, the front-end parameters, the window and hop (columns), the input shape,
the SHA-256 of the weights, the ``version`` id under which the catalog keeps results, and
optionally ``calibration`` (``{"temperature": T, ...}``: the runtime's probabilities are
``softmax(log p / T)`` of the network's, see ``models.calibration``).

Which model: :func:`model_dir` -- the directory given, else ``$MELOGRAPH_MODEL_DIR`` (a trained
run, before one is shipped), else ``models/shipped/``.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from core.features import FRONTEND_PARAMS

SHIPPED_DIR = Path(__file__).resolve().parent / "shipped"
CARD_NAME = "card.json"
#: environment variable naming another model directory (default: ``SHIPPED_DIR``)
ENV_MODEL_DIR = "MELOGRAPH_MODEL_DIR"
REQUIRED_CARD_KEYS = ("version", "classes", "frontend", "window", "hop", "input_shape", "weights", "weights_sha256")


class ModelError(RuntimeError):
    """A model that cannot be used: missing/corrupt files or an incompatible card (one line)."""


def sha256_of(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes (read in 1 MiB blocks)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _resolve(override: str | os.PathLike | None) -> Path:
    if override is not None:
        return Path(override)
    return Path(os.environ.get(ENV_MODEL_DIR) or SHIPPED_DIR)


def model_dir(override: str | os.PathLike | None = None) -> Path:
    """The model directory: ``override``, else ``$MELOGRAPH_MODEL_DIR``, else ``SHIPPED_DIR``."""
    return _resolve(override)


def read_card(model_dir: str | os.PathLike | None = None) -> dict:
    """The checked card of the model in ``model_dir`` (see :func:`model_dir` for the default).

    ``window`` and ``hop`` come back as ints.  Raises ``ModelError`` with a one-line reason for a
    missing directory or card, a corrupt card (not JSON, keys missing, classes not a list of at
    least two distinct names, bad window or hop, a ``tflite`` without its checksums) or front-end
    parameters other than ``core.features.FRONTEND_PARAMS``.  Whether the classes are as many as
    the network's outputs only the loader can tell (``models.genre.GenreModel.load``)."""
    directory = _resolve(model_dir)
    card_path = directory / CARD_NAME
    if not directory.exists():
        raise ModelError(f"{directory}: no such model directory")
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
        theirs = card["frontend"] if isinstance(card["frontend"], dict) else {}
        diff = sorted(k for k in set(theirs) | set(FRONTEND_PARAMS) if theirs.get(k) != FRONTEND_PARAMS.get(k))
        raise ModelError(f"{card_path}: the model was trained with other front-end parameters than this "
                         f"code computes (differs in: {', '.join(diff) or 'everything'}); it cannot be used")
    classes = card["classes"]
    if (not isinstance(classes, list) or len(classes) < 2
            or not all(isinstance(c, str) and c.strip() for c in classes) or len(set(classes)) != len(classes)):
        raise ModelError(f"{card_path}: model card is corrupt (classes must be a list of distinct names)")
    try:
        card["window"], card["hop"] = int(card["window"]), int(card["hop"])
    except (TypeError, ValueError):
        raise ModelError(f"{card_path}: model card is corrupt (window/hop must be integers)") from None
    if card["window"] <= 0 or card["hop"] <= 0:
        raise ModelError(f"{card_path}: model card is corrupt (window/hop must be positive)")
    if "calibration" in card:
        cal = card["calibration"]
        t = cal.get("temperature") if isinstance(cal, dict) else None
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0 < float(t) < float("inf"):
            raise ModelError(f"{card_path}: model card is corrupt (calibration.temperature must be a positive number)")
    if card.get("tflite") is not None:
        export = card.get("tflite_export")
        if not card.get("tflite_sha256") or not isinstance(export, dict) or "from_weights_sha256" not in export:
            raise ModelError(f"{card_path}: model card is corrupt (tflite without tflite_sha256 / "
                             "tflite_export.from_weights_sha256)")
    return card


def temperature_of(card: dict) -> float:
    """The calibration temperature of a checked card (``models.calibration``); 1.0 when the card
    has none (the network's own probabilities)."""
    cal = card.get("calibration")
    return float(cal["temperature"]) if isinstance(cal, dict) and "temperature" in cal else 1.0


def write_card(model_dir: str | os.PathLike, card: dict) -> Path:
    """Write ``card`` as ``model_dir/card.json`` (indented JSON; replaced in one step, so a reader
    never sees half a card).  Returns its path."""
    path = Path(model_dir) / CARD_NAME
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def model_version(model_dir: str | os.PathLike | None = None) -> str:
    """The version id of the model (the key of its results in the catalog); ``ModelError`` when
    its card is unusable."""
    return str(read_card(model_dir)["version"])


def model_problem(model_dir: str | os.PathLike | None = None) -> str | None:
    """Why genres cannot be tagged, as one sentence for the user, or None when the card is usable."""
    directory = _resolve(model_dir)
    card_path = directory / CARD_NAME
    if not card_path.is_file():
        if directory == SHIPPED_DIR:
            return "No genre model is installed (models/shipped/), so tracks play but their genres are not tagged."
        return f"No genre model in {directory} (no card.json), so tracks play but their genres are not tagged."
    try:
        read_card(directory)
    except ModelError as exc:
        reason = str(exc).removeprefix(f"{card_path}: ")
        return f"The genre model's card cannot be read ({reason}), so tracks play but are not tagged."
    return None
