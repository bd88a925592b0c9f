"""Profiles: whose likes the table shows and whose recommendations are made, picked in the
recommendations panel; switch, create, rename, remove (``core.profiles.Profiles`` changes a
profile's catalog rows and its model file together).  State saved: the current profile.

Signal:
    profileChanged(str)   the current profile is now this one
"""
from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

from desktop.tasks import TaskRunner

log = logging.getLogger(__name__)


class ProfilesPresenter(QObject):
    profileChanged = Signal(str)

    def __init__(self, window, settings, *, writer: TaskRunner, data_dir):
        super().__init__(window)
        self.window = window
        self.settings = settings
        self.writer = writer
        self.data_dir = data_dir
        self.catalog = None
        self.profiles = None  # core.profiles.Profiles, once the catalog is open
        self.current: str | None = None  # known once the catalog is open
        panel = window.recommendations
        panel.profileSelected.connect(self.switch)
        panel.profileCreateRequested.connect(self.create)
        panel.profileRenameRequested.connect(self.rename)
        panel.profileRemoveRequested.connect(self.remove)

    def set_catalog(self, catalog) -> None:
        """The catalog is open: back to the last session's profile, if it still exists."""
        from core.catalog import DEFAULT_PROFILE, CatalogError
        from core.profiles import Profiles

        self.catalog = catalog
        self.profiles = Profiles(catalog, self.data_dir)
        try:
            catalog.profile = catalog.find_profile(self.settings.profile)
        except CatalogError as exc:  # removed meanwhile (from the CLI): the default profile
            log.info("profile %r: %s", self.settings.profile, exc)
            catalog.profile = DEFAULT_PROFILE
        self.current = catalog.profile
        self._show()

    def _show(self) -> None:
        self.window.recommendations.set_profiles(self.profiles.names(), self.current)

    def switch(self, name: str) -> None:
        """Show ``name``'s likes and recommendations; remembered for the next session."""
        from core.catalog import CatalogError

        if self.catalog is None:
            return
        try:
            self.catalog.profile = self.catalog.find_profile(name)
        except CatalogError as exc:  # e.g. removed from the CLI meanwhile
            self.window.show_error("Cannot switch profile", exc)
            self._show()
            return
        self.current = self.catalog.profile
        self.settings.profile = self.current
        self._show()
        self.profileChanged.emit(self.current)
        self.window.statusBar().showMessage(f"Profile: {self.current}.", 3000)

    def create(self, name: str) -> None:
        """Add a profile (an existing name just switches to it) and switch to it."""
        if self.profiles is not None:
            self.writer.submit(self.profiles.create, name, exist_ok=True, on_result=self.switch,
                               on_error=lambda exc, tb: self.window.show_error("The profile could not be created", exc))

    def rename(self, old: str, new: str) -> None:
        """Rename a profile (its likes and its recommender model follow) and show it."""
        if self.profiles is not None:
            self.writer.submit(self.profiles.rename, old, new, on_result=self.switch,
                               on_error=lambda exc, tb: self.window.show_error("The profile could not be renamed", exc))

    def remove(self, name: str) -> None:
        """Remove a profile with its likes (the panel asked first); the default profile is shown."""
        from core.catalog import DEFAULT_PROFILE

        if self.profiles is None:
            return

        def done(n):
            self.switch(DEFAULT_PROFILE)
            self.window.statusBar().showMessage(f"Removed the profile “{name}” and its {n} like(s)/dislike(s).", 6000)

        self.writer.submit(self.profiles.remove, name, on_result=done,
                           on_error=lambda exc, tb: self.window.show_error("The profile could not be removed", exc))
