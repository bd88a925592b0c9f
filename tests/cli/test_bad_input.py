"""Inputs a user gets wrong or a library holds: a data folder that is a file or empty (for the
commands and for the app), and a file name with a newline in ``analyze``'s one-line-per-track
output.  (Every argument of every command, malformed: tests/faults/test_malformed_args.py.)"""
from __future__ import annotations

import math
import os
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from tests.cli.clirun import run

ROOT = Path(__file__).resolve().parents[2]


def _tone(path: Path, seconds: float = 1.0, freq: float = 440.0) -> Path:
    t = np.arange(int(22050 * seconds)) / 22050
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(22050)
        w.writeframes((np.sin(2 * math.pi * freq * t) * 8000).astype(np.int16).tobytes())
    return path


def _one_error_line(err: str) -> str:
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 or lines[0].startswith("usage: "), err
    assert ": error: " in lines[-1], err
    return lines[-1]


def test_analyze_prints_a_file_name_with_a_newline_escaped_on_its_tracks_line(capsys, data_dir, tmp_path):
    lib = tmp_path / "music"
    lib.mkdir()
    _tone(lib / "plain.wav")
    _tone(lib / "two\nlines.wav", freq=660.0)
    code, out, err = run(capsys, "analyze", str(lib), "--workers", "1")
    assert code == 0, err
    lines = out.splitlines()
    track_lines = [line for line in lines if line.startswith(("ok ", "failed "))]
    assert len(track_lines) == 2, out
    assert any(line.endswith(repr(str(lib / "two\nlines.wav"))) for line in track_lines), out
    assert any(line.endswith(str(lib / "plain.wav")) for line in track_lines), out  # plain names stay as they are
    # every line of the output is one of the report's own (no tail of a name on a line of its own)
    assert all(line.startswith(("Scanning ", "scanned ", "ok ", "failed ", "Analysed ", "analysed", "  "))
               for line in lines), out


@pytest.mark.parametrize("how", ["a file", "below a file", "empty"])
def test_the_app_refuses_a_data_dir_it_cannot_use_in_one_line(tmp_path, how):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder\n")
    value = {"a file": str(a_file), "below a file": str(a_file / "data"), "empty": ""}[how]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", MELOGRAPH_QUIT_AFTER_START="100",
               MELOGRAPH_DATA_DIR=str(tmp_path / "env-data"))
    p = subprocess.run([sys.executable, "main.py", "--data-dir", value], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=60)
    assert p.returncode != 0, "the app opened anyway"
    assert "--data-dir" in _one_error_line(p.stderr)
    assert not (tmp_path / "env-data").exists()  # not quietly the default location either


def test_a_data_dir_from_the_environment_that_is_a_file_is_one_error_line(capsys, tmp_path, monkeypatch):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder\n")
    monkeypatch.setenv("MELOGRAPH_DATA_DIR", str(a_file))
    code, out, err = run(capsys, "status")
    assert code != 0
    assert "MELOGRAPH_DATA_DIR" in _one_error_line(err) or str(a_file) in err
