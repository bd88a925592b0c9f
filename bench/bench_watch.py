#!/usr/bin/env python3
"""Watcher benchmark: how soon a change in a watched library folder is in the catalog.

    .venv/bin/python bench/bench_watch.py [--files 10000] [--library DIR] [--rounds 5]

On the generated library of bench/bench_scan.py (10,000 files, made once, not measured), scanned
into a fresh catalog, with a real ``core.watcher.LibraryWatcher`` (inotify) whose changes go to
``scanner.scan_paths`` as in the app, it measures and prints:

* setting up the recursive watch of the whole library: seconds
* one file copied in -> its row in the catalog: seconds (median of --rounds; the watcher's
  debounce, 1.5 s, included)
* an album of 20 files copied in -> all 20 rows: seconds
* one file deleted -> its row flagged missing: seconds (median)
* for comparison: the path scan of one file vs a full rescan of the library with nothing
  changed (what a change would cost without the watcher)

The files it adds go into a folder of their own inside the library, deleted at the end.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_scan import build_library  # noqa: E402

from core.catalog import Catalog  # noqa: E402
from core.scanner import scan, scan_paths  # noqa: E402
from core.watcher import WATCHED, LibraryWatcher  # noqa: E402


def wait_for(cond, timeout=60.0) -> float:
    t0 = time.perf_counter()
    while not cond():
        if time.perf_counter() - t0 > timeout:
            raise SystemExit("bench: timed out")
        time.sleep(0.01)
    return time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--library", type=Path, default=Path(tempfile.gettempdir()) / "melograph-bench-library-v1")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args(argv)

    lib = build_library(args.library, args.files)
    sources = sorted((lib.parent / (lib.name + "-bases")).glob("*.*"))
    work = Path(tempfile.mkdtemp(prefix="melograph-bench-watch-"))
    mine = lib / f"_bench_watch_{os.getpid()}"
    catalog = Catalog(work / "catalog.sqlite3")
    watched = threading.Event()
    watcher = None
    try:
        t0 = time.perf_counter()
        cold = scan(catalog, lib)
        print(f"library: {cold.files} files, scanned in {time.perf_counter() - t0:.1f} s (not part of the numbers)")

        def on_changes(root, paths):
            if paths == [root]:
                scan(catalog, root)
            else:
                scan_paths(catalog, paths)

        def on_status(status):
            if status.state == WATCHED:
                watched.set()

        t0 = time.perf_counter()
        watcher = LibraryWatcher(on_changes, on_status)
        watcher.set_roots([lib])
        if not watched.wait(120):
            print("bench: the library could not be watched:", watcher.statuses())
            return 1
        setup_s = time.perf_counter() - t0

        mine.mkdir()
        add_s, del_s = [], []
        for i in range(args.rounds):
            src = sources[i % len(sources)]
            dst = mine / f"copied {i}{src.suffix}"
            t0 = time.perf_counter()
            shutil.copyfile(src, dst)
            wait_for(lambda: catalog.track_by_path(dst) is not None)
            add_s.append(time.perf_counter() - t0)
        for i in range(args.rounds):
            dst = next(mine.glob(f"copied {i}.*"))
            t0 = time.perf_counter()
            os.remove(dst)
            wait_for(lambda: catalog.track_by_path(dst).missing)
            del_s.append(time.perf_counter() - t0)

        album = work / "album"
        album.mkdir()
        for i in range(20):
            src = sources[(i * 7) % len(sources)]
            shutil.copyfile(src, album / f"{i:02d}{src.suffix}")
        t0 = time.perf_counter()
        shutil.copytree(album, mine / "album")
        wait_for(lambda: catalog.track_count(root=mine / "album") == 20)
        album_s = time.perf_counter() - t0

        one = next((mine / "album").iterdir())
        t0 = time.perf_counter()
        scan_paths(catalog, [one])
        path_scan_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        scan(catalog, lib)
        rescan_s = time.perf_counter() - t0
    finally:
        if watcher is not None:
            watcher.close()
        catalog.close()
        shutil.rmtree(mine, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)

    print(f"recursive watch of the library set up: {setup_s:.2f} s")
    print(f"one file copied in -> in the catalog: median {statistics.median(add_s):.2f} s "
          f"(min {min(add_s):.2f}, max {max(add_s):.2f}; {args.rounds} rounds; debounce 1.5 s included)")
    print(f"one file deleted -> flagged missing: median {statistics.median(del_s):.2f} s "
          f"(min {min(del_s):.2f}, max {max(del_s):.2f})")
    print(f"an album of 20 files copied in -> all in the catalog: {album_s:.2f} s")
    print(f"path scan of one file: {path_scan_s * 1000:.0f} ms; full rescan, nothing changed: {rescan_s:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
