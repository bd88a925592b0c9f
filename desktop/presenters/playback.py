"""Playback: the player behind the transport bar, the queue panel, the player's events, the volume.

The player (``core.playback.Player``) arrives once it is open (``set_player``); until then, and
without a sound device, a track asked for is still shown (``trackChanged``) and the transport
says why it cannot play.  The player calls back from its own thread; its events reach the GUI
thread batched (``desktop.tasks.Relay``).  State saved: the volume, the play queue, shuffle and
repeat (shown on the transport's buttons and in the Playback menu; the player applies them), and
where playback left off: at the next start that track comes back paused at that position;
what "Play these" does to a queue that is not empty, once the user said not to ask again.
When the queue runs out, the player goes on with the table's rows as they are shown (its
source, ``core.playback.ViewSource``): the next row, or with shuffle a row not played yet in
this round; repeat-all goes round the rows.

Signals, for the other features:
    trackChanged(object, float)  the current ``PlayItem`` and its duration in seconds (0: unknown)
    stateChanged(str)            the player's state: "playing", "paused", "stopped", "no_device"
    positionChanged(float)       a position to show now (a seek, a position event while not
                                 playing, a stop); while playing, the now-playing timer reads
                                 ``position`` itself
    seeked(float)                the user (or a desktop controller) moved the playhead there
    modesChanged()               the volume, shuffle or repeat changed
"""
from __future__ import annotations

import dataclasses
import logging

from PySide6.QtCore import QObject, QTimer, Signal

from desktop.tasks import Relay

log = logging.getLogger(__name__)

#: "previous" restarts the track instead when it has played longer than this (seconds)
RESTART_AFTER_S = 3.0
#: while playing, where playback is gets written down this often (ms), so that even a killed app
#: comes back within a few seconds of where it was
SAVE_POSITION_MS = 5000


@dataclasses.dataclass(frozen=True)
class PlayItem:
    """What the desktop hands the player's queue: the player needs ``path`` (and, for volume
    levelling, the ``rg_*`` ReplayGain values and the ``measured_*`` gains); we need ``id``."""

    id: int
    path: str
    title: str = ""
    artist: str = ""
    duration: float = 0.0
    rg_track_gain: float | None = None
    rg_track_peak: float | None = None
    rg_album_gain: float | None = None
    rg_album_peak: float | None = None
    measured_track_gain: float | None = None
    measured_track_peak: float | None = None
    measured_album_gain: float | None = None

    def label(self) -> str:
        return f"{self.title} — {self.artist}" if self.artist else self.title


