"""Recommendations: the current profile's ranking of the library, in the recommendations panel.

``refresh()`` re-ranks ``DEBOUNCE_MS`` after the last call (likes come in bursts), one ranking
at a time on a worker thread; the profile's model retrains only when its likes changed
(``core.recommend.LibraryRecommender``, one for the life of the app: it keeps the library's
vectors and the profiles' models between calls).  Every recommendation says why: its nearest
liked tracks and its genres.

Signal:
    playRequested(list)   track ids picked in the panel: play the first now, the others next
"""
from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from desktop.tasks import TaskRunner

#: re-rank this long after the last change (ms)
DEBOUNCE_MS = 1200
#: how many recommendations the panel lists
TOP = 20


def _model_version() -> str | None:
    """The genre model's version: whose analysis results the recommender prefers."""
    from models import card

    try:
        return card.model_version()
    except card.ModelError:
        return None


class RecommendationsPresenter(QObject):
    playRequested = Signal(list)

    def __init__(self, window, *, data_dir, library, profiles, analysis):
        """``library``: titles for the panel; ``profiles``: whose recommendations;
        ``analysis``: why nothing may be analysed yet (no model)."""
        super().__init__(window)
        self.window = window
        self.data_dir = data_dir
        self.library, self.profiles, self.analysis = library, profiles, analysis
        self.catalog = None
        self._recommender = None  # core.recommend.LibraryRecommender, made on first use
        self._again = False
        self._closing = False
        self.runner = TaskRunner(self, max_threads=1)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(DEBOUNCE_MS)
        self.timer.timeout.connect(self._run)
        panel = window.recommendations
        panel.activated.connect(self._play_one)
        panel.playAllRequested.connect(self._play_all)

    def set_catalog(self, catalog) -> None:
        self.catalog = catalog

    def refresh(self) -> None:
        """Re-rank soon (debounced)."""
        if self.catalog is not None and not self._closing:
            self.timer.start()

    def profile_changed(self, name: str) -> None:
        self.window.recommendations.set_message(f"Recommendations for {name}…")
        self.refresh()

    def _run(self) -> None:
        from core.recommend import LibraryRecommender, NotAnalysed, RecommenderError

        if self.runner.active:
            self._again = True  # one more pass when this one is done
            return
        self._again = False
        if self._recommender is None:
            self._recommender = LibraryRecommender(self.data_dir, model_version=_model_version())
        recommender, catalog, profile = self._recommender, self.catalog, self.profiles.current
        problem = self.analysis.model_problem

        def job():
            try:
                return recommender.recommend(catalog, profile=profile, top=TOP)
            except NotAnalysed:  # (its own text names a CLI command)
                if problem:
                    return "Recommendations need analysed tracks, and " + problem[0].lower() + problem[1:]
                return ("Recommendations need analysed tracks: they appear here as the genre "
                        "analysis works through your library.")
            except RecommenderError as exc:
                return str(exc)

        self.runner.submit(job, on_result=self._on_result,
                           on_error=lambda exc, tb: self.window.recommendations.set_message(
                               f"Recommendations are not available: {exc}"),
                           on_finished=self._after_run)

    def _after_run(self) -> None:
        if self._again:
            self.refresh()

    def _on_result(self, result) -> None:
        panel = self.window.recommendations
        if isinstance(result, str):  # a sentence: no likes yet, nothing analysed...
            panel.set_message(result)
            return
        ranking, info = result
        if info.get("profile", self.profiles.current) != self.profiles.current:
            return  # switched meanwhile: the new profile's ranking is on its way
        items = []
        for r in ranking:
            row = self.library.row(r.track_id)
            title = f"{row.title} — {row.artist}" if row and row.artist else (row.title if row else f"track {r.track_id}")
            near = [self.library.row(t) for t, _sim in r.nearest_liked]
            reasons = []
            if near:
                reasons.append("because you like " + ", ".join(f"“{n.title}”" for n in near if n))
            if r.genres:
                reasons.append(", ".join(f"{g} {p:.0%}" for g, p in r.genres))
            items.append((r.track_id, title, " · ".join(reasons)))
        if not items:
            panel.set_message("Nothing to recommend yet: every analysed track is already liked or disliked.")
            return
        panel.set_items(items)
        note = f"{info.get('not_analysed', 0)} tracks not analysed yet" if info.get("not_analysed") else ""
        panel.setToolTip(f"From {info.get('liked', 0)} liked and {info.get('disliked', 0)} disliked tracks"
                         + (f"; {note}" if note else ""))

    def _play_one(self, track_id) -> None:
        self.playRequested.emit([track_id])

    def _play_all(self, track_ids: list) -> None:
        self.playRequested.emit(list(track_ids))  # the first now, the others next in the queue

    def shutdown(self) -> None:
        self._closing = True
        self.timer.stop()
        self.runner.cancel_all()
        self.runner.wait(5000)
