"""``kill -9`` of a command leaves no process of ours behind: the scan's readers, the analysis
workers, the desktop's spectrogram helper and multiprocessing's resource tracker all end with
the process that started them.

Each test runs the real command in its own session, waits until its helper processes exist
(read from /proc), kills the command with SIGKILL and checks every process that descended
from it is gone within a few seconds.
"""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from tests import media

ROOT = Path(__file__).resolve().parents[2]
GONE_WITHIN_S = 5.0


def _stat(pid: int) -> tuple[int, str, str] | None:
    """(parent pid, state, start time) of ``pid``, or None when there is no such process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), fields[0].decode(), fields[19].decode()


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def descendants(root: int) -> dict[int, str]:
    """Every live process below ``root``: pid -> start time (which tells a reused pid apart)."""
    children: dict[int, list[int]] = {}
    starts: dict[int, str] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _stat(int(name))
            if st is not None and st[1] != "Z":
                children.setdefault(st[0], []).append(int(name))
                starts[int(name)] = st[2]
    found: dict[int, str] = {}
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found[child] = starts[child]
                todo.append(child)
    return found


def _alive(pid: int, start: str) -> bool:
    st = _stat(pid)
    return st is not None and st[1] != "Z" and st[2] == start


def _helpers(procs: dict[int, str]) -> list[int]:
    """The worker processes that multiprocessing spawned (not its resource tracker)."""
    return [pid for pid in procs if "spawn_main" in _cmdline(pid)]


def kill_when(proc: subprocess.Popen, ready, timeout: float = 60.0) -> dict[int, str]:
    """Wait until ``ready(descendants)`` holds, then SIGKILL ``proc``; returns the descendants
    seen at that moment.  Fails when ``proc`` ends (or ``timeout`` passes) first."""
    deadline = time.monotonic() + timeout
    while True:
        procs = descendants(proc.pid)
        if ready(procs):
            break
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the command ended (status {proc.returncode}) before its helpers were seen:\n{err[-2000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"no helper processes after {timeout} s: {procs}")
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    procs.update(descendants(proc.pid))  # (none: it is dead; kept for symmetry)
    return procs


def assert_all_gone(procs: dict[int, str]) -> None:
    deadline = time.monotonic() + GONE_WITHIN_S
    left = procs
    while time.monotonic() < deadline:
        left = {pid: s for pid, s in procs.items() if _alive(pid, s)}
        if not left:
            return
        time.sleep(0.05)
    described = {pid: _cmdline(pid)[:150] for pid in left}
    for pid, start in left.items():  # clean up after the failure
        if _alive(pid, start):
            os.kill(pid, signal.SIGKILL)
    pytest.fail(f"still alive {GONE_WITHIN_S} s after the parent was killed: {described}")


def _start(*argv: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(ROOT / "main.py"), *argv], cwd=ROOT, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})


def _library(folder: Path, n: int) -> Path:
    """``n`` short MP3s (hard links of one file: free to make, each a separate path to read)."""
    src = media.make(folder.parent / "one.mp3", seconds=0.5, tags={"title": "Tone", "artist": "Test"})
    folder.mkdir()
    for i in range(n):
        os.link(src, folder / f"{i:05d}.mp3")
    return folder


def _distinct_library(folder: Path, n: int, seconds: float = 2.0) -> Path:
    """``n`` WAVs of different noise (analysis keys results by content, so copies would be
    analysed once)."""
    rng = np.random.default_rng(19)
    folder.mkdir()
    for i in range(n):
        with wave.open(str(folder / f"{i:04d}.wav"), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(22050)
            w.writeframes(rng.integers(-8000, 8000, int(22050 * seconds), dtype=np.int16).tobytes())
    return folder


@pytest.fixture
def cleanup():
    started: list[subprocess.Popen] = []
    yield started
    for p in started:
        if p.poll() is None:
            p.kill()
            p.wait()


def _stored_tracks(data_dir: Path) -> int:
    try:
        with sqlite3.connect(f"file:{data_dir / 'catalog.sqlite3'}?mode=ro", uri=True, timeout=0.1) as db:
            return db.execute("SELECT COUNT(*) FROM tracks").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_kill_9_of_scan_takes_its_readers_and_the_resource_tracker_with_it(tmp_path, ffmpeg, cleanup):
    lib = _library(tmp_path / "music", 4000)
    proc = _start("scan", str(lib), "--data-dir", str(tmp_path / "data"))
    cleanup.append(proc)
    # killed mid-scan: both readers at work (tracks they read are being stored)
    procs = kill_when(proc, lambda procs: len(_helpers(procs)) >= 2 and _stored_tracks(tmp_path / "data") > 0)
    assert any("resource_tracker" in _cmdline(pid) for pid in procs), procs  # it is among those checked
    assert_all_gone(procs)


def test_kill_9_of_analyze_takes_its_workers_with_it(tmp_path, ffmpeg, cleanup):
    lib = _distinct_library(tmp_path / "music", 300)
    proc = _start("analyze", str(lib), "--data-dir", str(tmp_path / "data"), "--workers", "2", "--quiet")
    cleanup.append(proc)
    seen: list[float] = []

    def working(procs) -> bool:  # both workers up for a second: the model is loaded, tracks in flight
        if len(_helpers(procs)) < 2:
            return False
        seen.append(time.monotonic())
        return seen[-1] - seen[0] > 1.0

    procs = kill_when(proc, working)
    assert_all_gone(procs)


_SPECTROGRAM_APP = """
import sys, threading, time
from desktop.specworker import DisplaySpectrograms

spectrograms = DisplaySpectrograms()


def pool_thread():  # the app starts the helper from a worker thread, which ends later
    spectrograms.warm_up()
    time.sleep(2.0)  # (the helper is up by then)


t = threading.Thread(target=pool_thread)
t.start()
t.join()
print("warm", flush=True)
time.sleep(120)
"""


def test_kill_9_of_the_app_takes_the_spectrogram_helper_with_it(cleanup):
    proc = subprocess.Popen([sys.executable, "-c", _SPECTROGRAM_APP], cwd=ROOT, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    cleanup.append(proc)
    assert proc.stdout.readline().strip() == "warm"
    time.sleep(0.5)  # the thread that started the helper has ended: the helper must outlive it
    assert len(_helpers(descendants(proc.pid))) == 1, "the helper died with the thread that started it"
    procs = kill_when(proc, lambda procs: True)
    assert_all_gone(procs)
