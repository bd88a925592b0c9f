"""Benchmark: does one song get one answer whatever file it comes in?

    .venv/bin/python bench/bench_formats.py [--model DIR] [--clips N] [--cache DIR] [--logmels NPZ]

Encodes each clip of ../shared/data/gtzan_audio/ (89 real GTZAN clips) with ffmpeg as MP3 at
128/192/320 kbit/s, AAC 192 kbit/s, Opus 128 kbit/s and Vorbis q5 (all 44.1 kHz stereo, Opus
48 kHz), FLAC at 22.05/44.1/48 kHz and 16-bit stereo WAV at 44.1 kHz; runs each file through the
path ``python main.py predict`` uses (``analysis.worker.prepare_file`` then
``GenreModel.analyse_track``); and prints, for every pair of formats, the median / 95th
percentile / max over the clips of the L1 distance between the two track distributions (0 =
the same answer, 2 = disjoint).  Last it prints the spread of every clip (its largest pairwise
L1), how often the top genre is the same in all formats, and how often the app shows one answer
(the same top genre, or "uncertain: a or b" in every format).

Encoded files are cached in ``--cache`` (default /tmp/melograph-formats); ``--logmels`` also
saves every file's log-mel (for studying the front end).
"""
from __future__ import annotations

import argparse
import csv
import itertools
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
AUDIO = ROOT.parent / "shared" / "data" / "gtzan_audio"

#: name -> (file suffix, ffmpeg output options)
FORMATS: dict[str, tuple[str, list[str]]] = {
    "mp3-128": (".mp3", ["-ar", "44100", "-ac", "2", "-c:a", "libmp3lame", "-b:a", "128k"]),
    "mp3-192": (".mp3", ["-ar", "44100", "-ac", "2", "-c:a", "libmp3lame", "-b:a", "192k"]),
    "mp3-320": (".mp3", ["-ar", "44100", "-ac", "2", "-c:a", "libmp3lame", "-b:a", "320k"]),
    "aac": (".m4a", ["-ar", "44100", "-ac", "2", "-c:a", "aac", "-b:a", "192k"]),
    "opus": (".opus", ["-ar", "48000", "-ac", "2", "-c:a", "libopus", "-b:a", "128k"]),
    "vorbis": (".ogg", ["-ar", "44100", "-ac", "2", "-c:a", "libvorbis", "-q:a", "5"]),
    "flac-22k": (".flac", ["-ar", "22050", "-ac", "1", "-c:a", "flac"]),
    "flac-44k": (".flac", ["-ar", "44100", "-ac", "1", "-c:a", "flac"]),
    "flac-48k": (".flac", ["-ar", "48000", "-ac", "1", "-c:a", "flac"]),
    "wav-stereo": (".wav", ["-ar", "44100", "-ac", "2", "-c:a", "pcm_s16le"]),
}


def clip_paths(n: int | None = None, *, audio_dir: Path = AUDIO) -> list[Path]:
    """The GTZAN clips of ``audio_dir`` in manifest order; ``n`` spread over the genres."""
    with open(audio_dir / "manifest.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    key = "id" if "id" in rows[0] else next(iter(rows[0]))
    paths = [audio_dir / f"{r[key]}.flac" if not r[key].endswith(".flac") else audio_dir / r[key] for r in rows]
    paths = [p for p in paths if p.is_file()]
    if n is not None and n < len(paths):
        # every k-th clip, so that a few clips still cover several genres
        paths = [paths[int(i)] for i in np.linspace(0, len(paths) - 1, n).round()]
    return paths


def encode(src: Path, fmt: str, cache: Path) -> Path:
    """``src`` encoded as ``fmt`` (cached in ``cache``); raises CalledProcessError on failure."""
    suffix, opts = FORMATS[fmt]
    out = cache / fmt / (src.stem + suffix)
    if out.is_file() and out.stat().st_size > 0:
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.stem + ".part" + suffix)
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(src), *opts, str(tmp)], check=True)
    tmp.replace(out)
    return out


def track_distributions(model, paths_by_format: dict[str, list[Path]], *, logmels: dict | None = None) -> dict[str, np.ndarray]:
    """``{format: (n_clips, C)}`` track distributions through the predict path."""
    from analysis.worker import prepare_file

    out = {}
    for fmt, paths in paths_by_format.items():
        rows = []
        for p in paths:
            S = prepare_file(str(p))["S"]
            if logmels is not None:
                logmels.setdefault(fmt, []).append(S[:, :387])
            rows.append(model.analyse_track(S)["track_probs"])
        out[fmt] = np.stack(rows)
    return out


