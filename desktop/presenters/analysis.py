"""The library's genre analysis: the analysis service (``analysis.service``, worker processes),
its progress in the status bar, pause / resume / retry, and which track goes first.

Start-up: ``start_later()`` (once the library is on screen) checks the model on a worker thread
(``models.card.model_problem``; a missing or unusable model is a sentence in the window, and the
app still plays), then starts the service ``ANALYSIS_DELAY_MS`` later.  The service calls back
from its own thread; its events reach the GUI thread batched.  State saved: the number of
workers.  The playing track and the track under the cursor jump the queue (``prioritize``).

Signals, for the other features:
    tracksAnalysed(list)      track ids whose results are now in the catalog
    trackFailed(int, str)     a track the analysis gave up on, and why
    libraryAnalysed()         the queue is empty: every track has its genres
    modelProblem(str)         the sentence saying why genres cannot be tagged (no usable model)
"""
from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from desktop.tasks import Relay, TaskRunner

log = logging.getLogger(__name__)

#: what the genre chart says about a track not analysed yet, while the service is on it
GENRES_PENDING = "Not analysed yet — analysing… (the genres appear here in a few seconds)"


def check_model() -> tuple[str | None, Path]:
    """``(why genres cannot be tagged or None, the model directory)``.  Imports ``models.card``
    (and with it numpy): call it on a worker thread."""
    from models import card

    return card.model_problem(), card.model_dir()


def _default_service(catalog, **kwargs):
    from analysis.service import AnalysisService

    return AnalysisService(catalog, **kwargs)


