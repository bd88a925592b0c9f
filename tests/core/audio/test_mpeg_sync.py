"""MPEG audio is recognised by several frames in a row, as real decoders do, not by one frame sync.

A program renamed ``.mp3`` has byte patterns that look like MPEG frame headers (``FF FF 25 ..``
every 16 bytes in a PLT, which chain as 64-byte layer I frames), but no stream of frames whose
headers agree: the scan refuses it (a failure with one line) and ``decode-check`` says so in one
line.  Real MP3s -- CBR, VBR with a Xing header, MPEG-2 rates, mono, junk before the first frame,
a stream of a few frames -- are still recognised.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.audio import sniff
from core.scanner import scan
from tests import media

ROOT = Path(__file__).resolve().parents[3]

PROGRAMS = {"python": os.path.realpath(sys.executable), "ls": shutil.which("ls") or "/bin/ls"}


@pytest.fixture(params=sorted(PROGRAMS))
def program_as_mp3(request, tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    path = lib / f"{request.param}.mp3"
    shutil.copyfile(PROGRAMS[request.param], path)
    return path


def test_the_scan_refuses_a_program_named_mp3(catalog, program_as_mp3):
    result = scan(catalog, program_as_mp3.parent)
    assert result.added == 0 and catalog.tracks() == []
    (f,) = result.failures
    assert f["kind"] == "unsupported" and f["reason"] == "not audio: a program"


def test_decode_check_refuses_a_program_named_mp3_in_one_line(tmp_path, program_as_mp3):
    p = subprocess.run([sys.executable, "main.py", "decode-check", "--data-dir", str(tmp_path / "data"),
                        str(program_as_mp3)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert p.returncode != 0 and "Traceback" not in p.stderr, p.stderr
    assert p.stderr.strip() == f"melograph: error: {program_as_mp3}: not audio: a program"
    assert p.stdout == ""


def test_a_program_is_not_mpeg_audio(program_as_mp3):
    with open(program_as_mp3, "rb") as f:
        assert sniff.find_mpeg_stream(f) is None
    assert sniff.sniff_file(program_as_mp3) is None


# --- real MP3s stay recognised ----------------------------------------------------------------

needs_ffmpeg = pytest.mark.skipif(not media.have_ffmpeg(), reason="ffmpeg is needed to generate fixture media")


def encode(path: Path, *args: str, seconds: float = 1.0, sr: int = 44100, channels: int = 2) -> bytes:
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    f"sine=frequency=440:sample_rate={sr}:duration={seconds}", "-ac", str(channels),
                    "-c:a", "libmp3lame", *args, "-id3v2_version", "0", "-f", "mp3", str(path)], check=True)
    return path.read_bytes()


@needs_ffmpeg
@pytest.mark.parametrize("args,sr,channels", [
    (["-b:a", "128k", "-write_xing", "0"], 44100, 2),       # CBR, no Xing header
    (["-q:a", "4"], 44100, 2),                              # VBR, Xing header
    (["-b:a", "32k", "-write_xing", "0"], 22050, 1),        # MPEG-2, mono
    (["-b:a", "8k", "-write_xing", "0"], 8000, 1),          # MPEG-2.5
], ids=["cbr", "vbr", "mpeg2-mono", "mpeg2.5"])
def test_real_mp3s_are_recognised(tmp_path, args, sr, channels):
    data = encode(tmp_path / "a.mp3", *args, sr=sr, channels=channels)
    assert data[:2] != b"ID3"
    assert sniff.sniff(data[: sniff.HEAD_BYTES]) == "mp3"
    assert sniff.sniff_file(tmp_path / "a.mp3") == "mp3"
    junk = tmp_path / "junk.mp3"
    junk.write_bytes(b"\x00\x11junk\xff\xfb" * 500 + data)
    with open(junk, "rb") as f:
        assert sniff.find_mpeg_stream(f) == 4000


@needs_ffmpeg
def test_an_mp3_of_two_frames_is_recognised(tmp_path):
    """Fewer than four frames in a row: the stream ends where the last frame ends."""
    data = encode(tmp_path / "a.mp3", "-b:a", "128k", "-write_xing", "0", seconds=0.03)
    path = tmp_path / "short.mp3"
    path.write_bytes(data)
    assert len(data) < 4 * 417 and sniff.sniff_file(path) == "mp3"
