"""The loader checks the card's class names against the network it loads, on both runtimes."""
from __future__ import annotations

import json
import shutil

import pytest

from models.card import CARD_NAME, SHIPPED_DIR, ModelError, read_card
from models.genre import GenreModel


def _cut_classes(model_dir, n: int) -> None:
    card = json.loads((model_dir / CARD_NAME).read_text())
    card["classes"] = card["classes"][:n]
    (model_dir / CARD_NAME).write_text(json.dumps(card))


def test_litert_refuses_a_card_with_fewer_classes_than_the_network(tmp_path):
    d = tmp_path / "m"
    d.mkdir()
    for name in (CARD_NAME, "model.tflite"):
        shutil.copy(SHIPPED_DIR / name, d / name)
    assert len(GenreModel.load(d, threads=1, runtime="litert").classes) == 10
    _cut_classes(d, 5)
    with pytest.raises(ModelError) as e:
        GenreModel.load(d, threads=1, runtime="litert")
    assert str(e.value) == f"{d / CARD_NAME}: model card does not match the network (5 class names, 10 outputs)"


def test_keras_refuses_a_card_with_fewer_classes_than_the_network(tiny_model_dir, tmp_path):
    d = tmp_path / "m"
    shutil.copytree(tiny_model_dir, d)
    _cut_classes(d, 5)
    with pytest.raises(ModelError, match=r"model card does not match the network \(5 class names, 10 outputs\)"):
        GenreModel.load(d, threads=1, runtime="keras")


@pytest.mark.parametrize("classes", [["blues", "blues", "jazz"], ["blues", ""], ["blues", 3]])
def test_class_names_must_be_distinct_names(tmp_path, classes):
    d = tmp_path / "m"
    d.mkdir()
    card = json.loads((SHIPPED_DIR / CARD_NAME).read_text())
    card["classes"] = classes
    (d / CARD_NAME).write_text(json.dumps(card))
    with pytest.raises(ModelError, match=r"model card is corrupt \(classes must be a list of distinct names\)"):
        read_card(d)
