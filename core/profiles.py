"""The people sharing a library: each profile is a row in the catalog (with its likes and
dislikes) and a recommender model file in the data directory.  :class:`Profiles` changes both
together, so a profile lives in one place.

    profiles = Profiles(catalog, data_dir)
    profiles.create("Anna")
    profiles.rename("anna", "Anna K")   # the likes and the model file follow
    profiles.remove("Anna K")           # the likes go, and the model file
"""
from __future__ import annotations

import os
from pathlib import Path

from core.catalog import Catalog
from core.recommend.store import ProfileStore


class Profiles:
    """One catalog's profiles: their rows (likes) in the catalog and their recommender model files.

    Names match regardless of case; every method answers with the stored name.  A name that is
    invalid or unknown, and any change to ``default`` (which always exists), raise
    ``core.catalog.CatalogError`` with the sentence to show.
    """

    def __init__(self, catalog: Catalog, data_dir: str | os.PathLike):
        self.catalog = catalog
        self.store = ProfileStore(data_dir)

    def names(self) -> list[str]:
        """Profile names, ``default`` first, then by name."""
        return self.catalog.profile_names()

    def create(self, name: str, *, exist_ok: bool = False) -> str:
        """A new profile with no likes; its model is trained on its first recommendations."""
        return self.catalog.add_profile(name, exist_ok=exist_ok)

    def rename(self, old: str, new: str) -> str:
        """Rename a profile: its likes and its model file follow.  Returns the new name."""
        old = self.catalog.find_profile(old)
        new = self.catalog.rename_profile(old, new)
        self.store.rename(old, new)
        return new

    def remove(self, name: str) -> int:
        """Delete a profile with its likes and dislikes and its model file.  Returns how many
        likes and dislikes went with it."""
        name = self.catalog.find_profile(name)
        n = self.catalog.remove_profile(name)
        self.store.remove(name)
        return n

    def model_path(self, name: str) -> Path:
        """Where the profile's recommender model is saved (the file exists once it was trained)."""
        return self.store.path(self.catalog.find_profile(name))
