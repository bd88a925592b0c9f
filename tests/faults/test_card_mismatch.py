"""A model card that does not describe its network: ``predict`` and ``analyze`` refuse it in one
line and the catalog keeps nothing computed with it.

The fault: the shipped model copied elsewhere with its card's class list cut to 5 names (the
network still has 10 outputs), chosen with ``--model DIR`` or ``$MELOGRAPH_MODEL_DIR``.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from core.catalog import Catalog
from models.card import CARD_NAME, SHIPPED_DIR
from tests import media

ROOT = Path(__file__).resolve().parents[2]
#: the class names the cut card keeps (the network has ten outputs)
KEPT_CLASSES = 5

pytestmark = pytest.mark.skipif(not media.have_ffmpeg(), reason="ffmpeg is needed to generate fixture media")


@pytest.fixture
def cut_model(tmp_path) -> Path:
    """The shipped model with its card's classes cut to ``KEPT_CLASSES`` names."""
    d = tmp_path / "cut-model"
    d.mkdir()
    for name in (CARD_NAME, "model.tflite", "model.keras"):
        shutil.copy(SHIPPED_DIR / name, d / name)
    card = json.loads((d / CARD_NAME).read_text())
    card["classes"] = card["classes"][:KEPT_CLASSES]
    (d / CARD_NAME).write_text(json.dumps(card, indent=2))
    return d


@pytest.fixture
def library(tmp_path) -> Path:
    lib = tmp_path / "music"
    for i in range(3):
        media.make(lib / f"song{i}.wav", kind="noise" if i % 2 == 0 else "tone", seconds=4.0, freq=300.0 + 200 * i)
    return lib


def _melograph(*args, data_dir: Path, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "MELOGRAPH_MODEL_DIR"}
    env.update(MELOGRAPH_DATA_DIR=str(data_dir), TF_CPP_MIN_LOG_LEVEL="2", **(env_extra or {}))
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def _choose(how: str, model: Path) -> tuple[list[str], dict | None]:
    """The arguments and environment that choose ``model`` the way ``how`` says."""
    return (["--model", str(model)], None) if how == "--model" else ([], {"MELOGRAPH_MODEL_DIR": str(model)})


def _assert_one_line_refusal(p: subprocess.CompletedProcess, model: Path) -> None:
    assert p.returncode != 0, p.stdout
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("melograph: error: ") and "Traceback" not in p.stderr
    assert str(model) in lines[0]
    assert f"{KEPT_CLASSES} class names" in lines[0] and "10 outputs" in lines[0], lines[0]


def _rows(data_dir: Path, sql: str) -> list[tuple]:
    con = sqlite3.connect(f"file:{data_dir / 'catalog.sqlite3'}?mode=ro", uri=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("how", ["--model", "MELOGRAPH_MODEL_DIR"])
def test_predict_refuses_a_card_whose_classes_do_not_match_the_network(how, cut_model, library, tmp_path):
    args, env = _choose(how, cut_model)
    p = _melograph("predict", str(library / "song0.wav"), *args, data_dir=tmp_path / "data", env_extra=env)
    _assert_one_line_refusal(p, cut_model)
    assert p.stdout == ""


@pytest.mark.parametrize("how", ["--model", "MELOGRAPH_MODEL_DIR"])
def test_analyze_refuses_it_stores_nothing_and_the_fixed_card_analyses_everything(how, cut_model, library, tmp_path):
    data = tmp_path / "data"
    args, env = _choose(how, cut_model)
    p = _melograph("analyze", str(library), "--workers", "1", *args, data_dir=data, env_extra=env)
    _assert_one_line_refusal(p, cut_model)
    assert _rows(data, "SELECT COUNT(*) FROM tracks") == [(3,)]  # the scan before it is kept
    assert _rows(data, "SELECT COUNT(*) FROM analysis") == [(0,)]
    # no track is blamed: nothing failed, no attempt counted, nothing left running
    queue = _rows(data, "SELECT state, attempts, COUNT(*) FROM analysis_queue GROUP BY state, attempts")
    assert queue == [("queued", 0, 3)]

    # the card fixed (the shipped model, same version): every track analysed, with ten class names
    p = _melograph("analyze", "--workers", "1", "--model", str(SHIPPED_DIR), data_dir=data)
    assert p.returncode == 0, p.stderr
    assert "analysed 3, skipped 0 (already analysed), failed 0" in p.stdout
    shipped_classes = json.loads((SHIPPED_DIR / CARD_NAME).read_text())["classes"]
    assert [json.loads(c) for (c,) in _rows(data, "SELECT classes FROM analysis")] == [shipped_classes] * 3


def test_results_stored_with_other_class_names_than_the_card_are_analysed_again(library, tmp_path):
    """A catalog that already holds a result under the shipped version but with a cut class list
    (written by a run with a broken card) gets that track analysed again with the card's classes."""
    import numpy as np

    data = tmp_path / "data"
    p = _melograph("scan", str(library), data_dir=data)
    assert p.returncode == 0, p.stderr
    card = json.loads((SHIPPED_DIR / CARD_NAME).read_text())
    cat = Catalog.open(data)
    try:
        track = cat.fetchone("SELECT id, fingerprint FROM tracks ORDER BY path LIMIT 1")
        probs = np.full(KEPT_CLASSES, 1.0 / KEPT_CLASSES, np.float32)
        cat.store_analysis(track[0], {
            "fingerprint": track[1], "model_version": card["version"], "classes": card["classes"][:KEPT_CLASSES],
            "top_genre": card["classes"][0], "confidence": 0.2, "track_probs": probs,
            "window_probs": probs[None, :], "embeddings": np.zeros((1, 8), np.float16),
            "window_s": 30.0, "hop_s": 30.0, "duration": 4.0})
    finally:
        cat.close()
    p = _melograph("analyze", "--workers", "1", "--model", str(SHIPPED_DIR), data_dir=data)
    assert p.returncode == 0, p.stderr
    assert "analysed 3, skipped 0 (already analysed), failed 0" in p.stdout
    stored = [json.loads(c) for (c,) in _rows(data, "SELECT classes FROM analysis")]
    assert stored == [card["classes"]] * 3


def test_analyze_json_refusal_is_one_json_document_with_the_reason(cut_model, library, tmp_path):
    data = tmp_path / "data"
    p = _melograph("analyze", str(library), "--workers", "1", "--model", str(cut_model), "--json", data_dir=data)
    _assert_one_line_refusal(p, cut_model)
    out = json.loads(p.stdout)
    assert out["error"] == p.stderr.strip().removeprefix("melograph: error: ")
    assert (out["state"], out["analysed"], out["failed"]) == ("unavailable", 0, 0)
    assert _rows(data, "SELECT COUNT(*) FROM analysis") == [(0,)]
