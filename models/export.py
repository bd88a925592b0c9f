"""Export a trained genre model to LiteRT (TensorFlow Lite), the analysis workers' lean runtime.

    python -m models.export [MODEL_DIR]        # default: $MELOGRAPH_MODEL_DIR, else models/shipped/

Reads ``MODEL_DIR/card.json`` and the Keras model it names, converts the whole model (whatever
the hybrid builder put in it: any number of CNN members, any sub-window hop, the
``ClipStatistics`` floor or none) to a ``.tflite`` flatbuffer with TensorFlow Lite *builtin* ops
only (so the small ``ai-edge-litert`` interpreter runs it, no TensorFlow), checks it against the
Keras model, then writes ``MODEL_DIR/model.tflite`` and records it in the card::

    "tflite": "model.tflite", "tflite_sha256": "...", "tflite_bytes": N,
    "tflite_export": {"from_weights_sha256": <the card's weights_sha256>, "inputs": ["logmel"],
                      "outputs": ["probs", "embedding"], "check": {...}, "versions": {...},
                      "command": "python -m models.export MODEL_DIR"}

The check runs both runtimes on the same windows -- real clips from ``../shared/data/gtzan_audio``
when present (decoded and cut as the app does), plus random ones -- and refuses to write anything
when a probability or an embedding differs by more than ``TOLERANCE``.  (A silent or constant
window is reported, not checked: see ``degenerate_windows``.)
The model's version (and so every stored analysis result) does not change: the ``.tflite`` is
the same function as the ``.keras`` file, which stays the reference and the training format.

``models.genre.GenreModel.load`` then prefers the ``.tflite`` (it verifies its SHA-256 and that it
was exported from the card's weights); re-run this command after shipping new weights.  The
export is deterministic: the same ``.keras`` file gives the same ``.tflite`` bytes.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from models.card import ModelError, model_dir as resolve_model_dir, read_card, sha256_of, write_card

TFLITE_NAME = "model.tflite"
#: the largest difference (probabilities, embeddings) between the two runtimes that an export accepts
TOLERANCE = 1e-4
INPUT_NAME = "logmel"
OUTPUT_NAMES = ("probs", "embedding")
#: the hybrid's third output (per-sub-window probabilities), exported when the model has it
TIMELINE_NAME = "timeline"
GTZAN_AUDIO = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "gtzan_audio"


class ExportError(RuntimeError):
    """The model could not be exported (unsupported op, or the two runtimes disagree)."""


def convert(keras_model, window: int) -> bytes:
    """The ``.tflite`` bytes of a Keras model with outputs ``[probs, embedding]`` taking
    ``(batch, 128, window)`` log-mel windows; the batch size stays dynamic.  Builtin ops only."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    from core.features import N_MELS

    def serve(x):
        outs = keras_model(x, training=False)
        named = {OUTPUT_NAMES[0]: outs[0], OUTPUT_NAMES[1]: outs[1]}
        if len(outs) > 2:
            named[TIMELINE_NAME] = outs[2]
        return named

    with tempfile.TemporaryDirectory(prefix="melograph-export-") as tmp:
        archive = keras.export.ExportArchive()
        archive.track(keras_model)
        archive.add_endpoint("serve", serve,
                             input_signature=[tf.TensorSpec([None, N_MELS, int(window)], tf.float32, name=INPUT_NAME)])
        archive.write_out(tmp, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(tmp)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]  # no Flex: ai-edge-litert has none
        try:
            return converter.convert()
        except Exception as exc:  # noqa: BLE001 - the converter raises its own ConverterError
            first = next((ln for ln in str(exc).splitlines() if "op" in ln.lower()), str(exc).splitlines()[0])
            raise ExportError(f"the model does not convert to TensorFlow Lite builtin ops: {first.strip()}") from None