class AnalysisPresenter(QObject):
    tracksAnalysed = Signal(list)
    trackFailed = Signal(int, str)
    libraryAnalysed = Signal()
    modelProblem = Signal(str)

    #: the service starts this long after the model check (start-up comes first; tests set 0)
    ANALYSIS_DELAY_MS = 2000

    def __init__(self, window, settings, *, reader: TaskRunner, writer: TaskRunner, library, service_factory=None):
        """``library``: the library presenter (the results go into its table, failures into its
        panel); ``service_factory(catalog, *, model_dir, workers, playing, on_progress, on_track,
        on_state)`` makes the service (default: ``analysis.service.AnalysisService``)."""
        super().__init__(window)
        self.window = window
        self.settings = settings
        self.reader, self.writer = reader, writer
        self.library = library
        self.service_factory = service_factory or _default_service
        self.catalog = None
        self.service = None
        self.model_problem: str | None = None
        self._model_dir = None
        self._wanted = False  # start_later() was called
        self._playing = False
        self._paused_for_music = False  # paused by the "pause while music plays" preference
        self._reason: str | None = None  # why the service is unavailable
        self._closing = False
        self.events = Relay(self, interval_ms=100)
        self.events.delivered.connect(self._on_events)

        window.set_workers(settings.workers)
        window.workersChanged.connect(self._on_workers)
        window.analysisPauseRequested.connect(self._on_pause_requested)
        window.retryAnalysisRequested.connect(self.retry_failed)

    def set_catalog(self, catalog) -> None:
        self.catalog = catalog

    # --- starting -----------------------------------------------------------------------------------
    def start_later(self) -> None:
        """Check the model now (worker thread) and start the service a little later."""
        if self._wanted:
            return
        self._wanted = True
        self.reader.submit(check_model, on_result=self._on_model_checked,
                           on_error=lambda exc, tb: self._on_model_checked((f"The genre model cannot be used: {exc}.", None)))

    def _on_model_checked(self, checked) -> None:
        self.model_problem, self._model_dir = checked
        if self.model_problem:
            self.window.set_notice("model", self.model_problem)
            self.modelProblem.emit(self.model_problem)
            return
        QTimer.singleShot(self.ANALYSIS_DELAY_MS, self._open_service)

    def _open_service(self) -> None:
        if self.model_problem or self.catalog is None or self.service is not None or self._closing:
            return
        relay = self.events
        try:
            self.service = self.service_factory(
                self.catalog, model_dir=self._model_dir, workers=self.settings.workers, playing=self._playing,
                on_progress=lambda p: relay(("progress", p)),
                on_track=lambda ev: relay(("track", ev)),
                on_state=lambda state, reason: relay(("state", state, reason)),
            )
            self.service.start()
        except Exception as exc:  # noqa: BLE001 - the app goes on without genres
            log.exception("analysis service")
            self.service = None
            self.window.set_notice("analysis", f"The library analysis cannot start: {exc}")
            return
        self.window.set_analysis_progress("Genre analysis starting…")
        self._pause_for_music()

    @property
    def active(self) -> bool:
        """Whether the service runs (or waits for work, or is paused)."""
        s = self.service
        return s is not None and s.state not in ("unavailable", "error", "cancelled")

    # --- what the other features ask -----------------------------------------------------------------
    def prioritize(self, track_id: int) -> None:
        """Analyse ``track_id`` next: in the running service, else first when it starts."""
        if self.active:
            self.service.prioritize(track_id)
        elif self.catalog is not None:
            self.writer.submit(self.catalog.prioritize_analysis, track_id, on_error=lambda exc, tb: None)

    def pending_text(self) -> str:
        """What the genre chart says about a track that has no result yet."""
        if self.model_problem:
            return "Not analysed yet, and " + self.model_problem[0].lower() + self.model_problem[1:]
        state = self.service.state if self.service is not None else None
        if state == "paused":
            return "Not analysed yet — the analysis is paused (resume it in the status bar)."
        if state in ("unavailable", "error"):
            return f"Not analysed yet: genres cannot be tagged ({self._reason or state})."
        return GENRES_PENDING

    def enqueue(self) -> None:
        """New and changed files (after a scan) get their genres."""
        if self.service is not None:
            self.service.enqueue()

    def player_state_changed(self, state: str) -> None:
        self._playing = state == "playing"
        if self.service is not None:
            self.service.set_playing(self._playing)  # one worker while music plays
        self._pause_for_music()

    def set_pause_while_playing(self, on: bool) -> None:
        """Preferences ▸ Analysis: wait while music plays (else go on with one worker)."""
        self.settings.pause_analysis_while_playing = bool(on)
        self._pause_for_music()

    def _pause_for_music(self) -> None:
        """Pause the service while music plays, if the user wants that; resume it afterwards
        (only a pause made here: one the user asked for stays)."""
        wanted = self._playing and self.settings.pause_analysis_while_playing
        s = self.service
        if s is None or wanted == self._paused_for_music:
            return
        if wanted and s.state != "paused":
            s.pause()
            self._paused_for_music = True
        elif not wanted:
            if s.state == "paused":
                s.resume()
            self._paused_for_music = False

    # --- what the user asks -------------------------------------------------------------------------
    def _on_workers(self, n: int) -> None:
        self.settings.workers = n
        if self.service is not None:
            self.service.set_workers(idle=n)

    def _on_pause_requested(self, paused: bool) -> None:
        if self.service is not None:
            (self.service.pause if paused else self.service.resume)()

    def retry_failed(self) -> None:
        """Queue again the files the analysis gave up on (after fixing them, or a new model)."""
        if self.catalog is None:
            return

        def done(n):
            self.window.statusBar().showMessage(f"{n} file{'s' if n != 1 else ''} queued for analysis again.", 5000)
            self.enqueue()
            self.library.load_failures()

        self.writer.submit(self.catalog.retry_analysis_failures, on_result=done)

    # --- what the service says (GUI thread, batched) -------------------------------------------------
    def _on_events(self, events: list) -> None:
        progress = None
        predictions: dict[int, tuple] = {}
        loudness: dict[int, tuple] = {}
        failures: list[tuple[str, str]] = []
        for ev in events:
            kind = ev[0]
            if kind == "progress":
                progress = ev[1]
            elif kind == "track":
                t = ev[1]
                if t.ok and t.top_genre:
                    predictions[t.track_id] = getattr(t, "label", None) or (t.top_genre, float(t.confidence or 0.0))
                if t.ok and getattr(t, "loudness", None) is not None:
                    loudness[t.track_id] = t.loudness
                elif not t.ok and t.final:
                    reason = t.reason or t.kind or "failed"
                    row = self.library.row(t.track_id)
                    if row is not None:
                        failures.append((row.path, f"genre analysis: {reason}"))
                    self.trackFailed.emit(t.track_id, reason)
            elif kind == "state":
                self._on_state(ev[1], ev[2])
        if loudness:
            self.library.set_loudness(loudness)  # volume levelling of untagged files
        if predictions:
            self.library.set_predictions(predictions)
            self.tracksAnalysed.emit(list(predictions))
        if failures:
            self.library.add_failures(failures)
        if progress is not None and self.service is not None and self.service.state in ("running", "starting"):
            self._show_progress(progress)

    def _show_progress(self, p) -> None:
        text = f"Genres: {p.done:,} of {p.total:,}"
        if p.tracks_per_minute:
            text += f" · {p.tracks_per_minute:.0f}/min"
        if p.eta_s:
            m = int(p.eta_s // 60)
            text += f" · {m} min left" if m else f" · {int(p.eta_s)} s left"
        self.window.set_analysis_progress(text, p.done, p.total)

    def _on_state(self, state: str, reason: str | None) -> None:
        w = self.window
        if state == "paused":
            w.set_analysis_paused(True)
            w.set_analysis_progress("Genre analysis paused", w.analysis_bar.value(), w.analysis_bar.maximum())
        elif state in ("running", "starting"):
            w.set_analysis_paused(False)
        elif state in ("idle", "finished"):
            w.set_analysis_paused(False)
            w.finish_analysis_progress("Genre analysis: every track is analysed.")
            self.libraryAnalysed.emit()
        elif state in ("unavailable", "error"):
            self._reason = reason
            w.finish_analysis_progress()
            w.set_notice("analysis", f"Genres cannot be tagged: {reason or state}.")
        elif state == "cancelled":
            w.finish_analysis_progress("Genre analysis stopped.")

    def shutdown(self) -> None:
        """Stop the service (its in-flight tracks go back to the queue)."""
        self._closing = True
        if self.service is not None:
            try:
                self.service.close(timeout=5.0)
            except Exception:  # noqa: BLE001
                log.exception("closing the analysis service")
