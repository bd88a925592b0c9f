"""``kill -9`` of ``scan`` and ``analyze`` at seeded random points, on a real catalog.

Each run is killed after a delay drawn from ``random.Random(SEED)`` between the process start and
the natural end of that run (measured on the same work first: a whole scan; an analysis's
start-up plus its time per track times the tracks left).  A run that ends by itself before its
delay is not counted, and another is started.  After every kill:

- ``python main.py status --json`` answers (exit 0, JSON, the likes counted);
- SQLite's ``PRAGMA integrity_check`` is ``ok`` and no foreign key dangles;
- every like and dislike made before the kills is still there, on the same files;
- no half track: every track row is whole, every stored result has all its arrays;
- the next run picks up from there, and at the end a plain run finishes the work: no finished
  track is analysed twice, only the tracks in flight at a kill are left to do.

The numbers of kills are the constants below (cited by the README's reliability table).
"""
from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import wave
from pathlib import Path

import numpy as np

from core.catalog import Catalog

ROOT = Path(__file__).resolve().parents[2]
SEED = 19
#: kill -9 of ``scan`` (each on a run with real work: every file changed, new files added)
SCAN_KILLS = 10
#: files the scan kills work on (tiny WAVs: enough for more than one write batch and read-ahead
#: processes), and the new files each killed run also finds
SCAN_FILES = 1200
SCAN_NEW_PER_RUN = 50
#: kill -9 of ``analyze FOLDER`` (two workers), over a library of this many short tracks, and the
#: new tracks each killed run also finds
ANALYZE_KILLS = 6
ANALYZE_FILES = 24
ANALYZE_NEW_PER_RUN = 8
ANALYZE_WORKERS = 2
#: likes and dislikes made before the kills
LIKES, DISLIKES = 5, 2


# --------------------------------------------------------------------------------------------
# helpers (test_two_writers uses them too)


