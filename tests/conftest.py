"""Shared pytest fixtures (small and generic; package-specific ones live beside their tests)."""
from __future__ import annotations

import shutil

import pytest


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """A private Melograph data directory ($MELOGRAPH_DATA_DIR) for the test."""
    d = tmp_path / "melograph-data"
    d.mkdir()
    monkeypatch.setenv("MELOGRAPH_DATA_DIR", str(d))
    return d


@pytest.fixture
def catalog(data_dir):
    """A fresh catalog in the test's data directory, closed afterwards."""
    from core.catalog import Catalog

    cat = Catalog.open(data_dir)
    yield cat
    cat.close()


@pytest.fixture(scope="session")
def ffmpeg():
    """Skip (with the reason) when the ffmpeg command line, used to make fixture media, is absent."""
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed (scripts/dev.sh installs it); fixture media cannot be made")
    return shutil.which("ffmpeg")
