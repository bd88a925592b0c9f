"""Decoding contract, run over a file of every supported format (Quod Libet's shape), plus edge
cases (silence, 1 s, 8 kHz mono, 96 kHz 6-channel, 3 hours) and broken files."""
from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from core.audio import backends, decode, mpg123
from core.errors import DecodeFailed, FileError, TooShort, UnreadableFile, UnsupportedFile
from tests import media

pytestmark = pytest.mark.skipif(not media.have_ffmpeg(), reason="ffmpeg is needed to generate fixture media")

FORMATS = sorted(media.FORMATS)
LOSSLESS = {"wav", "flac", "aiff"}
SECONDS = 1.5


def _native_sr(fmt: str) -> int:
    return 48000 if fmt == "opus" else 44100


def _peak_hz(y: np.ndarray, sr: int) -> float:
    spec = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    return float(np.argmax(spec) * sr / len(y))


@pytest.fixture(params=FORMATS)
def tone(request, tmp_path):
    fmt = request.param
    return fmt, media.make(tmp_path / f"tone.{fmt}", seconds=SECONDS, sr=44100, channels=2, freq=440.0)


def test_probe_reports_rate_channels_duration_codec(tone):
    fmt, path = tone
    info = decode.probe(path)
    assert info.sr == _native_sr(fmt)
    assert info.channels == 2
    assert info.duration == pytest.approx(SECONDS, abs=0.06)
    assert info.codec and info.backend in ("soundfile", "av")


def test_read_native_and_analysis_rate(tone):
    fmt, path = tone
    y, sr = decode.read(path)
    assert sr == _native_sr(fmt) and y.dtype == np.float32 and y.ndim == 2 and y.shape[1] == 2
    assert len(y) / sr == pytest.approx(SECONDS, abs=0.06)
    m, msr = decode.read(path, sr=22050, mono=True)
    assert msr == 22050 and m.dtype == np.float32 and m.ndim == 1 and m.flags.c_contiguous
    assert len(m) / 22050 == pytest.approx(SECONDS, abs=0.06)
    assert _peak_hz(m, 22050) == pytest.approx(440.0, abs=3.0)  # it is the tone, not garbage
    assert 0.02 < float(np.sqrt(np.mean(m**2))) < 1.0


def test_stream_blocks_join_to_the_whole_file(tone):
    fmt, path = tone
    y, sr = decode.read(path)
    with decode.open_stream(path, block_frames=4096) as s:
        assert (s.sr, s.channels) == (sr, 2)
        blocks = list(s)
    assert all(b.shape == (4096, 2) and b.dtype == np.float32 for b in blocks[:-1])
    assert 0 < len(blocks[-1]) <= 4096
    np.testing.assert_array_equal(np.concatenate(blocks), y)


def test_stream_resamples_and_remixes(tone, monkeypatch):
    fmt, path = tone
    blocks = list(decode.stream(path, sr=22050, channels=1, block_frames=1000))
    y = np.concatenate(blocks)
    assert y.shape[1] == 1 and len(y) / 22050 == pytest.approx(SECONDS, abs=0.06)
    # a stream's blocks resample seamlessly: the same as resampling the whole file at once
    # (through the same back end: read() takes libmpg123's own 2:1 synthesis for a mono MP3)
    monkeypatch.setenv("MELOGRAPH_NO_MPG123", "1")
    ref, _ = decode.read(path, sr=22050, mono=True)
    n = min(len(ref), len(y))
    assert np.max(np.abs(y[:n, 0] - ref[:n])) < 1e-3


@pytest.mark.parametrize("fmt", FORMATS)
def test_excerpt_seeks_to_the_right_samples(fmt, tmp_path):
    path = media.make(tmp_path / f"noise.{fmt}", kind="noise", seconds=3.0, sr=44100, channels=2)
    whole, sr = decode.read(path)
    start, dur = 1.3, 0.5
    part, psr = decode.read(path, start=start, duration=dur)
    assert psr == sr and len(part) == int(round(dur * sr))
    a = int(round(start * sr))
    ref = whole[a : a + len(part)]
    if fmt in LOSSLESS:
        np.testing.assert_array_equal(part, ref)
    else:  # lossy decoders may differ a little after a seek, but not by a shift
        seg = slice(2048, len(part) - 64)
        lags = range(-64, 65)
        lag = max(lags, key=lambda k: float(np.dot(part[seg, 0], whole[a + k + 2048 : a + k + len(part) - 64, 0])))
        # ASF (wma) time stamps are whole milliseconds: a seek there lands within 1 ms
        assert abs(lag) <= (45 if fmt == "wma" else 0), f"{fmt}: excerpt is shifted by {lag} samples"
        r = np.corrcoef(part[seg, 0], whole[a + lag + 2048 : a + lag + len(part) - 64, 0])[0, 1]
        assert r > 0.95, f"{fmt}: excerpt does not match the whole decode (r={r:.3f})"
    streamed = np.concatenate(list(decode.stream(path, start=start, block_frames=2048)))
    assert len(streamed) == pytest.approx(len(whole) - a, abs=sr * 0.05)
    r = np.corrcoef(streamed[: len(part), 0], part[:, 0])[0, 1]
    assert r > 0.95


