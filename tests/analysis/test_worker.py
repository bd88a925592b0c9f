"""The per-file pipeline of the analysis workers (no model needed): decoding in excerpts, the
log-mel, the rules for bad input, bounded memory, and the worker process's allocator setting."""
from __future__ import annotations

import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from analysis.worker import prepare_file
from core import features
from core.audio import decode
from core.errors import DecodeFailed, FileError, TooShort, UnsupportedFile
from tests import media

pytestmark = pytest.mark.skipif(not media.have_ffmpeg(), reason="ffmpeg is needed to generate fixture media")


def test_prepare_streams_excerpts_and_equals_the_whole_track_front_end(tmp_path):
    path = media.make(tmp_path / "long.flac", kind="noise", seconds=64.0)  # 30 + 30 + 4 s: the tail joins
    prep = prepare_file(str(path))
    y, _ = decode.read(path, sr=features.SR, mono=True)
    want = features.logmel_track(y=y)
    assert prep["S"].shape == want.shape
    assert np.abs(prep["S"] - want).mean() < 0.05 and np.abs(prep["S"] - want).max() < 2.0
    assert prep["seconds"] == pytest.approx(64.0, abs=0.05)
    assert prep["fingerprint"] and prep["note"] is None


def test_the_fast_mp3_path_decodes_at_the_models_rate(tmp_path, monkeypatch):
    """An MP3 decodes straight at 22050 Hz (libmpg123) unless libmpg123 is missing; both paths give
    the log-mel of the audio that was encoded, the fast one at least as closely."""
    truth = media.make(tmp_path / "truth.flac", kind="noise", seconds=40.0, sr=22050, channels=1)
    path = tmp_path / "song.mp3"  # 44.1 kHz stereo, as ripped music is
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(truth), "-ar", "44100", "-ac", "2",
                    "-c:a", "libmp3lame", "-b:a", "192k", str(path)], check=True)
    want = prepare_file(str(truth))["S"]
    fast = prepare_file(str(path))
    monkeypatch.setenv("MELOGRAPH_NO_MPG123", "1")  # as on a system without libmpg123
    general = prepare_file(str(path))
    assert general["decoder"] == "core.audio.decode"
    if fast["decoder"] != "mpg123":
        pytest.skip("libmpg123 is not installed here: only the general path exists")
    assert fast["S"].shape == general["S"].shape == want.shape
    assert fast["seconds"] == pytest.approx(general["seconds"], abs=0.01)
    err_fast, err_general = np.abs(fast["S"] - want).mean(), np.abs(general["S"] - want).mean()
    # (white noise is the hard case: the excerpt's min-max rescale stretches whatever happens in the
    # quietest band, here the top one, which the general path's anti-aliasing filter dulls)
    assert err_fast < 4.0 and err_fast < 0.5 * err_general, (err_fast, err_general)
    # a damaged MP3: the fast path keeps what decodes; garbage falls back and is named by core.audio.decode
    data = path.read_bytes()
    (tmp_path / "cut.mp3").write_bytes(data[: len(data) // 2])
    monkeypatch.delenv("MELOGRAPH_NO_MPG123")
    assert 15 < prepare_file(str(tmp_path / "cut.mp3"))["seconds"] < 25
    with pytest.raises(UnsupportedFile):
        prepare_file(str(media.make_png_as(tmp_path / "cover.mp3")))


def test_bad_inputs_are_refused_with_a_reason(tmp_path):
    silent = media.make(tmp_path / "silent.wav", kind="silence", seconds=5.0)
    with pytest.raises(FileError) as e:
        prepare_file(str(silent))
    assert e.value.kind == "silent" and "silent" in e.value.reason
    blip = media.make(tmp_path / "blip.wav", kind="tone", seconds=0.05)
    with pytest.raises(TooShort, match="too short"):
        prepare_file(str(blip))
    text = media.make_text_as(tmp_path / "notes.mp3")
    with pytest.raises(UnsupportedFile):
        prepare_file(str(text))
    # a damaged file: long enough -> the part that decodes is used, with a note; tiny -> refused
    cut = media.make_truncated(tmp_path / "cut.wav", fmt="wav", keep=0.5, seconds=40.0)
    prep = prepare_file(str(cut))
    assert 15.0 <= prep["seconds"] <= 20.5 and "damaged" in prep["note"]  # up to one 3 s block is lost
    cut_small = media.make_truncated(tmp_path / "cut_small.wav", fmt="wav", keep=0.5, seconds=4.0)
    with pytest.raises(DecodeFailed):
        prepare_file(str(cut_small))
    # shorter than a model window but longer than an STFT window: fine here (padded by the model step)
    short = media.make(tmp_path / "short.flac", kind="noise", seconds=1.5)
    assert prepare_file(str(short))["S"].shape[1] < 39


def test_a_very_long_file_is_decoded_in_excerpts_in_bounded_memory(tmp_path):
    # 40 minutes at 22050 Hz mono: a whole-file decode would hold 212 MB of float32
    path = tmp_path / "hour.wav"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "sine=frequency=330:sample_rate=22050:duration=2400", "-c:a", "pcm_s16le", str(path)], check=True)
    tracemalloc.start()
    try:
        prep = prepare_file(str(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert prep["S"].shape == (128, pytest.approx(2400 * features.COLUMNS_PER_SECOND, abs=2))
    assert peak < 60 * 1024 * 1024, f"peak {peak / 2**20:.0f} MB while analysing a 40-minute file"


def test_a_worker_makes_malloc_reuse_its_large_buffers():
    """The workers' allocator setting (analysis.worker._tune_malloc) takes on this glibc
    system, in a fresh process as a worker would apply it: without it every 30 s excerpt's arrays
    are fresh mmaps faulted in page by page (the log-mel about 40 % slower, bench_analyze)."""
    code = "import analysis.worker as W; print(W._tune_malloc())"
    out = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "True", out.stderr
