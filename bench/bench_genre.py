"""Benchmark: genre inference time per 30 s of audio on this CPU (batched, model loaded once).

    .venv/bin/python bench/bench_genre.py [--model DIR] [--tracks 20] [--threads 2]

Times the network part (windows of a 30 s log-mel -> probabilities + embeddings), which is what
the 50 ms budget covers, and separately the front end (log-mel of 30 s of audio) for reference.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=None)
    ap.add_argument("--tracks", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    from core.features import EXCERPT_COLUMNS, SR, logmel_track
    from models.genre import GenreModel

    m = GenreModel.load(a.model, threads=a.threads)
    rng = np.random.default_rng(0)
    S = [rng.uniform(-80, 0, (128, EXCERPT_COLUMNS)).astype(np.float32) for _ in range(a.tracks)]
    m.analyse_logmel(S[0])  # warm-up (graph tracing)
    t = time.perf_counter()
    for s in S:
        m.analyse_logmel(s)
    net = (time.perf_counter() - t) / a.tracks
    y = rng.standard_normal(30 * SR).astype(np.float32) * 0.1
    t = time.perf_counter()
    logmel_track(y=y)
    fe = time.perf_counter() - t
    n_win = len(m.window_starts(S[0]))
    print(f"model {m.version}: {n_win} windows of {m.window} columns per 30 s; "
          f"network {net * 1000:.1f} ms per 30 s of audio (budget 50 ms); front end {fe * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