def test_excerpt_past_the_end_is_too_short(tmp_path):
    path = media.make(tmp_path / "a.flac", seconds=1.0)
    with pytest.raises(TooShort):
        decode.read(path, start=5.0)


@pytest.mark.parametrize(
    "fmt,kind,sr,channels,seconds",
    [
        ("flac", "silence", 44100, 2, 2.0),
        ("mp3", "silence", 44100, 2, 2.0),
        ("ogg", "tone", 44100, 2, 1.0),
        ("wav", "tone", 8000, 1, 2.0),
        ("mp3", "tone", 8000, 1, 2.0),
        ("flac", "noise", 96000, 6, 1.0),
        ("wav", "noise", 96000, 6, 1.0),
    ],
)
def test_odd_shapes_decode(tmp_path, fmt, kind, sr, channels, seconds):
    path = media.make(tmp_path / f"odd.{fmt}", kind=kind, seconds=seconds, sr=sr, channels=channels)
    info = decode.probe(path)
    assert (info.sr, info.channels) == (sr, channels)
    y, ysr = decode.read(path)
    assert ysr == sr and y.shape[1] == channels and len(y) / sr == pytest.approx(seconds, abs=0.08)
    if kind == "silence":
        assert np.max(np.abs(y)) < 1e-3
    m, _ = decode.read(path, sr=22050, mono=True)
    assert m.ndim == 1 and np.all(np.isfinite(m))
    st = np.concatenate(list(decode.stream(path, sr=44100, channels=2, block_frames=8192)))
    assert st.shape[1] == 2 and len(st) / 44100 == pytest.approx(seconds, abs=0.08)
    assert np.max(np.abs(st)) <= 1.01  # a fold-down of 6 channels does not clip


@pytest.mark.slow
def test_three_hour_file_streams_in_bounded_memory(tmp_path):
    path = media.make(tmp_path / "long.flac", kind="silence", seconds=3 * 3600, sr=8000, channels=1)
    info = decode.probe(path)
    assert info.duration == pytest.approx(3 * 3600, abs=1)
    tracemalloc.start()
    try:
        n = 0
        for block in decode.stream(path, block_frames=1 << 16):
            n += len(block)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert n == pytest.approx(3 * 3600 * 8000, abs=8000)
    assert peak < 16 * 2**20, f"streaming held {peak / 2**20:.0f} MiB (the whole file is {n * 4 / 2**20:.0f} MiB)"
    # and an excerpt near the end comes straight from a seek
    y, _ = decode.read(path, start=3 * 3600 - 10, duration=5)
    assert len(y) == 5 * 8000


# --- bad input ------------------------------------------------------------------------------


def _one_line(err: FileError, path) -> None:
    assert "\n" not in str(err) and err.reason and len(err.reason) < 200
    assert err.path == os.fspath(path)


def test_missing_file_and_folder_are_unreadable(tmp_path):
    for path in (tmp_path / "nope.mp3", tmp_path):
        with pytest.raises(UnreadableFile) as ei:
            decode.read(path)
        _one_line(ei.value, path)
        with pytest.raises(UnreadableFile):
            decode.probe(path)


@pytest.mark.parametrize("fmt", FORMATS)
def test_not_audio_is_unsupported(fmt, tmp_path, capfd):
    for maker in (media.make_zero_bytes, media.make_text_as, media.make_png_as):
        path = maker(tmp_path / f"{maker.__name__}.{fmt}")
        with pytest.raises(UnsupportedFile) as ei:
            decode.read(path)
        _one_line(ei.value, path)
        with pytest.raises(UnsupportedFile):
            decode.open_stream(path)
    # the one-line error is all: no decoder library chatter on the terminal
    # (libsndfile's MP3 reader prints three "Note: ..." lines for a text file named .mp3)
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize("fmt", FORMATS)
def test_truncated_file_fails_to_decode(fmt, tmp_path):
    path = media.make_truncated(tmp_path / f"cut.{fmt}", fmt=fmt, keep=0.4, seconds=2.0)
    with pytest.raises(DecodeFailed) as ei:
        decode.read(path)
    _one_line(ei.value, path)