class PlaybackPresenter(QObject):
    trackChanged = Signal(object, float)
    stateChanged = Signal(str)
    positionChanged = Signal(float)
    seeked = Signal(float)
    modesChanged = Signal()

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
        self._save_timer = QTimer(self)
        self._save_timer.setInterval(SAVE_POSITION_MS)
        self._save_timer.timeout.connect(self.save_resume_point)
        self._resumed: PlayItem | None = None  # the last session's track, loaded paused

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
        window.stop_after_action.toggled.connect(self.set_stop_after)
        for mode, action in window.repeat_actions.items():
            action.triggered.connect(lambda _checked=False, mode=mode: self.set_repeat(mode))
        self._show_modes()
        window.seekRequested.connect(self.seek)
        q = window.queue_panel
        q.activated.connect(self._play_from_queue)
        q.removeRequested.connect(self._remove_from_queue)
        q.clearRequested.connect(self.clear_queue)
        q.moveRequested.connect(self._move_in_queue)
        q.moveToTopRequested.connect(self._move_to_top)
        q.showRequested.connect(self._show_queued)

    def set_player(self, player) -> None:
        """The player is open (it may have no device: then it says why)."""
        from core.playback import PlaybackError, Position, QueueChanged, StateChanged, TrackStarted, ViewSource

        self._handlers = {
            StateChanged: self._on_state_changed, TrackStarted: self._on_track_started,
            Position: self._on_position,
            PlaybackError: self._on_playback_error, QueueChanged: self._on_queue_changed,
        }
        if self._unsubscribe is not None:  # the player is replaced (another output device)
            self._unsubscribe()
        self.player = player
        player.volume = self.window.transport.volume() / 100.0
        player.stop_after_current = self.window.stop_after_action.isChecked()
        player.shuffle = self.shuffle
        player.repeat = self.repeat
        if not player.available:
            self._no_sound(player.unavailable_reason)
        self._unsubscribe = player.subscribe(self.events)
        # once the queue runs out: the table's rows as shown now (in order, or shuffled)
        player.set_source(ViewSource(self.library.model.visible_rows, make=self._item_of_row))
        self.restore_queue()

    @property
    def position(self) -> float:
        return self.player.position if self.player is not None else 0.0

    # --- what the user asks -----------------------------------------------------------------------
    def _item(self, track_id: int) -> PlayItem | None:
        r = self.library.row(track_id)
        return self._item_of_row(r) if r else None

    @staticmethod
    def _item_of_row(r) -> PlayItem:
        """A table row's ``PlayItem`` (called on the player's thread too: reads the row only)."""
        return PlayItem(r.id, r.path, r.title, r.artist, float(r.duration or 0.0), r.rg_track_gain, r.rg_track_peak,
                        r.rg_album_gain, r.rg_album_peak, r.measured_track_gain, r.measured_track_peak,
                        r.measured_album_gain)

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

    def play_these(self, ids: list[int]) -> None:
        """Play several tracks ("Play these"): the first now and the others next, in place of
        the queue, or after what is queued: a queue that is not empty makes it ask which
        (unless the user said not to ask again)."""
        items = [it for it in (self._item(i) for i in ids if i is not None) if it]
        if not items:
            return
        if self.player is None or not self.player.available:
            self.play_ids([it.id for it in items])
            return
        queued = len(self.player.queue)
        choice = "replace"
        if queued:
            choice = self.settings.play_these
            if choice == "ask":
                from desktop.playthese import ask_replace_or_append

                choice, remember = ask_replace_or_append(self.window, queued, len(items))
                if choice is None:
                    return
                if remember:
                    self.settings.play_these = choice
        if choice == "replace":
            self.player.clear_queue()
            self._set_current(items[0])
            self.player.play(items[0])
            if len(items) > 1:
                self.player.play_next(*items[1:])
            return
        self.player.enqueue(*items)
        if self.state not in ("playing", "paused"):
            self.player.play()  # nothing playing: the queue starts
        self.window.queue_dock.raise_()
        self.window.statusBar().showMessage(f"Queued {len(items)} track{'s' if len(items) != 1 else ''} after the "
                                            f"{queued} already there.", 3000)

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
        """The next queued track, else the next row of the table (shuffled: a row not played
        yet), through the player's source."""
        if self.player is None:
            return
        if not self.player.available:
            self.window.statusBar().showMessage(self.window.notices().get("player", "Playback is not available."), 5000)
            return
        self.player.next()

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
        self.seeked.emit(seconds)

    def _on_volume(self, percent: int) -> None:
        self.settings.volume = percent
        if self.player is not None:
            self.player.volume = percent / 100.0
        self.modesChanged.emit()

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
        self.modesChanged.emit()

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

    def _move_in_queue(self, items, before) -> None:
        """Entries dragged to another place (or to the bottom: ``before`` None), by identity."""
        if self.player is not None and items:
            self.player.move_tracks(items, before)

    def _move_to_top(self, items) -> None:
        if self.player is not None and items:
            self.player.move_tracks_to_top(items)

    def _show_queued(self, item) -> None:
        path = getattr(item, "path", None) or (item if isinstance(item, str) else None)
        if path:
            self.library.show_path_folder(path)

    def restore_queue(self) -> None:
        """The last session's queue, once both the rows (track ids -> files) and the player are
        here; tracks gone from the library since are left out."""
        if self._queue_restored or self.player is None or not self.library.has_rows:
            return
        self._queue_restored = True
        self._resume()
        items = [it for it in (self._item(tid) for tid in self.settings.queue_ids) if it]
        if items and self.player.available:
            self.player.enqueue(*items)

    # --- where playback left off ----------------------------------------------------------------------
    def save_resume_point(self) -> None:
        """Write the current track and the position in it to the settings file now (paused,
        stopped: at 0, on quit, and every few seconds while playing)."""
        if self.current is None:
            return
        position = self.position if self.state in ("playing", "paused") else 0.0
        self.settings.resume = (self.current.id, position)
        self.settings.resume_label = self.current.label()
        self.settings.sync()

    def _resume(self) -> None:
        """The last session's track, paused where it was left, with its now-playing view; a track
        gone from the library or a file that cannot be read any more is passed over with a line
        in the status bar."""
        saved = self.settings.resume
        if saved is None or self.current is not None:  # (a track asked for already wins)
            return
        track_id, position = saved
        item = self._item(track_id)
        problem = ("it is no longer in the library (the file is gone, or its folder was taken out)"
                   if item is None else _unreadable(item.path))
        if problem:
            name = item.label() if item is not None else (self.settings.resume_label or "the last track")
            self.settings.resume = None
            self.window.statusBar().showMessage(f"Not resuming {name}: {problem}.", 10000)
            return
        if item.duration and position >= item.duration - 1.0:
            position = 0.0
        self._set_current(item, item.duration)
        self.positionChanged.emit(position)
        if self.player is not None and self.player.available:
            self._resumed = item
            self.player.play(item, start=position, paused=True)

    # --- what the player says (GUI thread, batched) -------------------------------------------------
    def _on_player_events(self, events: list) -> None:
        for ev in events:
            handler = self._handlers.get(type(ev))
            if handler is not None:
                try:
                    handler(ev)
                except Exception:  # noqa: BLE001 - one bad event must not stop the others
                    log.exception("handling %r", ev)

    def set_stop_after(self, on: bool) -> None:
        """Playback ▸ Stop after current track."""
        if self.player is not None:
            self.player.stop_after_current = on

    def _on_state_changed(self, ev) -> None:
        self.state = ev.state
        if ev.state == "stopped" and self.player is not None and not self.player.stop_after_current:
            self.window.stop_after_action.setChecked(False)  # it did its job (or was never on)
        if ev.state == "stopped":
            self.window.transport.set_levelling_text("")
        self.window.transport.set_playing(ev.state == "playing")
        self.stateChanged.emit(ev.state)
        if ev.state == "playing":
            self._save_timer.start()
        else:
            self._save_timer.stop()
            if ev.state in ("paused", "stopped") and ev.previous != ev.state:
                self.save_resume_point()
        if ev.state == "no_device":
            self._no_sound(ev.reason)
        elif ev.state == "stopped" and ev.previous != "stopped":
            self.positionChanged.emit(0.0)

    def _no_sound(self, reason: str | None) -> None:
        name = getattr(self.player, "output_name", None) if self.player is not None else None
        where = (f" from “{name}” — connect it again and use Edit ▸ Preferences ▸ Look for new devices"
                 if name else "")
        self.window.set_notice(
            "player", f"No sound{where}: {reason or 'no output device'}. Melograph can still browse, analyse "
                      "and like tracks.")

    def _on_track_started(self, ev) -> None:
        if isinstance(ev.track, PlayItem):
            self._set_current(ev.track, ev.info.duration if ev.info is not None else None)
            self.show_levelling()

    def show_levelling(self) -> None:
        """The volume's tooltip says what levelling does to the playing track."""
        item, player = self.current, self.player
        text = player.levelling.describe(item) if player is not None and item is not None else ""
        self.window.transport.set_levelling_text(text)

    def _on_position(self, ev) -> None:
        transport = self.window.transport
        if ev.duration and abs(ev.duration - transport.duration()) > 0.5:
            transport.set_duration(ev.duration)
        if self.state != "playing":  # while playing, the now-playing timer shows the position
            self.positionChanged.emit(ev.position)

    def _on_playback_error(self, ev) -> None:
        if ev.kind != "device" and ev.track is not None and ev.track is self._resumed:  # the last session's file fails
            self._resumed = None
            self.settings.resume = None
            if self.current is ev.track:
                self.current = None
            self.window.statusBar().showMessage(f"Not resuming {ev.track.label()}: {ev.message}", 10000)
            self.library.add_failures([(ev.track.path, ev.message)])
            return
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
        """Write down where playback is and stop listening to the player (the composition root
        closes it)."""
        self._save_timer.stop()
        self.save_resume_point()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None


def _unreadable(path: str) -> str | None:
    """Why the file at ``path`` cannot be played any more (None: it can be opened)."""
    import os

    if not os.path.isfile(path):
        return "the file is gone" if not os.path.exists(path) else "it is not a regular file"
    try:
        with open(path, "rb") as f:
            f.read(1)
    except OSError as exc:
        return f"the file cannot be read ({exc.strerror or exc})"
    return None
