"""Benchmark of playlists: M3U import and export, reading a long playlist, and what entries left
behind cost the end of a scan.

    python bench/bench_playlists.py                    # a 20,000-track catalog, a 2,000-entry playlist
    python bench/bench_playlists.py --tracks 5000 --entries 500

The catalog is a fresh SQLite file in a temporary folder: ``--tracks`` rows, each with a real
(one-byte) file under a library folder, so that an import finds every entry by its path the way
it does in a real library (the file's content is never read for a path match).  Measured, each
the median of ``--repeat`` runs:

- export: ``core.playlists.export_m3u`` of the ``--entries``-entry playlist (relative paths).
- import: ``core.playlists.import_m3u`` of that file into a new playlist (parse, match every
  entry by path, one transaction).
- read: ``Catalog.playlist_entries`` (what the Playlists panel reads when one is selected).
- scan end, nothing left behind: ``Catalog.follow_ratings()`` (the scanner calls it once at the
  end of every scan; playlists add their two indexed look-ups to it).
- scan end, entries left behind: the same with 10 % of the playlist's tracks marked missing and
  as many new files of the same songs (other fingerprints) added, so each entry follows its song.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.catalog import Catalog  # noqa: E402
from core.playlists import export_m3u, import_m3u  # noqa: E402


def _median(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tracks", type=int, default=20_000)
    ap.add_argument("--entries", type=int, default=2_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="melograph-bench-playlists-") as tmp:
        root = Path(tmp) / "Music"
        cat = Catalog(Path(tmp) / "catalog.sqlite3")
        cat.add_library(root)
        ids = []
        with cat.transaction():
            for i in range(args.tracks):
                folder = root / f"Artist {i % 300:03d}" / f"Album {i % 17:02d}"
                folder.mkdir(parents=True, exist_ok=True)
                path = folder / f"{i:05d} Tïtle {i}.flac"
                path.write_bytes(b"x")
                ids.append(cat.add_track({"path": str(path), "size": 1, "mtime_ns": 1, "fingerprint": f"fp{i}",
                                          "artist": f"Artist {i % 300:03d}", "title": f"Tïtle {i}",
                                          "duration": 120.0 + i % 240}, reattach=False))
        step = max(1, args.tracks // args.entries)
        chosen = ids[::step][:args.entries]
        p = cat.create_playlist("Bench")
        cat.add_to_playlist(p.id, chosen)
        out = Path(tmp) / "lists" / "bench.m3u8"
        out.parent.mkdir()

        t_export, report = _median(lambda: export_m3u(cat, p.id, out), args.repeat)
        names = iter(range(10**6))
        t_import, imported = _median(lambda: import_m3u(cat, out, name=f"Imported {next(names)}"), args.repeat)
        assert len(imported.added) == len(chosen) and not imported.skipped
        t_read, entries = _median(lambda: cat.playlist_entries(p.id), args.repeat)
        t_follow_none, _ = _median(cat.follow_ratings, args.repeat)

        # 10 % of the playlist's files replaced by re-encodes (same tags, other bytes)
        gone = chosen[::10]
        cat.mark_missing(gone)
        with cat.transaction():
            for tid in gone:
                t = cat.get_track(tid)
                cat.add_track({"path": t.path + ".ogg", "size": 1, "mtime_ns": 1, "fingerprint": t.fingerprint + "-ogg",
                               "artist": t.artist, "title": t.title, "duration": t.duration}, reattach=False)
        t0 = time.perf_counter()
        cat.follow_ratings()
        t_follow = time.perf_counter() - t0
        followed = sum(not e.missing for e in cat.playlist_entries(p.id))
        cat.close()

    print(f"catalog: {args.tracks:,} tracks; playlist: {len(chosen):,} entries; median of {args.repeat}")
    print(f"export (UTF-8 M3U8, relative paths):   {t_export * 1000:8.1f} ms  ({report.written:,} written)")
    print(f"import (parse, match by path, store):  {t_import * 1000:8.1f} ms  ({len(imported.added):,} matched)")
    print(f"read the entries with their tracks:    {t_read * 1000:8.1f} ms  ({len(entries):,} entries)")
    print(f"scan end, nothing left behind:         {t_follow_none * 1000:8.2f} ms")
    print(f"scan end, {len(gone):,} entries follow re-encodes: {t_follow * 1000:8.1f} ms  "
          f"({followed:,} of {len(chosen):,} entries present after)")
    print(f"load average: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
