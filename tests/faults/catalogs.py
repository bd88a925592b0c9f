"""What the catalog fault tests share: a real catalog with analysed tracks and likes (written
through the catalog's own API, so ``recommend`` has something to rank without a genre model),
small WAV files made with the standard library, and ``python main.py`` run as a child process."""
from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import subprocess
import sys
import wave
from pathlib import Path
from typing import Callable

import numpy as np

from core.catalog import Catalog

ROOT = Path(__file__).resolve().parents[2]
CATALOG = "catalog.sqlite3"
CLASSES = ["blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock"]


def analysed_catalog(data_dir: Path, *, n_tracks: int = 120, likes: int = 5) -> list[int]:
    """A catalog in ``data_dir`` with ``n_tracks`` tracks (long paths, so the tracks table spans
    many pages), each with a genre result (8 windows of 32-d embeddings in 4 clusters), and
    ``likes`` liked tracks of cluster 0.  Returns the track ids."""
    rng = np.random.default_rng(19)
    centres = rng.normal(size=(4, 32)) * 3
    ids = []
    with Catalog(data_dir / CATALOG) as cat:
        for i in range(n_tracks):
            tid = cat.add_track({
                "path": f"/music/Artist {i % 7}/Album {i % 11}/{i:04d} - a song title long enough to fill pages.mp3",
                "size": 4_000_000 + i, "mtime_ns": i, "fingerprint": f"fp{i:04d}", "artist": f"Artist {i % 7}",
                "title": f"Song {i}", "duration": 180.0 + i})
            ids.append(tid)
            probs = rng.dirichlet(np.ones(len(CLASSES))).astype(np.float32)
            emb = (centres[i % 4] + rng.normal(size=(8, 32))).astype(np.float16)
            cat.store_analysis(tid, {
                "fingerprint": f"fp{i:04d}", "model_version": "fault-test-model", "classes": CLASSES,
                "top_genre": CLASSES[int(probs.argmax())], "confidence": float(probs.max()),
                "track_probs": probs, "window_probs": np.tile(probs, (8, 1)), "embeddings": emb,
                "window_s": 30.0, "hop_s": 30.0})
        for tid in ids[0:4 * likes:4]:
            cat.set_rating(tid, 1)
    return ids


def write_wav(path: Path, *, seconds: float = 0.5, freq: float = 440.0, sr: int = 8000) -> Path:
    """A short mono 16-bit tone."""
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * sr)) / sr
    samples = (0.3 * 32767 * np.sin(2 * np.pi * freq * t)).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(samples.tobytes())
    return path


def melograph(*args: str, data_dir: Path, preexec: Callable[[], None] | None = None,
              timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, MELOGRAPH_DATA_DIR=str(data_dir), TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout, preexec_fn=preexec)


def assert_one_line_error(p: subprocess.CompletedProcess, *words: str) -> str:
    """Non-zero exit, exactly one error line on stderr (``melograph: error:``, or
    ``melograph COMMAND: error:`` for a value refused while the arguments are read) containing
    ``words`` (case-insensitive), no traceback.  Returns the line."""
    assert p.returncode != 0, f"exit 0: {p.stdout}"
    assert "Traceback" not in p.stderr, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and re.match(r"melograph( [\w-]+)?: error: ", lines[0]), p.stderr
    for w in words:
        assert w.lower() in lines[0].lower(), lines[0]
    return lines[0]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def quick_check(path: Path) -> list[str]:
    """SQLite's quick_check of a file, read-only (``['ok']`` when sound)."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [r[0] for r in con.execute("PRAGMA quick_check")]
    except sqlite3.DatabaseError as exc:
        return [str(exc)]
    finally:
        con.close()


def table_pages(path: Path, table: str) -> list[int]:
    """The page numbers (1-based) of ``table``'s b-tree leaves, from SQLite's dbstat table."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [r[0] for r in con.execute(
            "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY pageno", (table,))]
    finally:
        con.close()


def damage_pages(path: Path, pages: list[int], *, seed: int = 19) -> None:
    """Write random bytes over whole pages of the file (never page 1, the header)."""
    assert pages and 1 not in pages
    page_size = 4096
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
        page_size = con.execute("PRAGMA page_size").fetchone()[0]
    con.close()
    rng = np.random.default_rng(seed)
    with open(path, "r+b") as f:
        for page in pages:
            f.seek((page - 1) * page_size)
            f.write(rng.integers(0, 256, page_size, dtype=np.uint8).tobytes())
