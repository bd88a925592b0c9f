"""Playback: the player behind the transport bar, the queue panel, the player's events, the volume.

The player (``core.playback.Player``) arrives once it is open (``set_player``); until then, and
without a sound device, a track asked for is still shown (``trackChanged``) and the transport
says why it cannot play.  The player calls back from its own thread; its events reach the GUI
thread batched (``desktop.tasks.Relay``).  State saved: the volume, the play queue, shuffle and
repeat (shown on the transport's buttons and in the Playback menu; the player applies them).

Signals, for the other features:
    trackChanged(object, float)  the current ``PlayItem`` and its duration in seconds (0: unknown)
    stateChanged(str)            the player's state: "playing", "paused", "stopped", "no_device"
    positionChanged(float)       a position to show now (a seek, a position event while not
                                 playing, a stop); while playing, the now-playing timer reads
                                 ``position`` itself
"""
from __future__ import annotations

import dataclasses
import logging

from PySide6.QtCore import QObject, Signal

from desktop.tasks import Relay

log = logging.getLogger(__name__)

#: "previous" restarts the track instead when it has played longer than this (seconds)
RESTART_AFTER_S = 3.0


@dataclasses.dataclass(frozen=True)
class PlayItem:
    """What the desktop hands the player's queue: the player needs ``path``; we need ``id``."""

    id: int
    path: str
    title: str = ""
    artist: str = ""
    duration: float = 0.0

    def label(self) -> str:
        return f"{self.title} — {self.artist}" if self.artist else self.title


