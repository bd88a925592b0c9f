"""One check of decoded audio for the library analysis and ``predict``: NaN/inf samples, silence
and audio shorter than a frame are told apart the same way on both paths."""
from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from analysis.worker import prepare_file
from core.errors import TooShort
from core.features import SR
from core.signalcheck import Silent


def _noise_with_nans(path):
    rng = np.random.default_rng(0)
    y = (0.1 * rng.standard_normal(20 * SR)).astype(np.float32)  # -20 dBFS
    y[[100, 5000, 77777]] = np.nan
    y[200000] = np.inf
    sf.write(path, y, SR, subtype="FLOAT")
    return path


def _silence(path, seconds):
    sf.write(path, np.zeros(int(seconds * SR), np.int16), SR, subtype="PCM_16")
    return path


def test_noise_with_a_few_nans_is_analysed_not_silent(tmp_path):
    prep = prepare_file(str(_noise_with_nans(tmp_path / "nan.wav")))
    assert np.isfinite(prep["S"]).all() and prep["S"].std() > 1.0
    assert "4 samples were not numbers" in prep["note"]


def test_ten_minutes_of_silence_and_a_click_are_refused_with_their_reason(tmp_path):
    with pytest.raises(Silent) as e:
        prepare_file(str(_silence(tmp_path / "quiet.wav", 600)))
    assert e.value.kind == "silent"
    with pytest.raises(TooShort):
        prepare_file(str(_silence(tmp_path / "click.wav", 0.05)))


def test_predict_tells_the_same(tmp_path, capsys):
    from cli.main import main

    nan, quiet = _noise_with_nans(tmp_path / "nan.wav"), _silence(tmp_path / "quiet.wav", 600)
    short = tmp_path / "short.wav"
    sf.write(short, (0.5 * np.ones(1000)).astype(np.float32), SR)
    rc = main(["predict", str(nan), str(quiet), str(short), "--json"])
    res = json.loads(capsys.readouterr().out)
    assert rc == 1
    assert [r["file"] for r in res["results"]] == [str(nan)] and "not numbers" in res["results"][0]["note"]
    errors = {f["file"]: f["error"] for f in res["failures"]}
    assert "silent" in errors[str(quiet)] and "classical" not in errors[str(quiet)]
    assert "too short" in errors[str(short)]


def test_the_library_analysis_tells_the_same(tmp_path):
    from analysis.service import run_analysis
    from core.catalog import Catalog
    from core.scanner import scan

    lib = tmp_path / "lib"
    lib.mkdir()
    _noise_with_nans(lib / "nan.wav")
    _silence(lib / "quiet.wav", 600)
    sf.write(lib / "short.wav", (0.5 * np.ones(1000)).astype(np.float32), SR)
    cat = Catalog(tmp_path / "c.sqlite3")
    scan(cat, lib)
    s = run_analysis(cat, workers=1)
    assert s.analysed == 1 and s.failed == 2
    kinds = {f.path.rsplit("/", 1)[-1]: f.kind for f in cat.analysis_failures()}
    assert kinds == {"quiet.wav": "silent", "short.wav": "too_short"}
    tid = next(t.id for t in cat.tracks() if t.path.endswith("nan.wav"))
    r = cat.track_analysis(tid)
    assert r is not None and "not numbers" in r.note and r.music_version is not None
    cat.close()
