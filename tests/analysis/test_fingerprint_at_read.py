"""The analysis is filed under the bytes it read: a file replaced between the scan and the
analysis gets its result under its new fingerprint (never the old bytes'), and a file that
changes while it decodes is refused."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from analysis import worker
from core.audio.fingerprint import fingerprint
from core.features import SR


def _tone(path, freq, seconds=8.0):
    t = np.arange(int(seconds * SR)) / SR
    sf.write(path, (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32), SR)
    return path


def test_a_file_replaced_after_the_scan_is_filed_under_what_was_read(tmp_path):
    from analysis.service import run_analysis
    from core.catalog import Catalog
    from core.scanner import scan

    lib = tmp_path / "lib"
    lib.mkdir()
    path = _tone(lib / "a.wav", 440.0)
    cat = Catalog(tmp_path / "c.sqlite3")
    scan(cat, lib)
    (track,) = cat.tracks()
    old_fp = track.fingerprint
    rng = np.random.default_rng(1)
    sf.write(path, (0.2 * rng.standard_normal(9 * SR)).astype(np.float32), SR)  # replaced before analysis
    new_fp = fingerprint(path)
    assert new_fp != old_fp
    s = run_analysis(cat, workers=1)
    assert s.analysed == 1
    assert cat.analysis_by_fingerprint(old_fp) is None  # the old bytes were never analysed
    r = cat.analysis_by_fingerprint(new_fp)
    assert r is not None and r.duration == pytest.approx(9.0, abs=0.05)
    assert cat.track_analysis(track.id) is None  # the catalog still knows the old bytes ...
    scan(cat, lib)  # ... until the next scan, which finds the result already there
    assert cat.get_track(track.id).fingerprint == new_fp
    assert cat.track_analysis(track.id).duration == pytest.approx(9.0, abs=0.05)
    cat.close()


def test_a_file_that_changes_while_it_decodes_is_refused(tmp_path, monkeypatch):
    path = _tone(tmp_path / "a.wav", 440.0, seconds=70.0)  # three excerpts
    real = worker._excerpt_audio

    def rewritten_midway(p, info):
        for k, y in enumerate(real(p, info)):
            if k == 0:
                _tone(path, 880.0, seconds=70.0)  # another song lands in its place
            yield y

    monkeypatch.setattr(worker, "_excerpt_audio", rewritten_midway)
    with pytest.raises(Exception) as e:
        worker.prepare_file(str(path), fingerprint="whatever-the-scan-saw")
    assert getattr(e.value, "kind", None) == "changed" and "changed while" in str(e.value)
