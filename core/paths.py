"""Where Melograph keeps its data: the catalog, profiles, logs."""
from __future__ import annotations

import os
from pathlib import Path

from core.errors import MelographError

ENV_DATA_DIR = "MELOGRAPH_DATA_DIR"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class DataDirError(MelographError):
    """The data directory cannot be made or used; ``str(err)`` is the sentence to show."""


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
        in_the_way = next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()), None)
        why = (f"{in_the_way} is a file, not a folder" if in_the_way is not None
               else exc.strerror or str(exc))
        raise DataDirError(f"{path}: cannot use it as the data folder ({why}); choose another with --data-dir "
                           "or $MELOGRAPH_DATA_DIR") from exc
    return path


def catalog_path(override: str | os.PathLike | None = None) -> Path:
    return data_dir(override) / "catalog.sqlite3"


def shared_data_dir() -> Path:
    """``../shared/data`` beside the project (training and test data, never committed)."""
    return PROJECT_ROOT.parent / "shared" / "data"
