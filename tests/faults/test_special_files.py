"""Files that are not what their names say, run through whole commands as real processes.

- special files behind an audio name: a FIFO (its ``open()`` blocks until a writer comes), a
  symbolic link to ``/dev/zero`` or ``/dev/urandom`` (a read that never ends): ``like``,
  ``predict`` and ``decode-check`` refuse them before any read, in one line, at once;
- an 8 GB sparse file of zeros named ``.wav`` / ``.mp3`` (no disk used): refused at once;
- a long input (an hour of audio): decoded as a stream, the command's peak memory stays small.

Each command is ``python main.py COMMAND --data-dir TMP ...`` under a timeout; a hang is killed
by the timeout and fails the test.
"""
from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import media

ROOT = Path(__file__).resolve().parents[2]

#: seconds a refusal may take (model load and imports included)
QUICK = 15
#: address space a refusing command gets (a command that reads a device without end fails
#: with MemoryError here instead of taking the machine's memory)
ADDRESS_SPACE = 4 << 30
#: the most memory any command may take, whatever the input (MB)
PEAK_MB = 400

COMMANDS = ["like", "predict", "decode-check"]


def _limit_memory() -> None:  # in the child, before exec
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def melograph(tmp_path: Path, *argv: str, timeout: float = QUICK) -> subprocess.CompletedProcess:
    """``main.py argv...`` with a private data directory; fails the test when it runs past ``timeout``."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    cmd = [sys.executable, "main.py", argv[0], "--data-dir", str(tmp_path / "data"), *argv[1:]]
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL, preexec_fn=_limit_memory)
    except subprocess.TimeoutExpired:  # subprocess.run has killed it
        pytest.fail(f"{' '.join(argv[:1])} still running after {timeout} s (hangs or reads forever)")
    p.seconds = time.monotonic() - t0
    return p


def error_lines(p: subprocess.CompletedProcess) -> list[str]:
    return [line for line in p.stderr.splitlines() if line.strip()]


def assert_one_line_refusal(p: subprocess.CompletedProcess, *words: str) -> str:
    """A non-zero exit, no traceback, exactly one line saying why (on stderr, or decode-check's
    report on stdout); returns that line."""
    assert p.returncode != 0, (p.stdout, p.stderr)
    assert "Traceback" not in p.stderr + p.stdout
    lines = error_lines(p)
    if not lines:  # decode-check reports per file on stdout
        lines = [line for line in p.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


# --------------------------------------------------------------------------------------------
# special files


@pytest.fixture
def specials(tmp_path):
    """name -> path of special files that carry an audio name."""
    d = tmp_path / "specials"
    d.mkdir()
    fifo = d / "pipe.mp3"
    os.mkfifo(fifo)
    (d / "zero.mp3").symlink_to("/dev/zero")
    (d / "random.mp3").symlink_to("/dev/urandom")
    return {"fifo": fifo, "/dev/zero": d / "zero.mp3", "/dev/urandom": d / "random.mp3"}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("special", ["fifo", "/dev/zero", "/dev/urandom"])
def test_special_files_are_refused_at_once_in_one_line(tmp_path, specials, command, special):
    p = melograph(tmp_path, command, str(specials[special]))
    line = assert_one_line_refusal(p, "not a regular file")
    assert str(specials[special]) in line
    assert "empty file" not in line


# --------------------------------------------------------------------------------------------
# huge and long inputs


def sparse_zeros(path: Path, size: int = 8 << 30) -> Path:
    """A file of ``size`` zero bytes that takes no disk (a hole)."""
    with open(path, "wb"):
        pass
    os.truncate(path, size)
    return path


@pytest.mark.parametrize("command", ["predict", "decode-check"])
@pytest.mark.parametrize("name", ["zeros.wav", "zeros.mp3"])
def test_an_8_gb_file_of_zeros_is_refused_at_once(tmp_path, command, name):
    path = sparse_zeros(tmp_path / name)
    p = melograph(tmp_path, command, str(path))
    assert_one_line_refusal(p, str(path), "only zero bytes")
    assert p.seconds < QUICK


def long_wav(path: Path, seconds: float, sr: int = 22050) -> Path:
    """A 16-bit mono WAV of ``seconds`` over a sparse file: silence with a burst of noise every
    MiB (so it is not silent), a few MB of disk for an hour."""
    import numpy as np

    n = int(seconds * sr) * 2
    fmt = struct.pack("<IHHIIHH", 16, 1, 1, sr, sr * 2, 2, 16)
    header = b"RIFF" + struct.pack("<I", 36 + n) + b"WAVE" + b"fmt " + fmt + b"data" + struct.pack("<I", n)
    burst = (np.random.default_rng(0).standard_normal(4096) * 3000).astype("<i2").tobytes()
    with open(path, "wb") as f:
        f.write(header)
        f.truncate(len(header) + n)
        for off in range(len(header), len(header) + n - len(burst), 1 << 20):
            f.seek(off)
            f.write(burst)
    return path


def long_mp3(path: Path, seconds: float, tmp: Path) -> Path:
    """A CBR MP3 of about ``seconds``: ten seconds of noise encoded once (32 kbit/s, mono, no
    Xing header) and its frames repeated; 14 MB for an hour."""
    seg = tmp / "segment.mp3"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "anoisesrc=color=pink:sample_rate=44100:duration=10:amplitude=0.3", "-ac", "1",
                    "-c:a", "libmp3lame", "-b:a", "32k", "-write_xing", "0", "-id3v2_version", "0", str(seg)],
                   check=True)
    data = seg.read_bytes()
    with open(path, "wb") as f:
        for _ in range(int(seconds // 10)):
            f.write(data)
    return path


#: run one command and report the peak memory of it alone (a fresh process whose only child it is)
_PEAK = """
import json, resource, subprocess, sys
p = subprocess.run(sys.argv[1:], capture_output=True, text=True, stdin=subprocess.DEVNULL)
print(json.dumps({"rc": p.returncode, "stdout": p.stdout, "stderr": p.stderr,
                  "peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def peak_of(tmp_path: Path, *argv: str, timeout: float = 60) -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    cmd = [sys.executable, "main.py", argv[0], "--data-dir", str(tmp_path / "data"), *argv[1:]]
    try:
        p = subprocess.run([sys.executable, "-c", _PEAK, *cmd], cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{argv[0]} on an hour of audio still running after {timeout} s")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


@pytest.fixture(params=["wav", "mp3"])
def hour(request, tmp_path):
    if request.param == "wav":
        return long_wav(tmp_path / "hour.wav", 3600)
    if not media.have_ffmpeg():
        pytest.skip("ffmpeg is needed to make the MP3")
    return long_mp3(tmp_path / "hour.mp3", 3600, tmp_path)


@pytest.mark.parametrize("command", ["decode-check", "predict"])
def test_an_hour_of_audio_is_streamed_in_little_memory(tmp_path, hour, command):
    r = peak_of(tmp_path, command, str(hour))
    assert r["rc"] == 0 and "Traceback" not in r["stderr"], r["stderr"]
    assert r["stdout"].startswith(str(hour))
    seconds = [float(x) for x in re.findall(r"(\d+\.\d+) s\b", r["stdout"].splitlines()[0])]
    assert any(3590 < s < 3700 for s in seconds), r["stdout"][:300]  # the whole hour was decoded
    assert r["peak_mb"] < PEAK_MB, f"{command} took {r['peak_mb']:.0f} MB for an hour of audio"
