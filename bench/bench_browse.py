"""Browsing a big library: the artist / album tree, the browser's filter, the shuffle's draw.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_browse.py [--tracks 20000] [--reps 5]

A synthetic library of ``--tracks`` rows (1 artist in 20 tracks, 2 albums each, a third of the
genre tags with two values).  Prints min / median / max over ``--reps`` of:
- ``build_tree`` (worker thread in the app): artist › album, and genre › artist › album;
- ``BrowserPanel.set_tree`` (GUI thread): the tree's items;
- ``LibraryModel.set_browse`` (GUI thread): the table limited to one artist, and back;
- ``ViewSource.next_after`` with shuffle (the player's thread): the next track drawn from all rows.
Goal: each GUI-thread step well under 50 ms (a stall a user would feel).
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def rows(n: int):
    from desktop.librarymodel import Row, prepare_rows

    genres = ["Rock", "Pop; Dance", "Jazz", "reggaeton, latin", "Blues", "Metal"]
    out = []
    for i in range(n):
        artist = f"Artist {i // 20:05d}"
        album = f"{artist} album {(i // 10) % 2}"
        r = Row(i + 1, f"/music/{artist}/{album}/{i % 10:02d}.flac", f"Song {i}", artist, album, 200.0,
                genres[i % len(genres)], track_no=i % 10 + 1)
        r.search = " ".join((r.title, r.artist, r.album)).casefold()
        out.append(r)
    return prepare_rows(out)


def timed(fn, reps):
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(1000 * (time.perf_counter() - t0))
    return f"{min(times):7.1f} / {statistics.median(times):7.1f} / {max(times):7.1f} ms"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tracks", type=int, default=20000)
    p.add_argument("--reps", type=int, default=5)
    a = p.parse_args(argv)

    from PySide6.QtWidgets import QApplication

    from core.playback.queue import ViewSource
    from desktop.browser import BrowserPanel, build_tree
    from desktop.librarymodel import LibraryModel

    app = QApplication.instance() or QApplication([])  # noqa: F841
    rs = rows(a.tracks)
    print(f"{a.tracks:,} tracks, {a.tracks // 20:,} artists; min / median / max of {a.reps}")
    print(f"build_tree, artist › album        {timed(lambda: build_tree(rs.rows, 'artist'), a.reps)}")
    print(f"build_tree, genre › artist › album {timed(lambda: build_tree(rs.rows, 'genre'), a.reps)}")
    panel = BrowserPanel()
    nodes = build_tree(rs.rows, "artist")
    print(f"set_tree (GUI thread)              {timed(lambda: panel.set_tree(nodes, a.tracks), a.reps)}")
    model = LibraryModel()
    model.set_rows(rs)
    one = nodes[len(nodes) // 2].ids

    def browse():
        model.set_browse(one)
        model.set_browse(None)

    print(f"set_browse one artist + back (GUI) {timed(browse, a.reps)}")
    src = ViewSource(model.visible_rows, make=lambda r: r)
    rng = random.Random(0)
    current = rs.rows[0]

    def draw():
        nonlocal current
        current = src.next_after(current, shuffle=True, repeat="all", rng=rng)

    print(f"shuffle draw from the view         {timed(draw, a.reps * 4)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
