"""Listening history: counts plays and skips as the player reports them, keeps the table's
Plays / Last played / Skips columns and the "Recently played" panel up to date.

What counts (:mod:`core.playback.listens`): a play once a track has been heard for half its
length or 4 minutes, or played to its end; a skip when it is left within its first 30 s.  Each
listen is stored for the current profile on the catalog's writer thread
(:meth:`core.catalog.Catalog.record_listen`).  State saved: whether the table shows the history
columns (View ▸ Listening history columns; hidden by default).
"""
from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QHeaderView

from desktop.librarymodel import (
    COL_ALBUM, COL_ARTIST, COL_LAST_PLAYED, COL_PLAYS, COL_PREDICTED, COL_SKIPS, COL_TAG, COL_TITLE, HISTORY_COLUMNS,
)
from desktop.presenters.playback import PlayItem
from desktop.tasks import TaskRunner

log = logging.getLogger(__name__)

#: how many tracks the "Recently played" panel lists
RECENT_LIMIT = 100
#: the history columns' widths when first shown (pixels): compact, the Title column keeps the rest
COLUMN_WIDTHS = {COL_PLAYS: 48, COL_LAST_PLAYED: 90, COL_SKIPS: 46}
#: showing them narrows these columns (to no less than these widths) so that Title keeps MIN_TITLE
SHRINKABLE = {COL_ARTIST: 70, COL_ALBUM: 70, COL_TAG: 70, COL_PREDICTED: 104}
MIN_TITLE = 200


class HistoryPresenter(QObject):
    """``listened(track_id, kind)`` once a play or a skip is stored."""

    listened = Signal(int, str)

    def __init__(self, window, settings, *, reader: TaskRunner, writer: TaskRunner, library, playback, profiles):
        super().__init__(window)
        self.window = window
        self.settings = settings
        self.reader = reader
        self.writer = writer
        self.library = library
        self.playback = playback
        self.profiles = profiles
        self.catalog = None
        self.counter = None  # a core.playback.listens.ListenCounter once the player talks (numpy comes with it)
        self._generation = 0
        self._closed = False
        # the player's events as the playback presenter receives them (GUI thread, in order)
        playback.events.delivered.connect(self._on_player_events)
        window.history_panel.activated.connect(lambda tid: playback.play_ids([tid]))
        action = window.history_columns_action
        action.setChecked(settings.history_columns)
        action.toggled.connect(self.show_columns)
        self.show_columns(settings.history_columns)

    def set_catalog(self, catalog) -> None:
        self.catalog = catalog
        self.refresh()

    def profile_changed(self, _name: str) -> None:
        self.refresh()

    # --- the table's columns ------------------------------------------------------------------------
    def show_columns(self, on: bool) -> None:
        """Show or hide the Plays, Last played and Skips columns (remembered)."""
        self.settings.history_columns = bool(on)
        header = self.window.library_view.horizontalHeader()
        for col in HISTORY_COLUMNS:
            if on and header.isSectionHidden(col) and header.sectionSize(col) in (0, header.defaultSectionSize()):
                header.resizeSection(col, COLUMN_WIDTHS[col])
            header.setSectionHidden(col, not on)
            if on:
                header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
        if on:
            self._keep_title_readable()

    def _keep_title_readable(self) -> None:
        """Narrow the Artist, Album, Genre tag and Predicted genre columns together (to no less
        than their ``SHRINKABLE`` widths) until the Title column, which takes the spare width, has
        ``MIN_TITLE``."""
        view = self.window.library_view
        header = view.horizontalHeader()
        width = view.viewport().width()
        others = [c for c in range(header.count()) if c != COL_TITLE and not header.isSectionHidden(c)]
        short = MIN_TITLE - (width - sum(header.sectionSize(c) for c in others))
        if short <= 0 or width <= 0:
            return
        shrinkable = {c: header.sectionSize(c) - least for c, least in SHRINKABLE.items() if c in others}
        room = sum(max(0, v) for v in shrinkable.values())
        if room <= 0:
            return
        take = min(1.0, short / room)
        for c, spare in shrinkable.items():
            if spare > 0:
                header.resizeSection(c, header.sectionSize(c) - int(round(spare * take)))

    # --- counting -----------------------------------------------------------------------------------
    def _on_player_events(self, events: list) -> None:
        if self.counter is None:
            from core.playback.listens import ListenCounter

            self.counter = ListenCounter(self._on_listen)
        for ev in events:
            try:
                self.counter.feed(ev)
            except Exception:  # noqa: BLE001 - a bad event must not stop the count of the others
                log.exception("counting %r", ev)

    def _on_listen(self, item, kind: str) -> None:
        if not isinstance(item, PlayItem) or self.catalog is None or self._closed:
            return
        profile = self.profiles.current

        def failed(exc, _tb):
            self.window.statusBar().showMessage(f"The play of {item.label()} was not counted: {exc}", 8000)

        self.writer.submit(self.catalog.record_listen, item.id, kind, profile=profile,
                           on_result=lambda stats: self._stored(item.id, kind, profile, stats), on_error=failed)

    def _stored(self, track_id: int, kind: str, profile: str | None, stats) -> None:
        if profile != self.profiles.current or self._closed:
            return  # the table shows another profile's history now (or the app is closing)
        self.library.model.set_history(track_id, stats.plays, stats.skips, stats.last_played_at)
        if kind == "play":
            self.refresh()
        self.listened.emit(track_id, kind)

    # --- recently played ------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Reload the "Recently played" panel (the current profile's)."""
        if self.catalog is None or self._closed:
            return
        self._generation += 1
        generation, profile = self._generation, self.profiles.current

        def fetch(catalog=self.catalog):
            return [(r.track.id, r.track.display_title, r.track.artist or "", r.stats.last_played_at, r.stats.plays)
                    for r in catalog.recently_played(RECENT_LIMIT, profile=profile)]

        self.reader.submit(fetch, on_result=lambda items: self._show(generation, items))

    def _show(self, generation: int, items) -> None:
        if generation == self._generation:
            self.window.history_panel.set_items(items)

    def shutdown(self) -> None:
        self._closed = True
        self._generation += 1