@pytest.mark.parametrize("fmt", ["wav", "mp3", "flac", "wma"])
def test_stream_yields_what_decoded_then_fails(fmt, tmp_path):
    path = media.make_truncated(tmp_path / f"cut.{fmt}", fmt=fmt, keep=0.6, seconds=4.0)
    got = []
    with pytest.raises(DecodeFailed):
        for block in decode.stream(path, block_frames=4096):
            got.append(block)
    seconds = sum(len(b) for b in got) / 44100
    assert 1.0 < seconds < 3.0, f"{fmt}: yielded {seconds:.2f} s before failing"


def test_decode_check_command(tmp_path, capsys):
    import json

    from cli.main import main

    good = media.make(tmp_path / "a.ogg", seconds=1.0)
    bad = media.make_text_as(tmp_path / "b.mp3")
    rc = main(["decode-check", str(good), str(bad), "--json"])
    rows = json.loads(capsys.readouterr().out)
    assert rc == 1
    assert rows[0]["codec"] == "vorbis" and rows[0]["decoded_seconds"] == pytest.approx(1.0, abs=0.05)
    assert rows[1]["kind"] == "unsupported"


@pytest.mark.parametrize("fmt", ["flac", "mp3", "m4a", "wma"])
def test_excerpt_decodes_only_around_the_excerpt(fmt, tmp_path, monkeypatch):
    """An excerpt at 30 s of a 40 s file seeks: the back end decodes about the excerpt, not 30 s."""
    import soundfile

    path = media.make(tmp_path / f"long.{fmt}", kind="tone", seconds=40.0, sr=44100, channels=2)
    decoded = [0]
    sf_read, av_float = soundfile.SoundFile.read, backends.AvSource._to_float

    def counting_sf_read(self, *a, **k):
        out = sf_read(self, *a, **k)
        decoded[0] += len(out)
        return out

    def counting_av(self, frame):
        out = av_float(self, frame)
        decoded[0] += len(out)
        return out

    monkeypatch.setattr(soundfile.SoundFile, "read", counting_sf_read)
    monkeypatch.setattr(backends.AvSource, "_to_float", counting_av)
    y, sr = decode.read(path, start=30.0, duration=2.0)
    assert len(y) == 2 * sr
    assert decoded[0] < 5 * sr, f"{fmt}: decoded {decoded[0] / sr:.1f} s of audio for a 2 s excerpt"
    decoded[0] = 0
    it = decode.stream(path, start=30.0, block_frames=4096)
    next(it)
    it.close()
    assert decoded[0] < 5 * sr


@pytest.mark.shared_data
def test_mp3_decoded_at_the_analysis_rate_is_faithful_to_the_music(tmp_path, monkeypatch):
    """Real music (GTZAN clips, 22050 Hz originals) encoded as 44.1 kHz stereo MP3s: decoding
    straight at 22050 Hz mono (libmpg123's own 2:1 synthesis) gives the original's log-mel at
    least as closely as 44.1 kHz decoding + libsoxr HQ, and within a small fraction of a dB."""
    import subprocess

    from core import features as F

    audio = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "gtzan_audio"
    clips = [audio / f"{g}.00001.flac" for g in ("classical", "metal", "reggae")]
    if not all(c.exists() for c in clips):
        pytest.skip(f"../shared/data/gtzan_audio is absent ({audio})")
    if not mpg123.library():
        pytest.skip("libmpg123 is not installed here")
    errors = {"mpg123": [], "soxr": []}
    for clip in clips:
        mp3 = tmp_path / (clip.stem + ".mp3")
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(clip), "-ar", "44100", "-ac", "2",
                        "-c:a", "libmp3lame", "-b:a", "192k", str(mp3)], check=True)
        y0, _ = decode.read(clip, sr=F.SR, mono=True)
        want = F.logmel_excerpt(y=y0, n_columns=F.EXCERPT_COLUMNS)
        for name in ("mpg123", "soxr"):
            if name == "soxr":
                monkeypatch.setenv("MELOGRAPH_NO_MPG123", "1")
            else:
                monkeypatch.delenv("MELOGRAPH_NO_MPG123", raising=False)
            y, sr = decode.read(mp3, sr=F.SR, mono=True)
            streamed = np.concatenate(list(decode.mono_stream(mp3, sr=F.SR)))
            np.testing.assert_array_equal(streamed, y)  # read() and the analysis' stream agree
            lag = int(np.argmax(np.correlate(y[: 5 * sr + 2000], y0[: 5 * sr], mode="valid")))
            assert lag < 1200  # at most the encoder's delay
            S = F.logmel_excerpt(y=y[lag : lag + len(y0)], n_columns=F.EXCERPT_COLUMNS)
            errors[name].append(float(np.abs(S - want).mean()))
    assert max(errors["mpg123"]) < 0.25, errors
    assert np.mean(errors["mpg123"]) <= np.mean(errors["soxr"]), errors
