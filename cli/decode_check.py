"""``melograph decode-check FILE...``: decode files the way the analyser does and say what they hold.

The audio is measured as it decodes (``core.audio.decode.consume_mono``), so memory stays small
whatever the file's length."""
from __future__ import annotations

import argparse
import time

from cli.common import emit, nonempty, number, print_error


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", type=nonempty)
    parser.add_argument("--features", action="store_true", help="also compute the log-mel front end and time it")
    parser.add_argument("--start", type=number(float, low=0), default=0.0, metavar="SECONDS",
                        help="decode from this second (seeks)")
    parser.add_argument("--duration", type=number(float, above=0), default=None, metavar="SECONDS",
                        help="decode this many seconds")


class _Measure:
    """What decode-check says of the decoded audio, gathered block by block (an hours-long file
    never sits in memory): length, peak, mean square, and with ``features`` the log-mel's shape
    and time, excerpt by excerpt as ``core.features.logmel_track`` cuts a whole track."""

    def __init__(self, features: bool):
        self.features = features

    def __call__(self, blocks):
        import numpy as np

        from core import features as F

        self.n, self.peak, self.squares, self.columns, self.features_seconds = 0, 0.0, 0.0, 0, 0.0

        def counted():
            for y in blocks:
                if len(y):
                    self.n += len(y)
                    self.peak = max(self.peak, float(np.max(np.abs(y))))
                    self.squares += float(np.square(y, dtype=np.float64).sum())  # no BLAS threads
                yield y

        if not self.features:
            for _ in counted():
                pass
            return self
        for x in F.excerpts(counted()):
            t0 = time.perf_counter()
            self.columns += F.logmel_excerpt(y=x, sr=F.SR).shape[1]
            self.features_seconds += time.perf_counter() - t0
        return self


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
            m = decode.consume_mono(path, _Measure(args.features), sr=features.SR, start=args.start,
                                    duration=args.duration)
            row["decode_seconds"] = round(time.perf_counter() - t0 - m.features_seconds, 4)
            row["decoded_seconds"] = round(m.n / features.SR, 3)
            row["peak_dbfs"] = round(20 * float(np.log10(max(m.peak, 1e-10))), 1)
            row["rms_dbfs"] = round(10 * float(np.log10(max(m.squares / m.n if m.n else 0.0, 1e-20))), 1)
            if args.features:
                row["features_seconds"] = round(m.features_seconds, 4)
                row["logmel_shape"] = [features.N_MELS, m.columns]
        except FileError as exc:
            row.update(exc.as_dict())
            row["error"] = exc.kind
            status = 1
        results.append(row)
    lines = []
    for r in results:
        if "error" in r:  # one line on stderr, as every command says what it could not do
            print_error(f"{r['path']}: {r['reason']}")
        else:
            extra = f", log-mel {tuple(r['logmel_shape'])} in {r['features_seconds']:.3f} s" if "logmel_shape" in r else ""
            lines.append(
                f"{r['path']}: {r['codec']} in {r['container']} via {r['backend']}, {r['sr']} Hz, {r['channels']} ch, "
                f"{r['duration']:.2f} s; decoded {r['decoded_seconds']:.2f} s at 22050 Hz mono in {r['decode_seconds']:.3f} s, "
                f"peak {r['peak_dbfs']} dBFS, rms {r['rms_dbfs']} dBFS{extra}"
            )
    emit(args, results, "\n".join(lines) if lines else None)
    return status
