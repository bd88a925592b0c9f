"""Where Melograph keeps its data: the catalog, profiles, logs."""
from __future__ import annotations

import os
from pathlib import Path

ENV_DATA_DIR = "MELOGRAPH_DATA_DIR"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def data_dir(override: str | os.PathLike | None = None) -> Path:
    """The data directory: ``override``, else $MELOGRAPH_DATA_DIR, else the user's data dir."""
    if override:
        path = Path(override)
    elif os.environ.get(ENV_DATA_DIR):
        path = Path(os.environ[ENV_DATA_DIR])
    else:
        import platformdirs

        path = Path(platformdirs.user_data_dir("melograph", appauthor=False))
    path = path.expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def catalog_path(override: str | os.PathLike | None = None) -> Path:
    return data_dir(override) / "catalog.sqlite3"


def shared_data_dir() -> Path:
    """``../shared/data`` beside the project (training and test data, never committed)."""
    return PROJECT_ROOT.parent / "shared" / "data"
