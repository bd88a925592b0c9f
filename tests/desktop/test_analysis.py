import numpy as np
import pytest

from desktop.analysis import NowPlayingAnalyser, analysis_from_predict, model_problem


def _payload(n_win=5, hop=1.5, window=3.0, seconds=10.0):
    classes = ["blues", "jazz", "rock"]
    rng = np.random.default_rng(0)
    starts = [i * hop for i in range(n_win - 1)] + [seconds - window]
    timeline = []
    for s in starts:
        p = rng.random(3)
        p /= p.sum()
        timeline.append({"start_s": s, "probs": dict(zip(classes, map(float, p)))})
    track = {"rock": 0.5, "jazz": 0.3, "blues": 0.2}  # ordered by probability, as predict prints it
    return {"file": "x.mp3", "seconds": seconds, "genre": "rock", "track": track, "timeline": timeline}


def test_predict_json_becomes_chart_input():
    a = analysis_from_predict(7, _payload())
    assert a.classes == ["blues", "jazz", "rock"]
    assert a.window_probs.shape == (5, 3) and a.window_probs.dtype == np.float32
    np.testing.assert_allclose(a.track_probs, [0.2, 0.3, 0.5])
    assert a.hop_seconds == pytest.approx(1.5) and a.window_seconds == pytest.approx(3.0)
    assert a.top == ("rock", pytest.approx(0.5))


def test_the_chart_takes_it(qtbot):
    from desktop.genrechart import GenreChart

    a = analysis_from_predict(1, _payload())
    chart = GenreChart()
    qtbot.addWidget(chart)
    chart.set_track(a.classes, a.window_probs, a.track_probs, a.window_seconds, a.hop_seconds, duration=a.duration)
    np.testing.assert_allclose(chart.window_starts, [0, 1.5, 3, 4.5, 7])


def test_no_model_is_a_sentence(tmp_path):
    assert "No genre model" in model_problem(tmp_path / "card.json")
    (tmp_path / "card.json").write_text("{not json")
    assert "cannot be read" in model_problem(tmp_path / "card.json")


def test_a_model_that_cannot_load_reports_a_reason(qapp, qtbot, tmp_path):
    an = NowPlayingAnalyser(qapp, model_dir=str(tmp_path / "no-such-model"))
    got = []
    an.failed.connect(lambda tid, reason: got.append((tid, reason)))
    an.request(3, str(tmp_path / "x.mp3"))
    qtbot.waitUntil(lambda: bool(got), timeout=60_000)
    assert got[0][0] == 3 and "no such model" in got[0][1]
    assert not an.busy
    an.shutdown()
    an.deleteLater()


def test_the_analysis_process_runs_main_py_at_a_lower_priority(tmp_path):
    import subprocess
    import sys

    from desktop.analysis import _NICE_MAIN

    script = tmp_path / "main.py"
    script.write_text("import os, sys\nif __name__ == '__main__':\n    print(os.nice(0), sys.argv[1:])\n")
    out = subprocess.run([sys.executable, "-c", _NICE_MAIN, "4", str(script), "predict", "x.mp3", "--json"],
                         capture_output=True, text=True, timeout=60)
    nice, args = out.stdout.split(" ", 1)
    assert int(nice) >= 4 and args.strip() == "['predict', 'x.mp3', '--json']"
