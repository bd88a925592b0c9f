"""Fixtures for the model tests: the shared data (skip when absent, fail in CI) and a tiny model."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
NPZ = SHARED / "gtzan_logmel" / "gtzan_logmel_trainval.npz"
AUDIO = SHARED / "gtzan_audio"


def need(path: Path) -> Path:
    """``path`` if it exists; else skip (or fail when $CI is set: CI must have the data)."""
    if path.exists():
        return path
    msg = f"shared data not found: {path} (../shared/data is not part of the repository)"
    if os.environ.get("CI"):
        pytest.fail(msg + " -- required in CI")
    pytest.skip(msg)


@pytest.fixture(scope="session")
def trainval_npz() -> Path:
    return need(NPZ)


@pytest.fixture(scope="session")
def gtzan_audio() -> Path:
    need(AUDIO / "manifest.csv")
    return AUDIO


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """An untrained small network saved with a valid card (for the card/loader contract)."""
    from models.training import write_untrained

    return write_untrained(tmp_path_factory.mktemp("tiny_model"), config={"stem": 16, "channels": [16, 16]}, hop=39)


def write_npz(path: Path, **arrays) -> Path:
    np.savez(path, **arrays)
    return path
