#!/usr/bin/env python3
"""Scan benchmark: a generated library of 10,000 small tagged files of mixed formats.

    .venv/bin/python bench/bench_scan.py [--files 10000] [--library DIR] [--workers N] [--profile]

The library is generated once and cached (default: $TMPDIR/melograph-bench-library-v1): a few
hundred real encoded files (tests/media.py, ffmpeg) in mp3 flac ogg opus m4a wav aiff wma are
copied and each copy gets its own tags written by mutagen, so every file has different content
and tags.  Generation is not measured.  Then, into a fresh catalog, it measures and prints:

* cold scan: files per minute                        goal >= 20,000 / min
* rescan with nothing changed: seconds               goal < 2 s

The measured numbers are in the README ("Library scan").
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.catalog import Catalog  # noqa: E402
from core.scanner import scan  # noqa: E402

FORMATS = ["mp3", "flac", "ogg", "opus", "m4a", "wav", "aiff", "wma"]
BASES_PER_FORMAT = 40
GENRES = ["Rock", "Jazz", "Blues", "Classical", "Hip-Hop", "Pop", "Metal", "Reggae", "Country", "Disco"]
WORDS = ["night", "blue", "river", "Café", "Straße", "夜", "ночь", "🎵", "gold", "echo", "rain", "fire"]


def _tag(path: Path, fmt: str, i: int, rng: random.Random) -> None:
    import mutagen
    from mutagen.id3 import ID3, TALB, TCON, TDRC, TIT2, TPE1, TPE2, TRCK

    title = f"{rng.choice(WORDS)} {rng.choice(WORDS)} {i}"
    artist = f"Artist {i % 400}"
    album = f"Album {i % 900} {rng.choice(WORDS)}"
    track = str(i % 14 + 1)
    year = str(1960 + i % 60)
    genre = GENRES[i % len(GENRES)]
    if fmt in ("wav", "aiff"):
        f = mutagen.File(path)
        if f.tags is None:
            f.add_tags()
        t: ID3 = f.tags
        t.add(TIT2(encoding=3, text=title)); t.add(TPE1(encoding=3, text=artist))
        t.add(TALB(encoding=3, text=album)); t.add(TPE2(encoding=3, text=artist))
        t.add(TRCK(encoding=3, text=track)); t.add(TDRC(encoding=3, text=year))
        t.add(TCON(encoding=3, text=genre))
        f.save()
    elif fmt == "wma":
        f = mutagen.File(path)
        f.tags["Title"] = title; f.tags["Author"] = artist; f.tags["WM/AlbumTitle"] = album
        f.tags["WM/TrackNumber"] = track; f.tags["WM/Year"] = year; f.tags["WM/Genre"] = genre
        f.save()
    else:
        f = mutagen.File(path, easy=True)
        if f.tags is None:
            f.add_tags()
        f["title"] = title; f["artist"] = artist; f["album"] = album
        f["tracknumber"] = track; f["date"] = year; f["genre"] = genre
        f.save()


def build_library(dest: Path, n: int) -> Path:
    marker = dest / f".complete-{n}"
    if marker.exists():
        return dest
    from tests import media

    if not media.have_ffmpeg():
        sys.exit("bench: ffmpeg is needed to generate the library (scripts/dev.sh installs it)")
    print(f"bench: generating {n} files in {dest} (once; not measured) ...", flush=True)
    t0 = time.perf_counter()
    if dest.exists():
        shutil.rmtree(dest)
    bases_dir = dest.parent / (dest.name + "-bases")
    bases: list[tuple[str, Path]] = []
    rng = random.Random(1234)
    for fmt in FORMATS:
        for b in range(BASES_PER_FORMAT):
            p = bases_dir / f"{fmt}-{b}.{fmt}"
            if not p.exists():
                media.make(p, seconds=round(0.5 + (b % 5) * 0.25, 2), freq=220.0 + 37 * b,
                           kind="tone" if b % 2 else "noise", channels=1 + (b % 2))
            bases.append((fmt, p))
    for i in range(n):
        fmt, src = bases[i % len(bases)]
        sub = dest / f"Artist {i % 400:03d}" / f"Album {i % 900:03d}"
        sub.mkdir(parents=True, exist_ok=True)
        out = sub / f"{i % 14 + 1:02d} track {i:05d}.{fmt}"
        shutil.copyfile(src, out)
        _tag(out, fmt, i, rng)
    marker.write_text("ok\n")
    print(f"bench: generated in {time.perf_counter() - t0:.0f} s", flush=True)
    return dest


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--library", type=Path, default=Path(tempfile.gettempdir()) / "melograph-bench-library-v1")
    ap.add_argument("--workers", type=int, default=None, help="reader processes (default: the scanner's choice)")
    ap.add_argument("--profile", action="store_true", help="cProfile the cold scan (top 25 by cumulative time)")
    args = ap.parse_args(argv)

    lib = build_library(args.library, args.files)
    work = Path(tempfile.mkdtemp(prefix="melograph-bench-"))
    try:
        catalog = Catalog(work / "catalog.sqlite3")
        prof = None
        if args.profile:
            import cProfile

            prof = cProfile.Profile()
            prof.enable()
        t0 = time.perf_counter()
        cold = scan(catalog, lib, workers=args.workers)
        cold_s = time.perf_counter() - t0
        if prof is not None:
            prof.disable()
            import pstats

            pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
        t0 = time.perf_counter()
        warm = scan(catalog, lib, workers=args.workers)
        warm_s = time.perf_counter() - t0
        catalog.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    per_min = cold.files / cold_s * 60 if cold_s else float("inf")
    print(f"library: {cold.files} files ({', '.join(FORMATS)}) in {args.library}")
    print(f"cold scan: {cold_s:.2f} s, {per_min:,.0f} files/min (goal >= 20,000/min) "
          f"[added {cold.added}, failed {cold.failed}]  {'OK' if per_min >= 20000 else 'TOO SLOW'}")
    print(f"rescan, nothing changed: {warm_s:.2f} s (goal < 2 s) "
          f"[unchanged {warm.unchanged}]  {'OK' if warm_s < 2 else 'TOO SLOW'}")
    if cold.failed:
        for f in cold.failures[:5]:
            print("  failure:", f["path"], f["reason"])
    return 0 if per_min >= 20000 and warm_s < 2 and not cold.failed else 1


if __name__ == "__main__":
    sys.exit(main())
