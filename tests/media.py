"""Fixture media made by the tests: short tones/noise/real music in every supported format, and
broken files.

Uses the ffmpeg command line (installed by scripts/dev.sh).  Files are generated once per
session into a cache folder and copied where a test wants them (``make``).
"""
from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

#: extension -> ffmpeg output arguments (codec and container)
FORMATS: dict[str, list[str]] = {
    "mp3": ["-c:a", "libmp3lame", "-b:a", "128k", "-id3v2_version", "3"],
    "flac": ["-c:a", "flac"],
    "ogg": ["-c:a", "libvorbis", "-q:a", "3"],
    "opus": ["-c:a", "libopus", "-b:a", "64k"],
    "m4a": ["-c:a", "aac", "-b:a", "128k"],
    "wav": ["-c:a", "pcm_s16le"],
    "aiff": ["-c:a", "pcm_s16be", "-write_id3v2", "1"],
    "wma": ["-c:a", "wmav2", "-b:a", "128k"],
}

_CACHE = Path(os.environ.get("MELOGRAPH_FIXTURE_CACHE", Path(tempfile.gettempdir()) / "melograph-fixtures"))


def have_ffmpeg() -> bool:
    return shutil.which("ffmpeg") is not None


#: real music for ``kind="music"``: the GTZAN clips beside the project (../shared/data)
GTZAN_AUDIO = Path(__file__).resolve().parents[2] / "shared" / "data" / "gtzan_audio"


def music_clips() -> list[Path]:
    """The real GTZAN clips, in a fixed order (empty when the data folder is absent)."""
    return sorted(GTZAN_AUDIO.glob("*.flac")) if GTZAN_AUDIO.is_dir() else []


def _source_args(kind: str, seconds: float, sr: int, channels: int, freq: float) -> list[str]:
    layout = {1: "mono", 2: "stereo"}.get(channels, f"{channels}c")
    if kind == "tone":
        src = f"sine=frequency={freq}:sample_rate={sr}:duration={seconds}"
    elif kind == "noise":
        src = f"anoisesrc=color=pink:sample_rate={sr}:duration={seconds}:amplitude=0.3"
    elif kind == "music":  # the start of a real song; ``freq`` picks which one (distinct freq, distinct song)
        clips = music_clips()
        if not clips:
            raise FileNotFoundError(f"no GTZAN clips in {GTZAN_AUDIO}")
        clip = clips[int(round(freq)) % len(clips)]
        return ["-t", str(seconds), "-i", str(clip), "-ac", str(channels)]
    elif kind == "silence":
        src = f"anullsrc=sample_rate={sr}:channel_layout={layout}"
        return ["-f", "lavfi", "-t", str(seconds), "-i", src]
    else:
        raise ValueError(kind)
    args = ["-f", "lavfi", "-i", src]
    if channels != 1:
        args += ["-ac", str(channels)]
    return args


@functools.lru_cache(maxsize=None)
def _generate(fmt: str, kind: str, seconds: float, sr: int, channels: int, freq: float, tags: tuple) -> Path:
    key = hashlib.sha1(repr((fmt, kind, seconds, sr, channels, freq, tags)).encode()).hexdigest()[:16]
    out = _CACHE / f"{key}.{fmt}"
    if out.exists() and out.stat().st_size > 0:
        return out
    _CACHE.mkdir(parents=True, exist_ok=True)
    meta: list[str] = []
    for k, v in tags:
        meta += ["-metadata", f"{k}={v}"]
    tmp = out.with_name(out.stem + ".part." + fmt)
    cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *_source_args(kind, seconds, sr, channels, freq)]
    cmd += ["-ar", str(sr), *FORMATS[fmt], *meta, "-f", _muxer(fmt), str(tmp)]
    subprocess.run(cmd, check=True)
    tmp.replace(out)
    return out


def _muxer(fmt: str) -> str:
    return {"m4a": "ipod", "wma": "asf", "ogg": "ogg", "opus": "ogg", "aiff": "aiff"}.get(fmt, fmt)


def make(
    path: str | os.PathLike,
    *,
    fmt: str | None = None,
    kind: str = "tone",
    seconds: float = 1.0,
    sr: int = 44100,
    channels: int = 2,
    freq: float = 440.0,
    tags: dict | None = None,
) -> Path:
    """Write a fixture audio file at ``path`` (format from ``fmt`` or the extension); returns it."""
    path = Path(path)
    fmt = fmt or path.suffix.lstrip(".").lower()
    if fmt == "opus":
        sr = 48000 if sr not in (8000, 12000, 16000, 24000, 48000) else sr
    src = _generate(fmt, kind, float(seconds), int(sr), int(channels), float(freq), tuple(sorted((tags or {}).items())))
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, path)
    return path


# --- deliberately broken files --------------------------------------------------------------

def make_zero_bytes(path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def make_text_as(path, text: str = "this is not audio, just a text file renamed\n" * 20) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def make_png_as(path) -> Path:
    """A real (tiny) PNG image saved under an audio extension."""
    import struct
    import zlib

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 4 for _ in range(4))
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png)
    return path


def make_truncated(path, *, fmt: str | None = None, keep: float = 0.4, seconds: float = 2.0) -> Path:
    """A valid file of ``fmt`` cut to ``keep`` of its bytes."""
    path = Path(path)
    make(path, fmt=fmt, seconds=seconds)
    data = path.read_bytes()
    path.write_bytes(data[: max(1, int(len(data) * keep))])
    return path
