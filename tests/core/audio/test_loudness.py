"""Loudness measured from the analysis's spectrogram (core.audio.loudness): the same BS.1770
integrated loudness as libebur128 (the reference ReplayGain taggers use) on known signals and on
real music, silence, the stereo estimate from the mono mix, and the analysis result carrying it."""
from __future__ import annotations

import numpy as np
import pytest

from core import features as F
from core.audio.loudness import gain_of_loudness, integrated_loudness, k_filter, k_weights, track_loudness
from tests import media



def spectral(y: np.ndarray) -> float | None:
    """The analysis's way: the front end's STFT in 30 s excerpts, K-weighted in frequency."""
    out: list = []
    w = (k_weights(F.SR, F.N_FFT), out)
    for a in range(0, len(y), F.EXCERPT_SAMPLES):
        F.mel_power(y=y[a:a + F.EXCERPT_SAMPLES], weighted=w)
    return integrated_loudness(np.concatenate(out), sr=F.SR, hop=F.HOP_LENGTH)


def reference(y: np.ndarray, sr: int = F.SR, channels: int = 1) -> float | None:
    from pyebur128 import MeasurementMode, R128State, get_loudness_global

    st = R128State(channels, sr, MeasurementMode.MODE_I)
    st.add_frames(np.ascontiguousarray(y, np.float64).reshape(-1), len(y) // channels if channels > 1 else len(y))
    v = get_loudness_global(st)
    return float(v) if np.isfinite(v) and v > -70 else None


def test_the_k_filter_is_the_standards_at_48_khz():
    b, a = k_filter(48000)  # ITU-R BS.1770-4, tables 1 and 2
    np.testing.assert_allclose(b[0], [1.53512485958697, -2.69169618940638, 1.19839281085285], atol=1e-8)
    np.testing.assert_allclose(a[0], [1.0, -1.69065929318241, 0.73248077421585], atol=1e-8)
    np.testing.assert_allclose(a[1], [1.0, -1.99004745483398, 0.99007225036621], atol=1e-8)


@pytest.mark.parametrize("amp, want", [(1.0, -3.01), (0.1, -23.01)])
def test_a_1khz_sine_reads_as_the_standard_says(amp, want):
    t = np.arange(F.SR * 8) / F.SR
    y = (amp * np.sin(2 * np.pi * 997 * t)).astype(np.float32)
    assert spectral(y) == pytest.approx(want, abs=0.1)


def test_music_with_quiet_and_loud_parts_reads_as_libebur128_does():
    rng = np.random.default_rng(0)
    t = np.arange(F.SR * 70) / F.SR
    tone = np.sin(2 * np.pi * 220 * t) + 0.5 * np.sin(2 * np.pi * 3300 * t) + 0.3 * rng.standard_normal(len(t))
    env = np.where((t % 20) < 12, 0.5, 0.02) * (1 + 0.3 * np.sin(2 * np.pi * 0.5 * t))  # loud and near-silent parts
    y = (tone * env).astype(np.float32)
    assert spectral(y) == pytest.approx(reference(y), abs=0.2)


def test_silence_has_no_loudness():
    assert spectral(np.zeros(F.SR * 3, np.float32)) is None
    assert integrated_loudness(np.zeros(0)) is None


def test_the_reference_gain_and_the_stereo_estimate():
    assert gain_of_loudness(-9.0) == -9.0 and gain_of_loudness(-30.0) == 12.0 and gain_of_loudness(None) is None
    assert track_loudness(-20.0, 1) == -20.0 and track_loudness(-20.0, 2) == pytest.approx(-16.99, abs=0.01)


@pytest.mark.skipif(not media.have_ffmpeg(), reason="ffmpeg is needed to generate fixture media")
@pytest.mark.parametrize("name, kind", [("noise.flac", "noise"), ("tone.mp3", "tone")])
def test_the_analysis_measures_a_file_within_a_db_of_its_own_channels(tmp_path, name, kind):
    from analysis.worker import prepare_file
    from core.audio import decode

    path = media.make(tmp_path / name, kind=kind, seconds=6.0, sr=44100, channels=2)
    prep = prepare_file(str(path))
    y, sr = decode.read(path)  # the file's own rate and channels
    estimate = track_loudness(prep["loudness"], y.shape[1])
    assert estimate == pytest.approx(reference(y, sr, y.shape[1]), abs=1.0)
    assert 0 < prep["sample_peak"] <= 1.0
