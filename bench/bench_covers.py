"""Benchmark: what a cover costs.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_covers.py [--albums N] [--tracks N] [--side PX]

Makes ``--albums`` albums of ``--tracks`` short MP3s each (tests/media.py), every album with its
own embedded front cover, a noise JPEG of ``--side`` x ``--side`` pixels (noise: the worst case
for the decoder and the file size); then prints, per track, the median and worst time of
``CoverCache.thumbnail_path`` (the blocking call a background thread makes), wall and CPU time
of the calling thread, in these cases:

- cold: no thumbnail yet (find the picture, check it, decode, scale to 256 px, write the file);
- next run: the thumbnail file exists, a fresh cache (find and hash the picture, find the file);
- the album's other tracks, same run: their picture recognised by its hash;
- remembered: the same cache asked again (memory);

and the size of the covers folder.  The files are made in a temporary folder, not timed.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--albums", type=int, default=20)
    ap.add_argument("--tracks", type=int, default=10)
    ap.add_argument("--side", type=int, default=1000, help="cover size in pixels (default 1000)")
    args = ap.parse_args(argv)

    import io

    import numpy as np
    from mutagen.id3 import APIC, ID3
    from PIL import Image
    from PySide6.QtGui import QGuiApplication

    from desktop.covers import CoverCache
    from tests import media

    _app = QGuiApplication.instance() or QGuiApplication(["bench"])
    tmp = Path(tempfile.mkdtemp(prefix="melograph-covers-"))
    rng = np.random.default_rng(0)
    paths = []
    for a in range(args.albums):
        buf = io.BytesIO()
        Image.fromarray(rng.integers(0, 256, (args.side, args.side, 3), dtype=np.uint8)).save(buf, "JPEG", quality=90)
        cover = buf.getvalue()
        for t in range(args.tracks):
            p = media.make(tmp / "music" / f"album{a:03d}" / f"{t:02d}.mp3", seconds=1.0)
            tags = ID3(p)
            tags.add(APIC(encoding=3, mime="image/jpeg", type=3, desc="", data=cover))
            tags.save()
            paths.append(str(p))
    print(f"{len(paths)} tracks in {args.albums} albums, each cover {args.side} x {args.side} px, "
          f"{len(cover) / 1024:.0f} KB")

    def timed(cache, which=None):
        out = []
        for p in which or paths:
            t0, c0 = time.perf_counter(), time.thread_time()
            cache.thumbnail_path(p, 256)
            out.append((time.perf_counter() - t0, time.thread_time() - c0))
        return out

    data = tmp / "data"
    first_of_album = [p for p in paths if p.endswith("00.mp3")]
    cache = CoverCache(data)
    cold = timed(cache, first_of_album)  # a new picture each time
    rest = timed(cache)  # the album's other tracks (and, again, the first: from memory)
    fresh = timed(CoverCache(data))
    memory = timed(cache)
    for name, xs in (("cold (new picture: decode, scale, write)", cold),
                     ("next run (thumbnail file exists)", fresh),
                     ("album's other tracks, same run", [x for p, x in zip(paths, rest) if not p.endswith("00.mp3")]),
                     ("remembered (same cache)", memory)):
        wall, cpu = [w for w, _c in xs], [c for _w, c in xs]
        print(f"{name:42s} wall median {1000 * statistics.median(wall):7.2f} ms, worst {1000 * max(wall):7.2f} ms;"
              f" CPU median {1000 * statistics.median(cpu):7.2f} ms")
    files = list((data / "covers").iterdir())
    size = sum(f.stat().st_size for f in files)
    print(f"covers folder: {len(files)} files, {size / 1024:.0f} KB ({size / len(files) / 1024:.1f} KB each)")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.exit(main())
