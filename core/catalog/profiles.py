"""Profiles: the people sharing a computer, each with their own likes.

``profiles`` holds the names (unique regardless of case).  The profile named ``default`` (id 1)
always exists, holds the likes made before there were profiles, and cannot be removed or
renamed.  :attr:`ProfileStore.profile` is the current profile: whose ratings a call without
``profile=`` means, and whose rating ``Track.rating`` carries.
"""
from __future__ import annotations

import time

from core.catalog.db import CatalogError, Database
from core.catalog.rows import DEFAULT_PROFILE, Profile, check_profile_name


class ProfileStore(Database):
    """The profile rows and the current profile (a part of :class:`core.catalog.Catalog`)."""

    _profile = DEFAULT_PROFILE

    @property
    def profile(self) -> str:
        """The current profile.  ``"default"`` until set; setting it to a name that is not in
        the catalog raises :class:`CatalogError` (create it first)."""
        return self._profile

    @profile.setter
    def profile(self, name: str) -> None:
        name = check_profile_name(name)
        self._pid(name)  # CatalogError when there is no such profile
        self._profile = name

    def _profile_id(self, name: str) -> int | None:
        row = self.fetchone("SELECT id FROM profiles WHERE name = ?", (name,))
        return None if row is None else int(row[0])

    def _no_profile(self, name: str) -> CatalogError:
        return CatalogError(f"no profile named {name!r} (profiles: {', '.join(self.profile_names())})")

    def _pid(self, profile: str | None) -> int:
        """The id of ``profile`` (None: the current one); CatalogError when there is none."""
        name = self.profile if profile is None else check_profile_name(profile)
        pid = self._profile_id(name)
        if pid is None:
            raise self._no_profile(name)
        return pid

    def _pid_or_none(self, profile: str | None) -> int:
        """For reads: an unknown profile simply has no ratings (id -1 matches none)."""
        try:
            return self._pid(profile)
        except CatalogError:
            return -1

    def find_profile(self, name: str | None) -> str:
        """The stored name of profile ``name`` (names match regardless of case; None: the
        current profile).  :class:`CatalogError` saying how to create it when there is none."""
        if name is None:
            return self.profile
        name = check_profile_name(name)
        row = self.fetchone("SELECT name FROM profiles WHERE name = ?", (name,))
        if row is None:
            raise CatalogError(f"{self._no_profile(name)}; create it with: python main.py profiles add {name!r}")
        return row[0]

    def profile_names(self) -> list[str]:
        """Profile names, ``default`` first, then by name (case-insensitive)."""
        return [r[0] for r in self.fetchall("SELECT name FROM profiles ORDER BY id != 1, name COLLATE NOCASE")]

    def profiles(self) -> list[Profile]:
        """Every profile with its like and dislike counts, ``default`` first."""
        rows = self.fetchall(
            "SELECT p.id, p.name, p.created_at, COALESCE(SUM(r.rating = 1), 0), COALESCE(SUM(r.rating = -1), 0) "
            "FROM profiles p LEFT JOIN ratings r ON r.profile_id = p.id GROUP BY p.id "
            "ORDER BY p.id != 1, p.name COLLATE NOCASE")
        return [Profile(*r) for r in rows]

    def add_profile(self, name: str, *, exist_ok: bool = False, now: float | None = None) -> str:
        """Create a profile (names are unique regardless of case).  Returns its stored name."""
        name = check_profile_name(name)
        with self.transaction():
            row = self.fetchone("SELECT name FROM profiles WHERE name = ?", (name,))
            if row is not None:
                if exist_ok:
                    return row[0]
                raise CatalogError(f"a profile named {row[0]!r} already exists")
            self.execute("INSERT INTO profiles(name, created_at) VALUES (?, ?)",
                         (name, time.time() if now is None else now))
        return name

    def rename_profile(self, old: str, new: str) -> str:
        """Rename a profile (its likes follow).  ``default`` keeps its name."""
        old, new = check_profile_name(old), check_profile_name(new)
        with self.transaction():
            pid = self._pid(old)
            if pid == 1:
                raise CatalogError("the default profile cannot be renamed (create another one instead)")
            clash = self._profile_id(new)
            if clash is not None and clash != pid:
                raise CatalogError(f"a profile named {new!r} already exists")
            self.execute("UPDATE profiles SET name = ? WHERE id = ?", (new, pid))
        if self.profile.casefold() == old.casefold():
            self._profile = new
        return new

    def remove_profile(self, name: str) -> int:
        """Delete a profile and its likes and dislikes (the only way besides ``set_rating(t, 0)``
        that ratings go).  ``default`` cannot be removed.  Returns how many ratings went with it."""
        name = check_profile_name(name)
        with self.transaction():
            pid = self._pid(name)
            if pid == 1:
                raise CatalogError("the default profile cannot be removed")
            n = self.execute("DELETE FROM ratings WHERE profile_id = ?", (pid,))
            self.execute("DELETE FROM profiles WHERE id = ?", (pid,))
        if self.profile.casefold() == name.casefold():
            self._profile = DEFAULT_PROFILE
        return n
