"""The front end: the fast mel path equals librosa's, the display log-mel's shape and range,
and the check that matters most: from real GTZAN audio, through the app's decoder, the front end
reproduces the training arrays (../shared/data/README.md)."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from core import features as F
from core.audio import decode
from core.errors import TooShort
from tests import media

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
GTZAN_AUDIO = SHARED / "gtzan_audio"
GTZAN_NPZ = SHARED / "gtzan_logmel" / "gtzan_logmel_trainval.npz"


def _signal(seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * F.SR)) / F.SR
    y = 0.3 * np.sin(2 * np.pi * 440 * t) * (1 + np.sin(2 * np.pi * 0.5 * t)) + 0.05 * rng.standard_normal(len(t))
    return y.astype(np.float32)


def test_filterbank_equals_librosa():
    librosa = pytest.importorskip("librosa")
    for sr in (22050, 44100):
        ours = F.mel_filterbank(sr=sr, n_fft=2048, n_mels=128)
        ref = librosa.filters.mel(sr=sr, n_fft=2048, n_mels=128)
        np.testing.assert_allclose(ours, ref, atol=1e-7)


@pytest.mark.filterwarnings("ignore:n_fft=2048 is too large")
@pytest.mark.parametrize("n", [100, 2048, 22050 + 17, 3 * 22050])
def test_fast_mel_equals_librosa(n):
    librosa = pytest.importorskip("librosa")
    y = _signal(n / F.SR + 1)[:n]
    ours, ref = F.mel_power(y=y), F.mel_power_librosa(y=y)
    assert ours.shape == ref.shape and ours.dtype == np.float32
    assert np.max(np.abs(ours - ref)) <= 1e-5 * ref.max()
    np.testing.assert_allclose(F.power_to_db(ours), librosa.power_to_db(ref, ref=np.max, top_db=80), atol=1e-3)


def test_logmel_excerpt_shape_and_range():
    S = F.logmel_excerpt(y=_signal(30.0))
    assert S.shape == (128, 387) and S.dtype == np.float32
    assert S.min() >= -80 and S.max() <= 0 and S.min() < -60 and S.max() > -3  # pooled: near the ends
    silent = F.logmel_excerpt(y=np.zeros(F.SR, np.float32))
    assert np.all(silent == -80)


def test_columns_are_frames_not_means():
    """Each column is one frame (as in the training arrays), spread evenly over the excerpt: a
    click in one frame shows at full height in the column that samples it and nowhere else."""
    for n in (1, 2, 3, 40, 1292, 1293, 1310):
        cols = F.n_columns_for(n)
        src = F.sample_columns(n, cols)
        assert len(src) == cols and src.min() >= 0 and src.max() <= n - 1
        assert np.all(np.diff(src) >= 3 if n >= 40 else np.diff(src) >= 0)
    src = F.sample_columns(1292, 387)
    assert src[0] == 1 and src[-1] == 1288  # the array rows' span: centres of (n - 1.7) / 387 frames
    S = np.zeros((2, 1292), np.float32)
    S[:, src[100]] = 1.0
    S[:, src[100] + 1] = 5.0  # a frame between two samples is not seen
    out = F.sample_time(S, n_columns=387)
    assert out[0, 100] == 1.0 and np.count_nonzero(out[0]) == 1


def test_display_logmel():
    y = _signal(5.0)
    S = F.display_logmel(y=y, sr=F.SR)
    assert S.shape == (128, 1 + len(y) // 512) and S.dtype == np.float32 and S.flags.c_contiguous
    assert S.max() == 0 and S.min() >= -80
    S44 = F.display_logmel(y=np.repeat(y, 2), sr=44100, hop_length=1024)
    assert S44.shape[0] == 128 and S44.flags.c_contiguous
    small = F.downsample_columns(S, max_columns=50)
    assert small.shape == (128, 50) and small.flags.c_contiguous
    assert F.downsample_columns(S, max_columns=10_000) is not None and F.downsample_columns(S, max_columns=10_000).shape == S.shape


def test_logmel_file(tmp_path):
    if not media.have_ffmpeg():
        pytest.skip("ffmpeg is needed to generate fixture media")
    path = media.make(tmp_path / "a.mp3", kind="noise", seconds=4.0, sr=44100, channels=2)
    S = F.logmel_file(path)
    assert S.shape[0] == 128 and S.shape[1] == pytest.approx(4.0 * F.COLUMNS_PER_SECOND, abs=2)
    part = F.logmel_file(path, start=1.0, duration=2.0)
    assert part.shape[1] == pytest.approx(2.0 * F.COLUMNS_PER_SECOND, abs=2)
    tiny = media.make(tmp_path / "tiny.wav", seconds=1.0)
    with pytest.raises(TooShort):
        F.logmel_file(tiny, start=0.98)


def _shared_data_or_skip():
    if GTZAN_AUDIO.is_dir() and GTZAN_NPZ.is_file():
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI requires the shared data: {GTZAN_AUDIO} and {GTZAN_NPZ} are missing")
    pytest.skip(f"../shared/data is absent ({GTZAN_AUDIO} and {GTZAN_NPZ} needed for the front-end check)")


def frontend_agreement() -> dict:
    """Front-end agreement over every clip in gtzan_audio/ (also used by bench/bench_audio.py)."""
    with np.load(GTZAN_NPZ) as d:
        X, ids = d["X"], [str(i) for i in d["ids"]]
    row = {cid: i for i, cid in enumerate(ids)}
    out = {}
    for path in sorted(GTZAN_AUDIO.glob("*.flac")):
        cid = path.name[: -len(".flac")]
        if cid not in row:
            continue
        y, sr = decode.read(path, sr=F.SR, mono=True)  # the app's decode path
        S = F.logmel_excerpt(y=y, sr=sr, n_columns=F.EXCERPT_COLUMNS)  # whole file -> 387 columns
        ref = X[row[cid]].astype(np.float32)
        out[cid] = (float(np.mean(np.abs(S - ref))), float(np.corrcoef(S.ravel(), ref.ravel())[0, 1]))
    return out


@pytest.mark.shared_data
@pytest.mark.slow
def test_front_end_reproduces_the_training_arrays():
    _shared_data_or_skip()
    res = frontend_agreement()
    assert len(res) >= 89, f"only {len(res)} clips found in {GTZAN_AUDIO}"
    mae = np.array([m for m, _ in res.values()])
    r = np.array([c for _, c in res.values()])
    worst = max(res, key=lambda k: res[k][0])
    # measured: median 0.11 dB, worst 0.15 dB, r 0.9996 (the arrays' 8-bit step is 0.31 dB);
    # the README's mean over each group of frames lands 1.9 dB away (worst 5.6, r 0.983)
    assert np.median(mae) <= 0.3, f"median MAE {np.median(mae):.2f} dB"
    assert mae.max() <= 0.6, f"worst clip {worst}: MAE {mae.max():.2f} dB"
    assert np.median(r) >= 0.998, f"median Pearson r {np.median(r):.4f}"


@pytest.mark.parametrize("seconds", [0.05, 12.0, 30.0, 33.0, 36.0, 64.0, 90.0])
@pytest.mark.parametrize("block", [1000, 65536, 661_500, 2_000_000])
def test_streamed_excerpts_cut_exactly_like_excerpt_bounds(seconds, block):
    from core import features as F

    y = np.random.default_rng(0).standard_normal(int(seconds * F.SR)).astype(np.float32)
    whole = [y[a:b] for a, b in F.excerpt_bounds(len(y))]
    streamed = list(F.excerpts(y[i : i + block] for i in range(0, len(y), block)))
    assert [len(x) for x in streamed] == [len(x) for x in whole]
    for s, w in zip(streamed, whole):
        np.testing.assert_array_equal(s, w)


def test_a_log_mel_shorter_than_a_window_is_repeated_to_fill_it_not_padded_with_silence():
    """A 10 s track in a 30 s model window: the window holds the track's own sound three times
    over (and a bit), not 20 s of -80 dB; longer log-mels are cut as before."""
    rng = np.random.default_rng(0)
    S = rng.uniform(-60, 0, (F.N_MELS, 129)).astype(np.float32)
    (w,) = F.windows(S, width=387, hop=387)
    assert w.shape == (F.N_MELS, 387) and w.dtype == np.float32
    assert np.array_equal(w[:, :129], S) and np.array_equal(w[:, 129:258], S) and np.array_equal(w[:, 258:], S)
    assert w.min() > -F.TOP_DB  # no silence in it
    # a one-column log-mel, and one exactly a window long
    assert np.array_equal(F.windows(S[:, :1], width=39, hop=39)[0], np.repeat(S[:, :1], 39, axis=1))
    assert np.array_equal(F.windows(S[:, :39], width=39, hop=39)[0], S[:, :39])
    assert F.windows(S, width=39, hop=39).shape == (4, F.N_MELS, 39)  # 0, 39, 78, 90 (end-aligned)


def test_mfccs_equal_librosa_and_the_dct_matrix():
    """MFCCs of a log-mel are librosa's (DCT-II, orthonormal); the matrix the networks and the
    floor's Keras layer apply gives the same numbers."""
    librosa = pytest.importorskip("librosa")
    S = F.logmel_track(y=_signal(3.0))
    want = librosa.feature.mfcc(S=S, n_mfcc=20)
    got = F.mfcc_from_logmel(S=S, n_mfcc=20)
    assert got.shape == (20, S.shape[1]) and got.dtype == np.float32
    np.testing.assert_allclose(got, want, atol=1e-3)
    np.testing.assert_allclose(S.T @ F.dct_matrix(128, 20), want.T, atol=1e-3)
    stack = np.stack([S, S[:, ::-1]])
    np.testing.assert_allclose(F.mfcc_from_logmel(S=stack)[1], F.mfcc_from_logmel(S=S[:, ::-1]), atol=1e-4)
    with pytest.raises(ValueError):
        F.mfcc_from_logmel(S=S, n_mfcc=129)