def write_wavs(folder: Path, n: int, *, seconds: float, sr: int, start: int = 0) -> list[Path]:
    """``n`` short mono WAV files, each a different tone over a little noise (distinct bytes)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(start)
    t = np.arange(int(seconds * sr)) / sr
    paths = []
    for i in range(start, start + n):
        y = 0.3 * np.sin(2 * np.pi * (110.0 + 7.0 * i) * t) + 0.05 * rng.standard_normal(len(t))
        path = folder / f"track{i:04d}.wav"
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(sr)
            w.writeframes((np.clip(y, -1, 1) * 32767).astype("<i2").tobytes())
        paths.append(path)
    return paths


def env_for(data_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("MELOGRAPH_MODEL_DIR", "MELOGRAPH_ANALYSIS_FAULT")}
    env.update(MELOGRAPH_DATA_DIR=str(data_dir), TF_CPP_MIN_LOG_LEVEL="2")
    return env


def start(data_dir: Path, *args: str) -> subprocess.Popen:
    """``python main.py ARGS`` in its own process group (so whatever it leaves can be cleaned up)."""
    return subprocess.Popen([sys.executable, "main.py", *args], cwd=ROOT, env=env_for(data_dir),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def melograph(data_dir: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    p = start(data_dir, *args)
    try:
        out, err = p.communicate(timeout=timeout)
    finally:
        end_group(p)
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)


def _group_members(pgid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    fields = f.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != b"Z":
                pids.append(int(entry))
    return pids


def end_group(proc: subprocess.Popen, grace: float = 5.0) -> None:
    """Wait up to ``grace`` s for what ``proc`` started to end, then kill what is left."""
    if proc.poll() is None:
        proc.kill()
        proc.wait(10)
    deadline = time.monotonic() + grace
    while _group_members(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in _group_members(proc.pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def timed(data_dir: Path, *args: str) -> float:
    """Seconds a run of the command takes from start to its natural end (it must succeed)."""
    t0 = time.monotonic()
    p = melograph(data_dir, *args)
    assert p.returncode == 0, p.stderr
    return time.monotonic() - t0


def kill_9_after(data_dir: Path, delay: float, *args: str) -> bool:
    """Start the command and ``kill -9`` it ``delay`` seconds later.  True when it was killed;
    False when it had already ended by itself (successfully: that is asserted)."""
    p = start(data_dir, *args)
    try:
        time.sleep(delay)
        if p.poll() is None:
            os.kill(p.pid, signal.SIGKILL)
        _, err = p.communicate(timeout=10)
    finally:
        end_group(p)
    assert p.returncode in (0, -signal.SIGKILL), err
    return p.returncode == -signal.SIGKILL


def status(data_dir: Path) -> dict:
    p = melograph(data_dir, "status", "--json")
    assert p.returncode == 0 and p.stderr == "", p.stderr
    return json.loads(p.stdout)


def direct(data_dir: Path, sql: str, params=()) -> list[tuple]:
    """Rows of a query run by SQLite itself on the catalog file."""
    con = sqlite3.connect(data_dir / "catalog.sqlite3", timeout=30)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def ratings(data_dir: Path) -> set[tuple[str, int]]:
    return set(direct(data_dir, "SELECT t.path, r.rating FROM ratings r JOIN tracks t ON t.id = r.track_id"))


def assert_sound(data_dir: Path, rated: set[tuple[str, int]]) -> dict:
    """The checks after a kill (module docstring); returns ``status --json``."""
    st = status(data_dir)
    assert direct(data_dir, "PRAGMA integrity_check") == [("ok",)]
    assert direct(data_dir, "PRAGMA foreign_key_check") == []
    assert ratings(data_dir) == rated
    assert (st["liked"], st["disliked"]) == (LIKES, DISLIKES)
    half = direct(data_dir, "SELECT path FROM tracks WHERE fingerprint = '' OR size <= 0 OR mtime_ns <= 0 "
                            "OR duration IS NULL OR duration <= 0")
    assert half == []
    return st


def rate_some(data_dir: Path, paths: list[Path]) -> set[tuple[str, int]]:
    liked, disliked = paths[:LIKES], paths[LIKES : LIKES + DISLIKES]
    assert melograph(data_dir, "like", *map(str, liked)).returncode == 0
    assert melograph(data_dir, "dislike", *map(str, disliked)).returncode == 0
    return {(str(p), 1) for p in liked} | {(str(p), -1) for p in disliked}


# --------------------------------------------------------------------------------------------
# scan


def _touch_all(paths: list[Path], stamp_ns: int) -> None:
    for p in paths:
        os.utime(p, ns=(stamp_ns, stamp_ns))


def test_kill_9_during_scan_loses_nothing_and_the_next_scan_finishes(tmp_path):
    rng = random.Random(SEED)
    lib, data = tmp_path / "music", tmp_path / "data"
    paths = write_wavs(lib, SCAN_FILES, seconds=0.1, sr=8000)
    assert melograph(data, "scan", str(lib), "--quiet").returncode == 0
    rated = rate_some(data, paths)
    assert_sound(data, rated)
    stamp = time.time_ns() - 10**12
    _touch_all(paths, stamp)
    natural = timed(data, "scan", str(lib), "--quiet")  # every file changed: each is read again
    kills = attempts = 0
    while kills < SCAN_KILLS:
        attempts += 1
        assert attempts <= 3 * SCAN_KILLS, f"only {kills} of {attempts - 1} runs could be killed before their end"
        # real work for each run: every file changed since the last scan, and new files
        stamp += 10**9
        _touch_all(paths, stamp)
        paths += write_wavs(lib, SCAN_NEW_PER_RUN, seconds=0.1, sr=8000, start=len(paths))
        kills += kill_9_after(data, rng.uniform(0.0, natural), "scan", str(lib), "--quiet")
        st = assert_sound(data, rated)
        assert SCAN_FILES <= st["tracks"] <= len(paths)
    p = melograph(data, "scan", str(lib), "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["files"] == len(paths)
    st = assert_sound(data, rated)
    assert (st["tracks"], st["missing"]) == (len(paths), 0)
    # every row describes its file as it is now
    rows = {r[0]: (r[1], r[2]) for r in direct(data, "SELECT path, size, mtime_ns FROM tracks")}
    assert rows == {str(p): (os.stat(p).st_size, os.stat(p).st_mtime_ns) for p in paths}


# --------------------------------------------------------------------------------------------
# analyze


def _results(data_dir: Path) -> dict[str, float]:
    """fingerprint -> computed_at of every stored result."""
    return dict(direct(data_dir, "SELECT fingerprint, computed_at FROM analysis"))


def _assert_results_whole(data_dir: Path) -> None:
    cat = Catalog.open(data_dir)
    try:
        for (fp,) in cat.fetchall("SELECT fingerprint FROM analysis"):
            r = cat.analysis_by_fingerprint(fp)
            assert len(r.classes) == r.track_probs.shape[0] == r.window_probs.shape[1]
            assert r.embeddings.shape[0] >= 1 and r.window_probs.shape[0] >= 1
            assert r.top_genre in r.classes
    finally:
        cat.close()


def test_kill_9_during_analyze_keeps_every_finished_track_and_the_next_run_finishes(tmp_path):
    rng = random.Random(SEED)
    lib, data = tmp_path / "music", tmp_path / "data"
    paths = write_wavs(lib, ANALYZE_FILES, seconds=4.0, sr=22050)
    opts = ("--workers", str(ANALYZE_WORKERS), "--quiet")
    # how long a run takes: start-up, then a time per track (measured on a scratch catalog)
    t0 = time.monotonic()
    p = melograph(tmp_path / "scratch", "analyze", str(lib), *opts, "--json")
    assert p.returncode == 0, p.stderr
    run_s = json.loads(p.stdout)["seconds"]
    start_s, per_track_s = time.monotonic() - t0 - run_s, run_s / ANALYZE_FILES
    assert melograph(data, "scan", str(lib), "--quiet").returncode == 0
    rated = rate_some(data, paths)
    done_at_kill: list[dict[str, float]] = []
    waiting: set[str] = set()  # files with a result or a place in the queue
    kills = attempts = 0
    while kills < ANALYZE_KILLS:
        attempts += 1
        assert attempts <= 3 * ANALYZE_KILLS, f"only {kills} of {attempts - 1} runs could be killed before their end"
        paths += write_wavs(lib, ANALYZE_NEW_PER_RUN, seconds=4.0, sr=22050, start=len(paths))
        to_do = len(paths) - len(_results(data))
        kills += kill_9_after(data, rng.uniform(0.0, start_s + per_track_s * to_do), "analyze", str(lib), *opts)
        assert_sound(data, rated)
        _assert_results_whole(data)
        # nothing lost from the queue: a file queued before has a result or is still queued; only
        # those in flight are left running (by the dead process)
        queue = dict(direct(data, "SELECT state, COUNT(*) FROM analysis_queue GROUP BY state"))
        assert queue.get("failed", 0) == 0
        assert queue.get("running", 0) <= 2 * ANALYZE_WORKERS
        done = _results(data)
        now_waiting = set(done) | {fp for (fp,) in direct(data, "SELECT fingerprint FROM analysis_queue")}
        assert waiting <= now_waiting
        waiting = now_waiting
        done_at_kill.append(done)
    before = _results(data)
    p = melograph(data, "analyze", str(lib), *opts)
    assert p.returncode == 0, p.stderr
    n = len(paths)
    assert f"analysed {n - len(before)}, skipped {len(before)} (already analysed), failed 0" in p.stdout
    assert_sound(data, rated)
    _assert_results_whole(data)
    final = _results(data)
    assert len(final) == n
    # no track finished before a kill was analysed again afterwards
    for done in done_at_kill:
        assert {fp: final[fp] for fp in done} == done
