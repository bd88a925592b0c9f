"""Each profile's saved recommender: one model file under ``<data dir>/profiles/<name>/``.

The likes are the truth (they live in the catalog); a model file is only a cache of the
training, rebuilt whenever it is missing, corrupt, or trained from other likes.  A model that
cannot be saved (a full disk, a folder in the way) is still used: the failure is logged as one
warning line and the model is trained again next time.
"""
from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import Hashable, Iterable

from core.catalog import check_profile_name
from core.recommend.errors import CorruptProfile, RecommenderError, StaleProfile
from core.recommend.model import Recommender, RecommenderConfig
from core.recommend.vectors import TrackVectors

MODEL_FILE = "recommender.npz"

log = logging.getLogger(__name__)


class ProfileStore:
    """One recommender file per profile under ``<data_dir>/profiles/<name>/``.  Names follow the
    catalog's rule (:func:`core.catalog.check_profile_name`, which raises ``CatalogError``), so
    a name never leaves that folder."""

    def __init__(self, data_dir: str | os.PathLike):
        self.root = Path(data_dir) / "profiles"

    def path(self, name: str) -> Path:
        return self.root / check_profile_name(name) / MODEL_FILE

    def remove(self, name: str) -> bool:
        """Forget a profile's saved model (a cache: the likes live in the catalog)."""
        d = self.root / check_profile_name(name)
        if not d.is_dir():
            return False
        shutil.rmtree(d, ignore_errors=True)
        return True

    def rename(self, old: str, new: str) -> bool:
        """Move a profile's saved model along with a renamed profile (best effort: a model
        left behind is only retrained)."""
        src, dst = self.root / check_profile_name(old), self.root / check_profile_name(new)
        if not src.is_dir() or src == dst:
            return False
        try:
            if dst.exists() and not dst.samefile(src):  # a case-only rename on a case-blind disk
                self.remove(new)
            os.replace(src, dst)
            return True
        except OSError:
            return False

    def load_or_fit(self, name: str, vectors: TrackVectors, liked_ids: Iterable[Hashable],
                    disliked_ids: Iterable[Hashable] = (), *, config: RecommenderConfig | None = None,
                    seed: int = 0, played_ids: Iterable[Hashable] = (),
                    skipped_ids: Iterable[Hashable] = ()) -> tuple[Recommender, str]:
        """The profile's model for these likes: ``(recommender, how)`` where ``how`` is
        ``"loaded"`` (saved and current), ``"trained"`` (none saved, or the likes changed) or
        ``"rebuilt"`` (the saved file was corrupt).  ``played_ids`` / ``skipped_ids``: the
        listening history's weak signals, used by a training (see ``RecommenderConfig.play_weight``)."""
        liked, disliked = list(liked_ids), list(disliked_ids)
        path = self.path(name)
        how = "trained"
        if path.exists():
            try:
                rec = Recommender.load(path)
                if rec.is_current(vectors, liked, disliked, config):
                    return rec, "loaded"
            except StaleProfile:
                how = "trained"
            except CorruptProfile:
                how = "rebuilt"
        rec = Recommender(config).fit(vectors, liked, disliked, seed=seed, played_ids=played_ids,
                                      skipped_ids=skipped_ids)
        try:
            rec.save(path)
        except RecommenderError as exc:  # a cache that cannot be written: rank anyway
            log.warning("%s", exc)
        return rec, how