def pairwise_l1(dists: dict[str, np.ndarray]) -> dict[tuple[str, str], np.ndarray]:
    """``{(a, b): (n_clips,)}`` L1 distance between the two formats' track distributions."""
    return {(a, b): np.abs(dists[a] - dists[b]).sum(axis=1) for a, b in itertools.combinations(dists, 2)}


def spread(dists: dict[str, np.ndarray]) -> np.ndarray:
    """Per clip, the largest L1 distance between any two formats, ``(n_clips,)``."""
    return np.max(np.stack(list(pairwise_l1(dists).values())), axis=0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="model directory (default: the shipped model)")
    ap.add_argument("--runtime", choices=("auto", "litert", "keras"), default="auto")
    ap.add_argument("--clips", type=int, default=None, help="use N clips spread over the genres (default: all 89)")
    ap.add_argument("--cache", default="/tmp/melograph-formats", help="folder for the encoded files")
    ap.add_argument("--logmels", default=None, metavar="NPZ", help="also save each file's first 387 log-mel columns")
    a = ap.parse_args()
    from models.genre import GenreModel

    cache = Path(a.cache)
    srcs = clip_paths(a.clips)
    t0 = time.perf_counter()
    paths = {fmt: [encode(s, fmt, cache) for s in srcs] for fmt in FORMATS}
    t1 = time.perf_counter()
    model = GenreModel.load(a.model, runtime=a.runtime)
    lm: dict | None = {} if a.logmels else None
    dists = track_distributions(model, paths, logmels=lm)
    t2 = time.perf_counter()
    if a.logmels:
        np.savez_compressed(a.logmels, ids=np.array([s.stem for s in srcs]),
                            **{k.replace("-", "_"): np.stack(v).astype(np.float16) for k, v in lm.items()})
    print(f"model {model.version} ({model.runtime}); {len(srcs)} clips x {len(FORMATS)} formats "
          f"(encode {t1 - t0:.0f} s, predict {t2 - t1:.0f} s)")
    print("pairwise L1 between track distributions (median / p95 / max over clips):")
    pw = pairwise_l1(dists)
    for (x, y), d in sorted(pw.items(), key=lambda kv: -np.max(kv[1])):
        print(f"  {x:>10} vs {y:<10}  {np.median(d):.3f} / {np.percentile(d, 95):.3f} / {np.max(d):.3f}")
    s = spread(dists)
    top = np.stack([d.argmax(axis=1) for d in dists.values()])
    same = float(np.mean((top == top[0]).all(axis=0)))
    print(f"spread per clip (largest pairwise L1): median {np.median(s):.3f}, p95 {np.percentile(s, 95):.3f}, "
          f"max {np.max(s):.3f} ({srcs[int(np.argmax(s))].stem}); within 0.15: {np.mean(s <= 0.15):.1%} of clips")
    over = [int(i) for i in np.argsort(-s) if s[i] > 0.15]
    if over:
        names = list(dists)
        worst = []
        for i in over:
            a, b = max(itertools.combinations(range(len(names)), 2),
                       key=lambda ab: float(np.abs(dists[names[ab[0]]][i] - dists[names[ab[1]]][i]).sum()))
            worst.append(f"{srcs[i].stem} {s[i]:.3f} ({names[a]} vs {names[b]})")
        print("  above 0.15: " + "; ".join(worst))
    print(f"same top genre in every format: {same:.1%} of clips")
    from core.genrelabel import label_of_probs

    labels = [[label_of_probs(model.classes, d[i]) for d in dists.values()] for i in range(len(srcs))]
    one = [len({lab.genre for lab in ls}) == 1 or all(lab.uncertain for lab in ls) for ls in labels]
    print(f"one answer in the app (the same top genre, or \"uncertain\" in every format): {np.mean(one):.1%} of clips")
    moved = [f"{srcs[i].stem} ({', '.join(sorted({lab.text for lab in labels[i]}))})" for i in range(len(srcs)) if not one[i]]
    if moved:
        print("  the others: " + "; ".join(moved))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