class PlaybackPresenter(QObject):
    trackChanged = Signal(object, float)
    stateChanged = Signal(str)
    positionChanged = Signal(float)

    def __init__(self, window, settings, *, library):
        """``library``: the library presenter (track ids to files, the table's order)."""
        super().__init__(window)
        self.window = window
        self.settings = settings
        self.library = library
        self.player = None
        self.current: PlayItem | None = None
        self.state = "stopped"
        self._handlers: dict = {}
        self._unsubscribe = None
        self._queue_restored = False  # the last session's queue goes back to the player once
        self.events = Relay(self, interval_ms=20)
        self.events.delivered.connect(self._on_player_events)

        t = window.transport
        t.set_volume(settings.volume)
        t.playPauseClicked.connect(self.play_pause)
        t.stopClicked.connect(self.stop)
        t.nextClicked.connect(self.next)
        t.previousClicked.connect(self.previous)
        t.volumeChanged.connect(self._on_volume)
        self.shuffle = settings.shuffle
        self.repeat = settings.repeat
        t.shuffleToggled.connect(self.set_shuffle)
        t.repeatClicked.connect(self.cycle_repeat)
        window.shuffle_action.triggered.connect(self.set_shuffle)
        for mode, action in window.repeat_actions.items():
            action.triggered.connect(lambda _checked=False, mode=mode: self.set_repeat(mode))
        self._show_modes()
        window.seekRequested.connect(self.seek)
        q = window.queue_panel
        q.activated.connect(self._play_from_queue)
        q.removeRequested.connect(self._remove_from_queue)
        q.clearRequested.connect(self.clear_queue)

    def set_player(self, player) -> None:
        """The player is open (it may have no device: then it says why)."""
        from core.playback import PlaybackError, Position, QueueChanged, StateChanged, TrackEnded, TrackStarted

        self._handlers = {
            StateChanged: self._on_state_changed, TrackStarted: self._on_track_started,
            TrackEnded: self._on_track_ended, Position: self._on_position,
            PlaybackError: self._on_playback_error, QueueChanged: self._on_queue_changed,
        }
        self.player = player
        player.volume = self.window.transport.volume() / 100.0
        player.shuffle = self.shuffle
        player.repeat = self.repeat
        if not player.available:
            self._no_sound(player.unavailable_reason)
        self._unsubscribe = player.subscribe(self.events)
        self.restore_queue()

    @property
    def position(self) -> float:
        return self.player.position if self.player is not None else 0.0

    # --- what the user asks -----------------------------------------------------------------------
    def _item(self, track_id: int) -> PlayItem | None:
        r = self.library.row(track_id)
        return PlayItem(r.id, r.path, r.title, r.artist, float(r.duration or 0.0)) if r else None

    def _set_current(self, item: PlayItem, duration: float | None = None) -> None:
        self.current = item
        self.trackChanged.emit(item, float(duration or 0.0))

    def play_ids(self, ids: list[int]) -> None:
        """Play the first track now; the others go to the head of the queue."""
        items = [it for it in (self._item(i) for i in ids if i is not None) if it]
        if not items:
            return
        self._set_current(items[0])
        if self.player is not None and self.player.available:
            self.player.play(items[0])
            if len(items) > 1:
                self.player.play_next(*items[1:])

    def enqueue(self, ids: list[int], next_: bool = False) -> None:
        """Add tracks at the end of the queue (``next_``: at its head)."""
        items = [it for it in (self._item(i) for i in ids) if it]
        if not items:
            return
        if self.player is None:
            self.window.statusBar().showMessage("No player: the queue needs playback.", 5000)
            return
        (self.player.play_next if next_ else self.player.enqueue)(*items)
        self.window.queue_dock.raise_()
        more = f" and {len(items) - 1} more" if len(items) > 1 else ""
        self.window.statusBar().showMessage(f"{'Playing next' if next_ else 'Queued'}: {items[0].label()}{more}", 3000)

    def play_pause(self) -> None:
        p = self.player
        if p is None or not p.available:
            self.window.statusBar().showMessage(self.window.notices().get("player", "Playback is not available."), 5000)
            return
        if self.state in ("playing", "paused"):
            p.toggle()
            return
        # stopped: play the selected track, else the current one, else the first one shown
        ids = self.library.selected_ids()
        if not ids and self.current is not None:
            ids = [self.current.id]
        if not ids and self.library.first_id() is not None:
            ids = [self.library.first_id()]
        if ids:
            self.play_ids(ids[:1])

    def stop(self) -> None:
        if self.player is not None:
            self.player.stop()

    def next(self) -> None:
        if self.player is None:
            return
        if self.player.queue:
            self.player.next()
            return
        nxt = self.library.neighbour(self.current.id, +1) if self.current is not None else None
        if nxt is not None:
            self.play_ids([nxt])

    def previous(self) -> None:
        if self.player is None:
            return
        if self.player.history or self.player.position > RESTART_AFTER_S:
            self.player.previous()
            return
        prv = self.library.neighbour(self.current.id, -1) if self.current is not None else None
        if prv is not None:
            self.play_ids([prv])

    def seek(self, seconds: float) -> None:
        seconds = max(0.0, float(seconds))
        if self.player is not None and self.state in ("playing", "paused"):
            self.player.seek(seconds)
        self.positionChanged.emit(seconds)

    def _on_volume(self, percent: int) -> None:
        self.settings.volume = percent
        if self.player is not None:
            self.player.volume = percent / 100.0

    # --- shuffle and repeat ------------------------------------------------------------------------
    REPEAT_ORDER = ("off", "all", "one")

    def set_shuffle(self, on: bool) -> None:
        self.shuffle = bool(on)
        self.settings.shuffle = self.shuffle
        if self.player is not None:
            self.player.shuffle = self.shuffle
        self._show_modes()

    def set_repeat(self, mode: str) -> None:
        self.repeat = mode
        self.settings.repeat = mode
        if self.player is not None:
            self.player.repeat = mode
        self._show_modes()

    def cycle_repeat(self) -> None:
        """Off → all → one → off (the repeat button, Ctrl+R)."""
        self.set_repeat(self.REPEAT_ORDER[(self.REPEAT_ORDER.index(self.repeat) + 1) % len(self.REPEAT_ORDER)])

    def _show_modes(self) -> None:
        self.window.transport.set_shuffle(self.shuffle)
        self.window.transport.set_repeat(self.repeat)
        self.window.shuffle_action.setChecked(self.shuffle)
        self.window.repeat_actions[self.repeat].setChecked(True)

    # --- the queue --------------------------------------------------------------------------------
    def _play_from_queue(self, item) -> None:
        if self.player is None:
            return
        self.player.remove_tracks([item])  # that entry, by identity (the same song may be queued twice)
        self.player.play(item)
        self._set_current(item)

    def _remove_from_queue(self, items) -> None:
        """The entries the panel showed, all at once: the player takes out exactly those, whatever
        it did to its queue since the panel was drawn."""
        if self.player is not None and items:
            self.player.remove_tracks(items)

    def clear_queue(self) -> None:
        if self.player is not None:
            self.player.clear_queue()

    def restore_queue(self) -> None:
        """The last session's queue, once both the rows (track ids -> files) and the player are
        here; tracks gone from the library since are left out."""
        if self._queue_restored or self.player is None or not self.library.has_rows:
            return
        self._queue_restored = True
        items = [it for it in (self._item(tid) for tid in self.settings.queue_ids) if it]
        if items and self.player.available:
            self.player.enqueue(*items)

    # --- what the player says (GUI thread, batched) -------------------------------------------------
    def _on_player_events(self, events: list) -> None:
        for ev in events:
            handler = self._handlers.get(type(ev))
            if handler is not None:
                try:
                    handler(ev)
                except Exception:  # noqa: BLE001 - one bad event must not stop the others
                    log.exception("handling %r", ev)

    def _on_state_changed(self, ev) -> None:
        self.state = ev.state
        self.window.transport.set_playing(ev.state == "playing")
        self.stateChanged.emit(ev.state)
        if ev.state == "no_device":
            self._no_sound(ev.reason)
        elif ev.state == "stopped" and ev.previous != "stopped":
            self.positionChanged.emit(0.0)

    def _no_sound(self, reason: str | None) -> None:
        self.window.set_notice(
            "player", f"No sound: {reason or 'no output device'}. Melograph can still browse, analyse and like tracks.")

    def _on_track_started(self, ev) -> None:
        if isinstance(ev.track, PlayItem):
            self._set_current(ev.track, ev.info.duration if ev.info is not None else None)

    def _on_track_ended(self, ev) -> None:
        # the queue is empty and the track ran out: go on down the table, like a player does
        # (unless repeat is on: then the player itself plays the track or the round again)
        if ev.reason != "finished" or self.player is None or self.player.queue or self.repeat != "off":
            return
        item = ev.track
        if isinstance(item, PlayItem) and self.current is not None and self.current.id == item.id:
            nxt = self.library.neighbour(item.id, +1)
            if nxt is not None:
                self.play_ids([nxt])

    def _on_position(self, ev) -> None:
        transport = self.window.transport
        if ev.duration and abs(ev.duration - transport.duration()) > 0.5:
            transport.set_duration(ev.duration)
        if self.state != "playing":  # while playing, the now-playing timer shows the position
            self.positionChanged.emit(ev.position)

    def _on_playback_error(self, ev) -> None:
        self.window.statusBar().showMessage(ev.message, 10000)
        if ev.kind == "device":
            self.window.set_notice("player", ev.message)
        elif isinstance(ev.track, PlayItem):
            self.library.add_failures([(ev.track.path, ev.message)])

    def _on_queue_changed(self, ev) -> None:
        self.window.queue_panel.set_items([
            (it, it.label(), it.duration) if isinstance(it, PlayItem) else (it, str(it), 0.0) for it in ev.queue])
        if self._queue_restored:  # (before that, the new player's empty queue is not the user's)
            self.settings.queue_ids = [it.id for it in ev.queue if isinstance(it, PlayItem)]

    def shutdown(self) -> None:
        """Stop listening to the player (the composition root closes it)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