def check_windows(window: int, *, n_clips: int = 12, audio_dir: Path = GTZAN_AUDIO) -> tuple[np.ndarray, str]:
    """Windows ``(n, 128, window)`` to compare the runtimes on, and where they came from: the
    windows of ``n_clips`` real clips (one per genre first) when the shared audio is there, plus
    random ones (always)."""
    from core.audio import decode
    from core.features import N_MELS, TOP_DB, logmel_track, windows

    rng = np.random.default_rng(0)
    parts, source = [], []
    clips = sorted(audio_dir.glob("*.flac")) if audio_dir.is_dir() else []
    if clips:
        by_genre: dict[str, list[Path]] = {}
        for c in clips:
            by_genre.setdefault(c.name.split(".")[0], []).append(c)
        picked = [v[k] for k in range(len(clips)) for v in by_genre.values() if k < len(v)][:n_clips]
        for c in picked:
            y, _ = decode.read(c, sr=22050, mono=True)
            parts.append(windows(logmel_track(y=y), width=window, hop=max(1, window // 2)))
        where = "../shared/data/gtzan_audio" if audio_dir == GTZAN_AUDIO else str(audio_dir)
        source.append(f"{len(picked)} real clips from {where}")
    parts.append(rng.uniform(-TOP_DB, 0.0, (6, N_MELS, window)).astype(np.float32))
    source.append("6 random windows")
    return np.concatenate(parts).astype(np.float32), "; ".join(source)


def degenerate_windows(window: int) -> np.ndarray:
    """A silent (all -80 dB) and a constant window.  Not part of the check: their clip statistics
    are zero-variance statistics (skew, kurtosis) of float rounding noise, which differs between any
    two implementations (and between batch sizes in one); the difference is only reported."""
    from core.features import N_MELS, TOP_DB

    return np.stack([np.full((N_MELS, window), -TOP_DB, np.float32), np.full((N_MELS, window), -40.0, np.float32)])


def compare(keras_model, tflite_path: Path, X: np.ndarray, *, batch: int = 16) -> dict:
    """Largest absolute differences between the Keras model and the LiteRT file on ``X``."""
    from models.genre import LiteRTBackend

    lite = LiteRTBackend(tflite_path, threads=1)
    diff = {"probs": 0.0, "embedding": 0.0}
    for a in range(0, len(X), batch):
        x = X[a : a + batch]
        kout = [np.asarray(t, np.float32) for t in keras_model(x, training=False)]
        kp, ke = kout[0], kout[1]
        lp, le, lt = lite.forward(x, timeline=True)
        if lp.shape != kp.shape or le.shape != ke.shape:
            raise ExportError(f"the LiteRT model's outputs have other shapes ({lp.shape}, {le.shape}) than "
                              f"the Keras model's ({kp.shape}, {ke.shape})")
        diff["probs"] = max(diff["probs"], float(np.abs(lp - kp).max()))
        diff["embedding"] = max(diff["embedding"], float(np.abs(le - ke).max()))
        if len(kout) > 2:
            if lt is None or lt.shape != kout[2].shape:
                raise ExportError(f"the LiteRT model's timeline output is {None if lt is None else lt.shape}, "
                                  f"the Keras model's {kout[2].shape}")
            diff["probs"] = max(diff["probs"], float(np.abs(lt - kout[2]).max()))
    return diff


def _versions() -> dict:
    import importlib.metadata as md

    out = {}
    for pkg in ("tensorflow-cpu", "tensorflow", "keras", "ai-edge-litert"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return out


def export(model_dir: str | Path | None = None, *, audio_dir: Path = GTZAN_AUDIO, log=print) -> dict:
    """Export the model in ``model_dir`` (default: ``models.card.model_dir()``); returns the updated card.
    Raises ``ModelError`` (unusable model) or ``ExportError`` (cannot convert / runtimes disagree);
    on either, nothing in ``model_dir`` is changed."""
    from models.genre import GenreModel

    model_dir = resolve_model_dir(model_dir)
    card = read_card(model_dir)
    model = GenreModel.load(model_dir, runtime="keras", threads=min(2, os.cpu_count() or 1))
    keras_model = model.keras_model
    log(f"converting {model_dir / card['weights']} ({card['version']}) ...")
    data = convert(keras_model, model.window)
    out = model_dir / TFLITE_NAME
    tmp = out.with_name(out.name + ".part")
    tmp.write_bytes(data)
    try:
        X, source = check_windows(model.window, audio_dir=audio_dir)
        diff = compare(keras_model, tmp, X)
        log(f"checked on {len(X)} windows ({source}): largest difference to Keras: probabilities "
            f"{diff['probs']:.2e}, embeddings {diff['embedding']:.2e}")
        if max(diff.values()) > TOLERANCE:
            raise ExportError(f"the LiteRT model differs from the Keras model by up to "
                              f"{max(diff.values()):.2e} (tolerance {TOLERANCE:g}); nothing written")
        degenerate = compare(keras_model, tmp, degenerate_windows(model.window))
        log(f"silent and constant windows (not checked: statistics of rounding noise): probabilities "
            f"differ by {degenerate['probs']:.2e}")
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    try:
        shown = os.path.relpath(model_dir)
    except ValueError:
        shown = str(model_dir)
    raw = dict(card)
    raw.update({
        "tflite": out.name,
        "tflite_sha256": sha256_of(out),
        "tflite_bytes": out.stat().st_size,
        "tflite_export": {
            "from_weights_sha256": card["weights_sha256"],
            "inputs": [INPUT_NAME],
            "outputs": list(OUTPUT_NAMES) + ([TIMELINE_NAME] if len(keras_model.outputs) > 2 else []),
            "ops": "TensorFlow Lite builtins",
            "check": {"windows": int(len(X)), "source": source, "tolerance": TOLERANCE,
                      "max_abs_diff_probs": float(f"{diff['probs']:.3g}"),
                      "max_abs_diff_embedding": float(f"{diff['embedding']:.3g}"),
                      "silent_or_constant_windows_max_abs_diff_probs": float(f"{degenerate['probs']:.3g}")},
            "versions": _versions(),
            "command": f"python -m models.export {shown}",
        },
    })
    card_path = write_card(model_dir, raw)
    log(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB, sha256 {raw['tflite_sha256'][:12]}...) and updated {card_path}")
    return read_card(model_dir)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m models.export", description=__doc__.split("\n\n")[0])
    ap.add_argument("model_dir", nargs="?", default=None,
                    help="model directory (default: $MELOGRAPH_MODEL_DIR, else models/shipped/)")
    args = ap.parse_args(argv)
    try:
        export(args.model_dir)
    except (ModelError, ExportError) as exc:
        print(f"melograph: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
