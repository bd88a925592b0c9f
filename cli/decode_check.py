"""``melograph decode-check FILE...``: decode files the way the analyser does and say what they hold."""
from __future__ import annotations

import argparse
import time

from cli.common import emit


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument("--features", action="store_true", help="also compute the log-mel front end and time it")
    parser.add_argument("--start", type=float, default=0.0, help="decode from this second (seeks)")
    parser.add_argument("--duration", type=float, default=None, help="decode this many seconds")


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from core import features

    from core.audio import decode
    from core.errors import FileError

    results, status = [], 0
    for path in args.files:
        row: dict = {"path": path}
        try:
            info = decode.probe(path)
            row.update(info.as_dict())
            t0 = time.perf_counter()
            y, sr = decode.read(path, sr=features.SR, mono=True, start=args.start, duration=args.duration)
            row["decode_seconds"] = round(time.perf_counter() - t0, 4)
            row["decoded_seconds"] = round(len(y) / sr, 3)
            row["peak_dbfs"] = round(20 * float(np.log10(max(float(np.max(np.abs(y), initial=0.0)), 1e-10))), 1)
            row["rms_dbfs"] = round(10 * float(np.log10(max(float(np.mean(y.astype(np.float64) ** 2)) if len(y) else 0.0, 1e-20))), 1)
            if args.features:
                t0 = time.perf_counter()
                S = features.logmel_track(y=y, sr=sr)
                row["features_seconds"] = round(time.perf_counter() - t0, 4)
                row["logmel_shape"] = list(S.shape)
        except FileError as exc:
            row.update(exc.as_dict())
            row["error"] = exc.kind
            status = 1
        results.append(row)
    lines = []
    for r in results:
        if "error" in r:
            lines.append(f"{r['path']}: {r['kind']}: {r['reason']}")
        else:
            extra = f", log-mel {tuple(r['logmel_shape'])} in {r['features_seconds']:.3f} s" if "logmel_shape" in r else ""
            lines.append(
                f"{r['path']}: {r['codec']} in {r['container']} via {r['backend']}, {r['sr']} Hz, {r['channels']} ch, "
                f"{r['duration']:.2f} s; decoded {r['decoded_seconds']:.2f} s at 22050 Hz mono in {r['decode_seconds']:.3f} s, "
                f"peak {r['peak_dbfs']} dBFS, rms {r['rms_dbfs']} dBFS{extra}"
            )
    emit(args, results, "\n".join(lines))
    return status
