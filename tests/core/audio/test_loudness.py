"""Loudness measured while the analysis decodes (core.audio.loudness): BS.1770 levels of known
signals, silence, the stereo estimate from the mono mix, and the analysis result carrying it
close to a full measurement of the file's own channels."""
from __future__ import annotations

import numpy as np
import pytest

from core.audio.loudness import LoudnessMeter, gain_of_loudness, track_loudness
from tests import media


def _measure(y, sr=22050, block=4096):
    m = LoudnessMeter(sr)
    for i in range(0, len(y), block):
        m.add(y[i:i + block])
    return m


def test_a_full_scale_1khz_sine_is_minus_3_lufs_and_20_db_down_is_minus_23():
    t = np.arange(22050 * 5) / 22050
    for amp, want in ((1.0, -3.01), (0.1, -23.01)):
        m = _measure((amp * np.sin(2 * np.pi * 997 * t)).astype(np.float32))
        assert m.loudness == pytest.approx(want, abs=0.1)
        assert m.peak == pytest.approx(amp, rel=1e-3)


def test_silence_and_no_audio_have_no_loudness():
    assert _measure(np.zeros(22050 * 3, np.float32)).loudness is None
    assert LoudnessMeter(22050).loudness is None


def test_the_reference_gain_and_the_stereo_estimate():
    assert gain_of_loudness(-9.0) == -9.0 and gain_of_loudness(-30.0) == 12.0 and gain_of_loudness(None) is None
    assert track_loudness(-20.0, 1) == -20.0 and track_loudness(-20.0, 2) == pytest.approx(-16.99, abs=0.01)


@pytest.mark.skipif(not media.have_ffmpeg(), reason="ffmpeg is needed to generate fixture media")
@pytest.mark.parametrize("name, kind", [("noise.flac", "noise"), ("tone.mp3", "tone")])
def test_the_analysis_measures_a_file_within_a_db_of_its_own_channels(tmp_path, name, kind):
    from pyebur128 import MeasurementMode, R128State, get_loudness_global

    from analysis.worker import prepare_file
    from core.audio import decode

    path = media.make(tmp_path / name, kind=kind, seconds=6.0, sr=44100, channels=2)
    prep = prepare_file(str(path))
    y, sr = decode.read(path)  # the file's own rate and channels
    st = R128State(y.shape[1], sr, MeasurementMode.MODE_I)
    frames = np.ascontiguousarray(y, np.float32).reshape(-1)
    st.add_frames(frames, len(y))
    reference = get_loudness_global(st)
    estimate = track_loudness(prep["loudness"], y.shape[1])
    assert estimate == pytest.approx(reference, abs=1.0), (estimate, reference)
    assert 0 < prep["sample_peak"] <= 1.0
