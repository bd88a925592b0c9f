"""The model card reader: which model, its version, and the sentence the app shows without one."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from models.card import (CARD_NAME, ENV_MODEL_DIR, SHIPPED_DIR, ModelError, model_dir, model_problem, model_version,
                         read_card, write_card)
from tests.models.conftest import ROOT


@pytest.fixture
def card_dir(tmp_path):
    """A copy of the shipped card alone (no weights: the card reader never opens them)."""
    d = tmp_path / "model"
    d.mkdir()
    shutil.copy(SHIPPED_DIR / CARD_NAME, d / CARD_NAME)
    return d


def test_the_model_directory_is_the_argument_else_the_environment_else_the_shipped_one(monkeypatch, tmp_path):
    monkeypatch.delenv(ENV_MODEL_DIR, raising=False)
    assert model_dir() == SHIPPED_DIR
    monkeypatch.setenv(ENV_MODEL_DIR, str(tmp_path))
    assert model_dir() == tmp_path
    assert model_dir(tmp_path / "other") == tmp_path / "other"
    monkeypatch.setenv(ENV_MODEL_DIR, "")
    assert model_dir() == SHIPPED_DIR


def test_version_and_no_problem_for_a_usable_card(card_dir, monkeypatch):
    monkeypatch.setenv(ENV_MODEL_DIR, str(card_dir))
    card = read_card()
    assert model_version() == model_version(card_dir) == card["version"]
    assert isinstance(card["window"], int) and isinstance(card["hop"], int)
    assert model_problem() is None and model_problem(card_dir) is None


def test_the_sentence_without_a_model(tmp_path, card_dir):
    assert model_problem(tmp_path / "nowhere") == (
        f"No genre model in {tmp_path / 'nowhere'} (no card.json), so tracks play but their genres are not tagged.")
    (card_dir / CARD_NAME).write_text("{not json")
    problem = model_problem(card_dir)
    assert problem.startswith("The genre model's card cannot be read (model card is corrupt")
    assert str(card_dir) not in problem  # one short sentence: the reason, not the path again
    with pytest.raises(ModelError, match="model card is corrupt"):
        model_version(card_dir)


def test_a_card_for_another_front_end_is_a_problem(card_dir):
    card = json.loads((card_dir / CARD_NAME).read_text())
    card["frontend"]["n_mels"] = 96
    write_card(card_dir, card)
    assert "front-end parameters" in model_problem(card_dir)
    with pytest.raises(ModelError, match="n_mels"):
        read_card(card_dir)


def test_write_card_round_trips(card_dir):
    card = read_card(card_dir)
    card["note"] = "ünïcode kept"
    path = write_card(card_dir, card)
    assert path == card_dir / CARD_NAME and not list(card_dir.glob("*.tmp"))
    assert read_card(card_dir) == card


def test_reading_a_card_loads_no_tensorflow():
    code = ("import sys; from models.card import model_version, model_problem; model_version(); model_problem(); "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'tensorflow', 'keras', 'ai_edge_litert'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(ROOT), timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
