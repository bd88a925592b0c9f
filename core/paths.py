"""Where Melograph keeps its data: the catalog, profiles, logs."""
from __future__ import annotations

import os
from pathlib import Path

from core.errors import MelographError

ENV_DATA_DIR = "MELOGRAPH_DATA_DIR"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class DataDirError(MelographError):
    """The data directory cannot be made or used; ``str(err)`` is the sentence to show."""


def data_dir_problem(path: str | os.PathLike) -> str | None:
    """Why ``path`` cannot be the data folder (empty, a file, below a file), or None when it can
    (it exists as a folder, or can be made)."""
    if not str(path).strip():
        return "must not be empty (leave --data-dir out for the default location)"
    p = Path(path).expanduser().absolute()
    for at in (p, *p.parents):
        if at.exists() or at.is_symlink():
            if not at.is_dir():
                return f"{at} is a file, not a folder" if at == p else f"{at} is a file, so {p} cannot be a folder"
            return None
    return None


def data_dir(override: str | os.PathLike | None = None) -> Path:
    """The data directory: ``override``, else $MELOGRAPH_DATA_DIR, else the user's data dir;
    made if missing.  :class:`DataDirError` when it cannot be (it names a file, a file is in
    the way, no permission)."""
    if override:
        path = Path(override)
    elif os.environ.get(ENV_DATA_DIR):
        path = Path(os.environ[ENV_DATA_DIR])
    else:
        import platformdirs

        path = Path(platformdirs.user_data_dir("melograph", appauthor=False))
    path = path.expanduser().resolve()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        why = data_dir_problem(path) or exc.strerror or str(exc)
        raise DataDirError(f"{path}: cannot use it as the data folder ({why}); choose another with --data-dir "
                           "or $MELOGRAPH_DATA_DIR") from exc
    return path


def catalog_path(override: str | os.PathLike | None = None) -> Path:
    return data_dir(override) / "catalog.sqlite3"


def shared_data_dir() -> Path:
    """``../shared/data`` beside the project (training and test data, never committed)."""
    return PROJECT_ROOT.parent / "shared" / "data"
