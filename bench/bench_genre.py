"""Benchmark: genre inference time per 30 s of audio on this CPU (batched, model loaded once).

    .venv/bin/python bench/bench_genre.py [--model DIR] [--tracks 20] [--threads 2] [--runtime litert|keras|both]

Times the network part (windows of a 30 s log-mel -> probabilities + embeddings), which is what
the 50 ms budget covers, and separately the front end (log-mel of 30 s of audio) for reference.
``--runtime both`` (the default) times the LiteRT export the analysis workers run and the Keras
model, and the CPU time of loading each (the LiteRT one imports no TensorFlow; measure it first).
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
    ap.add_argument("--runtime", choices=("litert", "keras", "both"), default="both")
    a = ap.parse_args()
    from core.features import EXCERPT_COLUMNS, SR, logmel_track
    from models.genre import GenreModel

    rng = np.random.default_rng(0)
    S = [rng.uniform(-80, 0, (128, EXCERPT_COLUMNS)).astype(np.float32) for _ in range(a.tracks)]
    for runtime in (("litert", "keras") if a.runtime == "both" else (a.runtime,)):
        c = time.process_time()
        m = GenreModel.load(a.model, threads=a.threads, runtime=runtime)
        load_cpu = time.process_time() - c
        m.analyse_logmel(S[0])  # warm-up (graph tracing / kernel set-up)
        t, c = time.perf_counter(), time.process_time()
        for s in S:
            m.analyse_logmel(s)
        net = (time.perf_counter() - t) / a.tracks
        net_cpu = (time.process_time() - c) / a.tracks
        n_win = len(m.window_starts(S[0]))
        print(f"model {m.version} [{m.runtime}, {a.threads} threads]: load {load_cpu:.2f} CPU-s; {n_win} windows of "
              f"{m.window} columns per 30 s; network {net * 1000:.1f} ms wall, {net_cpu * 1000:.1f} ms CPU per 30 s "
              "of audio (budget 50 ms)")
    y = rng.standard_normal(30 * SR).astype(np.float32) * 0.1
    t = time.perf_counter()
    logmel_track(y=y)
    fe = time.perf_counter() - t
    print(f"front end {fe * 1000:.0f} ms per 30 s of audio")
    return 0


if __name__ == "__main__":
    sys.exit(main())
