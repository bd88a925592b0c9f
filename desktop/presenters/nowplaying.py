"""Now playing: the current track's title and like state, its spectrogram, its genre chart, and
the playhead, redrawn every ``FRAME_MS`` while music plays.

The spectrogram is computed in a helper process (``desktop.specworker``).  The genres are the
library analysis's result for the track, read from the catalog (``core.catalog.AnalysisResult``);
a track without one jumps the analysis queue (``AnalysisPresenter.prioritize``) and the chart
fills in when the service reports it (``on_analysed``).
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer

from desktop.specworker import DisplaySpectrograms
from desktop.tasks import TaskRunner

#: the playhead is redrawn this often while playing (ms): 33 frames per second
FRAME_MS = 30
#: the now-playing cover is loaded at this size (pixels a side; shown at half of it, sharp on
#: screens that double their pixels)
COVER_PIXELS = 128
#: the spectrogram helper process is started this long after the player is ready (ms)
SPECTROGRAM_WARM_MS = 3000


class NowPlayingPresenter(QObject):
    def __init__(self, window, *, reader: TaskRunner, library, playback, analysis, covers=None):
        """``library``: the table's rows (album, duration, like state) and likes; ``playback``:
        the player's position and state; ``analysis``: the queue a track without genres jumps;
        ``covers``: the cover thumbnails (``desktop.covers.CoverCache``; None: no covers)."""
        super().__init__(window)
        self.window = window
        self.reader = reader
        self.library, self.playback, self.analysis = library, playback, analysis
        self.catalog = None
        self.track = None  # the PlayItem shown
        self._closing = False

        self.spectrograms = DisplaySpectrograms(self)
        self.spectrograms.ready.connect(self._on_spectrogram)
        self.spectrograms.failed.connect(self._on_spectrogram_error)
        self.frame_timer = QTimer(self)
        self.frame_timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.frame_timer.setInterval(FRAME_MS)
        self.frame_timer.timeout.connect(self._on_frame)
        window.transport.ratingChanged.connect(self._rate)
        self.covers = covers
        if covers is not None:
            covers.ready.connect(self._on_cover)

    def set_catalog(self, catalog) -> None:
        self.catalog = catalog

    def player_ready(self, available: bool) -> None:
        """Start the spectrogram helper before the first track is played."""
        if available:
            QTimer.singleShot(SPECTROGRAM_WARM_MS, self._warm_spectrograms)

    def _warm_spectrograms(self) -> None:
        if not self._closing:  # spawning a process takes tens of ms: on a worker, not here
            self.reader.submit(self.spectrograms.warm_up)

    # --- the track ----------------------------------------------------------------------------------
    def show(self, item, duration: float) -> None:
        """Show ``item`` (a ``PlayItem``): title, like state, spectrogram, genres."""
        w = self.window
        row = self.library.row(item.id)
        same = self.track is not None and self.track.id == item.id
        self.track = item
        w.set_now_playing(item.title, item.artist, row.album if row else None)
        self._show_cover()
        w.transport.set_rating(row.rating if row else 0)
        duration = duration or (row.duration if row else None) or 0.0
        if duration:
            w.transport.set_duration(duration)
        self.library.mark_playing(item.id)
        if same:
            return
        w.spectrogram.set_placeholder("Drawing the spectrogram…")
        w.genre_chart.set_placeholder(self.analysis.pending_text())
        self._read_analysis(item.id)
        self.spectrograms.request(item.id, item.path)

    def _is_shown(self, track_id: int) -> bool:
        return self.track is not None and self.track.id == track_id

    def _rate(self, value: int) -> None:
        if self.track is not None:
            self.library.rate([self.track.id], value)

    def on_rated(self, ids: list, value: int) -> None:
        if self.track is not None and self.track.id in ids:
            self.window.transport.set_rating(value)

    def rows_shown(self) -> None:
        """The table's rows were read again (another profile's likes, say): the like state follows."""
        row = self.library.row(self.track.id) if self.track is not None else None
        if row is not None:
            self.window.transport.set_rating(row.rating)

    # --- the cover ----------------------------------------------------------------------------------
    def _show_cover(self) -> None:
        """The track's cover from memory, else the placeholder until ``_on_cover`` brings it."""
        if self.covers is None or self.track is None:
            self.window.set_cover(None)
            return
        self.window.set_cover(self.covers.pixmap(self.track.path, COVER_PIXELS))

    def _on_cover(self, path: str, size: int) -> None:
        if size == COVER_PIXELS and self.track is not None and self.track.path == path:
            self.window.set_cover(self.covers.pixmap(path, size))

    # --- genres -------------------------------------------------------------------------------------
    def _read_analysis(self, track_id: int) -> None:
        if self.catalog is None:
            return
        self.reader.submit(self.catalog.track_analysis, track_id,
                           on_result=lambda result, tid=track_id: self._on_analysis(tid, result),
                           on_error=lambda exc, tb, tid=track_id: self._on_analysis(tid, None))

    def _on_analysis(self, track_id: int, result) -> None:
        if not self._is_shown(track_id):
            return
        if result is None:
            self.analysis.prioritize(track_id)
            self.window.genre_chart.set_placeholder(self.analysis.pending_text())
            return
        row = self.library.row(track_id)
        self.window.genre_chart.set_track(
            result.classes, result.window_probs, result.track_probs, result.window_s, result.hop_s,
            duration=result.duration or (row.duration if row else None),
            music_cells=getattr(result, "music_cells", None), is_music=getattr(result, "is_music", None),
            kind=getattr(result, "music_kind", None), music_probability=getattr(result, "music_probability", None),
        )
        self._show_player_position()

    def on_analysed(self, track_ids: list) -> None:
        if self.track is not None and self.track.id in track_ids and not self.window.genre_chart.has_data:
            self._read_analysis(self.track.id)

    def on_analysis_failed(self, track_id: int, reason: str) -> None:
        if self._is_shown(track_id):
            self.window.genre_chart.set_placeholder(f"Could not tag the genres of this track: {reason}")

    def on_model_problem(self, _sentence: str) -> None:
        if self.track is not None and not self.window.genre_chart.has_data:
            self.window.genre_chart.set_placeholder(self.analysis.pending_text())

    # --- spectrogram --------------------------------------------------------------------------------
    def _on_spectrogram(self, track_id: int, result) -> None:
        if not self._is_shown(track_id):
            return
        S, duration = result
        self.window.spectrogram.set_spectrogram(S, columns_per_second=S.shape[1] / max(duration, 1e-6), duration=duration)
        self._show_player_position()

    def _on_spectrogram_error(self, track_id: int, exc) -> None:
        if self._is_shown(track_id):
            self.window.spectrogram.set_placeholder(f"No spectrogram: {exc}")

    # --- the playhead -------------------------------------------------------------------------------
    def player_state_changed(self, state: str) -> None:
        if state == "playing":
            self.frame_timer.start()
        else:
            self.frame_timer.stop()

    def _on_frame(self) -> None:
        if self.window.isMinimized() or not self.window.isVisible():
            return  # nothing to draw: save the CPU for the audio and the analysis
        self.show_position(self.playback.position)

    def _show_player_position(self) -> None:
        if self.playback.state in ("playing", "paused"):
            self.show_position(self.playback.position)

    def show_position(self, seconds: float) -> None:
        w = self.window
        w.transport.set_position(seconds)
        w.spectrogram.set_position(seconds)
        w.genre_chart.set_position(seconds)

    def shutdown(self) -> None:
        self._closing = True
        self.frame_timer.stop()
        self.spectrograms.shutdown()
