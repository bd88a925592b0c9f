"""evaluate-genre on good and malformed npz files: clear one-line errors, never a traceback."""
from __future__ import annotations

import json

import numpy as np
import pytest

from cli.main import main
from tests.models.conftest import write_npz

GENRES = np.array(["blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock"])


def _run(capsys, *argv):
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_evaluates_a_small_npz(tiny_model_dir, tmp_path, capsys):
    rng = np.random.default_rng(0)
    p = write_npz(tmp_path / "ok.npz", X=rng.uniform(-80, 0, (6, 128, 100)).astype(np.float16),
                  y=np.array([0, 1, 2, 3, 4, 5], np.int8), genres=GENRES,
                  split=np.array(["train", "valid"] * 3))
    rc, out, err = _run(capsys, "evaluate-genre", "--model", str(tiny_model_dir), "--data", str(p), "--json")
    assert rc == 0, err
    res = json.loads(out)
    assert res["n_clips"] == 6 and 0 <= res["accuracy"] <= 1 and len(res["confusion"]) == 10
    lo, hi = res["accuracy_interval_95"]
    assert 0 <= lo <= res["accuracy"] <= hi <= 1
    assert sum(map(sum, res["confusion"])) == 6
    rc, out, err = _run(capsys, "evaluate-genre", "--model", str(tiny_model_dir), "--data", str(p), "--split", "valid", "--json")
    assert rc == 0 and json.loads(out)["n_clips"] == 3


@pytest.mark.parametrize(
    "arrays, message",
    [
        (dict(y=np.zeros(3, np.int8), genres=GENRES), "missing array"),
        (dict(X=np.zeros((3, 64, 100), np.float16), y=np.zeros(3, np.int8), genres=GENRES), "X must have shape"),
        (dict(X=np.zeros((3, 128, 100), np.float16), y=np.zeros(4, np.int8), genres=GENRES), "y must have shape"),
        (dict(X=np.zeros((3, 128, 100), np.float16), y=np.array([0, 1, 12]), genres=GENRES), "outside"),
        (dict(X=np.zeros((3, 128, 100), np.float16), y=np.zeros(3, np.int8), genres=np.array(["a", "b"])), "not classes"),
        (dict(X=np.zeros((3, 128, 10), np.float16), y=np.zeros(3, np.int8), genres=GENRES), "fewer than the model window"),
    ],
)
def test_malformed_npz_gives_a_clear_error(tiny_model_dir, tmp_path, capsys, arrays, message):
    p = write_npz(tmp_path / "bad.npz", **arrays)
    rc, out, err = _run(capsys, "evaluate-genre", "--model", str(tiny_model_dir), "--data", str(p))
    assert rc != 0
    assert message in err and err.startswith("melograph: error:") and len(err.strip().splitlines()) == 1


def test_not_an_npz_and_missing_split(tiny_model_dir, tmp_path, capsys):
    bad = tmp_path / "junk.npz"
    bad.write_bytes(b"this is not a zip file")
    rc, _, err = _run(capsys, "evaluate-genre", "--model", str(tiny_model_dir), "--data", str(bad))
    assert rc != 0 and "not a readable npz" in err
    rc, _, err = _run(capsys, "evaluate-genre", "--model", str(tiny_model_dir), "--data", str(tmp_path / "nope.npz"))
    assert rc != 0 and "no such file" in err
    p = write_npz(tmp_path / "nosplit.npz", X=np.zeros((2, 128, 50), np.float16), y=np.zeros(2, np.int8), genres=GENRES)
    rc, _, err = _run(capsys, "evaluate-genre", "--model", str(tiny_model_dir), "--data", str(p), "--split", "valid")
    assert rc != 0 and "no 'split' array" in err


def test_the_accuracy_comes_with_a_bootstrap_interval_that_shrinks_with_more_clips():
    from models.metrics import bootstrap_interval

    assert bootstrap_interval([1] * 50) == (1.0, 1.0)
    assert bootstrap_interval([]) == (0.0, 0.0)
    few = bootstrap_interval([1, 0] * 50)
    many = bootstrap_interval([1, 0] * 2000)
    assert few[0] < 0.5 < few[1] and many[0] < 0.5 < many[1]
    assert 0.15 < few[1] - few[0] < 0.25  # +-1.96 * sqrt(.25 / 100) = +-0.098
    assert many[1] - many[0] < 0.05
