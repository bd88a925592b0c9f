"""Two writers on one catalog at the same time: both finish, no "database is locked", every write
is there.  The numbers of concurrent runs are the constants below (cited by the README)."""
from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

from tests.faults.test_kill import direct, end_group, melograph, start, status, write_wavs

#: rounds of two ``scan``s of different folders started together (the first adds every file, the
#: next ones find every file changed), and the files in each folder (enough for read-ahead
#: processes and more than one write batch)
SCAN_ROUNDS = 2
SCAN_FILES_EACH = 600
#: ``like`` loops run while ``analyze`` writes its results: loops x likes each
LIKE_LOOPS, LIKES_PER_LOOP = 2, 6
ANALYZE_FILES = 36


def _assert_clean(p, what: str) -> None:
    assert p.returncode == 0, f"{what}: {p.stderr}"
    assert "locked" not in p.stderr and "Traceback" not in p.stderr, f"{what}: {p.stderr}"


def _finish(p) -> tuple[int, str, str]:
    try:
        out, err = p.communicate(timeout=120)
    finally:
        end_group(p)
    return p.returncode, out, err


def test_two_scans_of_different_folders_at_once_both_finish_with_every_file(tmp_path):
    data = tmp_path / "data"
    folders = [tmp_path / "a", tmp_path / "b"]
    files = {f: write_wavs(f, SCAN_FILES_EACH, seconds=0.1, sr=8000, start=i * SCAN_FILES_EACH)
             for i, f in enumerate(folders)}
    melograph(data, "status")  # the catalog exists before the race (creating it is not the point)
    for round_ in range(SCAN_ROUNDS):
        if round_:
            stamp = time.time_ns() - (SCAN_ROUNDS - round_) * 10**9
            for paths in files.values():
                for p in paths:
                    os.utime(p, ns=(stamp, stamp))
        procs = [start(data, "scan", str(f), "--json") for f in folders]
        for proc, f in zip(procs, folders):
            rc, out, err = _finish(proc)
            assert rc == 0 and "locked" not in err and "Traceback" not in err, err
            counts = json.loads(out)
            assert counts["files"] == SCAN_FILES_EACH
            assert counts["added" if round_ == 0 else "updated"] == SCAN_FILES_EACH, f
    st = status(data)
    assert (st["tracks"], st["libraries"], st["missing"]) == (2 * SCAN_FILES_EACH, 2, 0)
    assert direct(data, "PRAGMA integrity_check") == [("ok",)]
    rows = {r[0]: r[1] for r in direct(data, "SELECT path, mtime_ns FROM tracks")}
    assert rows == {str(p): os.stat(p).st_mtime_ns for paths in files.values() for p in paths}


def test_likes_while_analyze_writes_results_all_land_and_the_analysis_finishes(tmp_path):
    data, lib = tmp_path / "data", tmp_path / "music"
    paths = write_wavs(lib, ANALYZE_FILES, seconds=4.0, sr=22050)
    _assert_clean(melograph(data, "scan", str(lib), "--quiet"), "scan")
    analyze = start(data, "analyze", "--workers", "2", "--quiet")
    problems: list[str] = []
    overlapped = [0]
    mine = [paths[k::LIKE_LOOPS][:LIKES_PER_LOOP] for k in range(LIKE_LOOPS)]

    def like_loop(mine: list[Path]) -> None:
        for path in mine:
            p = melograph(data, "like", str(path))
            if p.returncode != 0 or p.stderr:
                problems.append(p.stderr or f"like exited {p.returncode}")
            if analyze.poll() is None:
                overlapped[0] += 1

    loops = [threading.Thread(target=like_loop, args=(m,)) for m in mine]
    for t in loops:
        t.start()
    for t in loops:
        t.join(120)
    rc, out, err = _finish(analyze)
    assert rc == 0 and "locked" not in err and "Traceback" not in err, err
    assert problems == []
    assert overlapped[0] > 0  # some likes were written while the analysis ran
    assert f"analysed {ANALYZE_FILES}, skipped 0 (already analysed), failed 0" in out
    liked = {str(p) for m in mine for p in m}
    rated = {r[0] for r in direct(data, "SELECT t.path FROM ratings r JOIN tracks t ON t.id = r.track_id "
                                        "WHERE r.rating = 1")}
    assert rated == liked
    assert status(data)["liked"] == LIKE_LOOPS * LIKES_PER_LOOP
    assert direct(data, "SELECT COUNT(*) FROM analysis") == [(ANALYZE_FILES,)]
    assert direct(data, "PRAGMA integrity_check") == [("ok",)]
