"""The stored 3 s genre timeline of real tracks of awkward lengths says what the model says.

Tracks of 31, 45, 59, 61 and 95 s (cut from a real recording) and the 64.8 s humpback-whale clip
go through ``main.py analyze`` into a real catalog; every stored cell must be a distribution and
equal the model's own output for the 3 s sub-window that covers it (the windows run directly,
without the grid code), so nothing past the last full 30 s window is a fill or a copy.
"""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from tests.models.conftest import ROOT, SHARED, need

CC = SHARED / "cc_music"
LENGTHS = (31, 45, 59, 61, 95)


@pytest.fixture(scope="module")
def shipped():
    from models.genre import GenreModel

    return GenreModel.load()


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    """``{file name: (path, stored AnalysisResult)}`` after one ``main.py analyze`` run."""
    import soundfile as sf

    from core.audio.decode import read
    from core.catalog import Catalog
    from core.features import SR

    whale = need(CC / "glacier-bay-humpback.ogg")
    source = need(CC / "Kevin_MacLeod_-_P_I_Tchaikovsky_Dance_of_the_Sugar_Plum_Fairy.ogg")
    base = tmp_path_factory.mktemp("timeline")
    music = base / "music"
    music.mkdir()
    y, _ = read(source, sr=SR, mono=True)
    for s in LENGTHS:
        sf.write(music / f"cut{s}.wav", y[: s * SR], SR)
    (music / whale.name).write_bytes(whale.read_bytes())
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    out = subprocess.run([sys.executable, str(ROOT / "main.py"), "--data-dir", str(base / "data"), "analyze", str(music)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    cat = Catalog(base / "data" / "catalog.sqlite3")
    try:
        got = {}
        for (tid, path) in cat.fetchall("SELECT id, path FROM tracks"):
            got[os.path.basename(path)] = (path, cat.track_analysis(tid))
    finally:
        cat.close()
    assert len(got) == len(LENGTHS) + 1
    return got


def _model_says(model, path):
    """``(covering, sub_probs)``: for each column the sub-windows (flat indices) that cover it,
    and the model's output for every sub-window, from the windows run directly."""
    from analysis.worker import prepare_file
    from core.features import fill_window, window_starts

    S = prepare_file(path)["S"]
    n = S.shape[1]
    F = fill_window(S, model.window)
    starts = window_starts(F.shape[1], width=model.window, hop=model.hop)
    _, _, sub = model.analyse_windows_timeline(np.stack([F[:, s : s + model.window] for s in starts]))
    tl = model.timeline
    sub_starts = (np.asarray(starts)[:, None] + np.asarray(tl["starts"])[None, :]).reshape(-1)
    return n, sub_starts, tl["width"], sub.reshape(len(sub_starts), -1)


@pytest.mark.parametrize("name", [f"cut{s}.wav" for s in LENGTHS] + ["glacier-bay-humpback.ogg"])
def test_every_stored_3_second_cell_is_the_models_answer_for_that_stretch(shipped, analysed, name):
    path, r = analysed[name]
    n, sub_starts, width, sub = _model_says(shipped, path)
    cells = r.window_probs
    assert r.window_s == r.hop_s and len(cells) == -(-n // width)  # a 3 s grid over the whole track
    assert np.allclose(cells.sum(1), 1.0, atol=1e-3) and (cells >= 0).all()
    for k, cell in enumerate(cells):
        mid = (k * width + min(k * width + width, n)) / 2.0
        covering = np.flatnonzero((sub_starts <= mid) & (mid < sub_starts + width))
        assert len(covering), f"{name}: no sub-window covers cell {k}"
        dist = np.abs(sub[covering] - cell).max(axis=1)
        assert dist.min() < 1e-3, f"{name}: cell {k} ({k * width / 12.9:.1f} s) is not what the model says there"


def test_the_humpback_band_after_30_s_is_the_models_own_answer(shipped, analysed):
    """The 64.8 s whale clip shows a near-certain "metal" from 0:30: that is the shipped model's
    answer for that audio on its own (its window-level feature floor is saturated there), not an
    artefact of the track's length: the same audio analysed alone gives the same cells."""
    from core.audio.decode import read
    from core.features import SR, logmel_track

    path, r = analysed["glacier-bay-humpback.ogg"]
    y, _ = read(path, sr=SR, mono=True)
    alone = shipped.analyse_track(logmel_track(y=y[30 * SR :]))["timeline"]
    cells = r.window_probs[10:]  # from 10 * 39 columns = 30.2 s on
    assert cells.shape == alone.shape
    assert np.abs(cells - alone).max() < 0.01
    # and the first 30 s, analysed alone, are the first ten cells
    first = shipped.analyse_track(logmel_track(y=y[: 30 * SR]))["timeline"]
    assert np.abs(r.window_probs[:10] - first).max() < 0.01
