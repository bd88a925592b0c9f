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
#: each row's cover is loaded at this size (pixels a side; drawn at 32, sharp on doubled pixels)
COVER_PIXELS = 64


def _model_version() -> str | None:
    """The genre model's version: whose analysis results the recommender prefers."""
    from models import card

    try:
        return card.model_version()
    except card.ModelError:
        return None


class RecommendationsPresenter(QObject):
    playRequested = Signal(list)  # one recommendation, played now
    playTheseRequested = Signal(list)  # "Play these": in place of the queue or after it, as the user says

    def __init__(self, window, *, data_dir, library, profiles, analysis, covers=None):
        """``library``: titles for the panel; ``profiles``: whose recommendations;
        ``analysis``: why nothing may be analysed yet (no model); ``covers``: each row's cover
        (``desktop.covers.CoverCache``; None: no covers)."""
        super().__init__(window)
        self.window = window
        self.data_dir = data_dir
        self.library, self.profiles, self.analysis = library, profiles, analysis
        self.catalog = None
        self._recommender = None  # core.recommend.LibraryRecommender, made on first use
        self._again = False
        self._stale = False  # the last ranking had tracks the table did not show
        self._closing = False
        self.runner = TaskRunner(self, max_threads=1)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(DEBOUNCE_MS)
        self.timer.timeout.connect(self._run)
        self.covers = covers
        self._cover_ids: dict[str, list[int]] = {}  # audio path -> the rows shown for it
        if covers is not None:
            covers.ready.connect(self._on_cover)
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
                # more than TOP: those the table does not show (a folder unavailable now) are dropped
                ranking, info = recommender.recommend(catalog, profile=profile, top=2 * TOP)
                liked = {t for r in ranking for t, _sim in r.nearest_liked}
                info["liked_titles"] = {t: track.display_title for t in liked
                                        if (track := catalog.get_track(t)) is not None}
                return ranking, info
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

    def rows_changed(self) -> None:
        """The table's rows changed: a ranking that named tracks the table lacked is redone."""
        if self._stale:
            self._stale = False
            self.refresh()

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
        liked_titles = info.get("liked_titles", {})
        self._stale = False
        for r in ranking:
            row = self.library.row(r.track_id)
            if row is None:  # not in the table (yet): it could not be played from here
                self._stale = True
                continue
            if len(items) == TOP:
                break
            title = f"{row.title} — {row.artist}" if row.artist else row.title
            near = [n.title if (n := self.library.row(t)) else liked_titles.get(t) for t, _sim in r.nearest_liked]
            near = [n for n in near if n]
            reasons = []
            if near:
                reasons.append("because you like " + ", ".join(f"“{n}”" for n in near))
            if r.genres:
                reasons.append(", ".join(f"{g} {p:.0%}" for g, p in r.genres))
            items.append((r.track_id, title, " · ".join(reasons)))
        if not items:
            panel.set_message("Nothing to recommend yet: every analysed track is already liked or disliked.")
            return
        panel.set_items(items)
        self._show_covers([tid for tid, _title, _reason in items])
        note = f"{info.get('not_analysed', 0)} tracks not analysed yet" if info.get("not_analysed") else ""
        panel.setToolTip(f"From {info.get('liked', 0)} liked and {info.get('disliked', 0)} disliked tracks"
                         + (f"; {note}" if note else ""))

    def _show_covers(self, track_ids: list[int]) -> None:
        """Each row's cover from memory; those not loaded yet follow in ``_on_cover``."""
        self._cover_ids = {}
        if self.covers is None:
            return
        panel = self.window.recommendations
        for tid in track_ids:
            row = self.library.row(tid)
            if row is None:
                continue
            self._cover_ids.setdefault(row.path, []).append(tid)
            panel.set_cover(tid, self.covers.pixmap(row.path, COVER_PIXELS))

    def _on_cover(self, path: str, size: int) -> None:
        if size != COVER_PIXELS or path not in self._cover_ids:
            return
        pixmap = self.covers.pixmap(path, size)
        for tid in self._cover_ids[path]:
            self.window.recommendations.set_cover(tid, pixmap)

    def _play_one(self, track_id) -> None:
        self.playRequested.emit([track_id])

    def _play_all(self, track_ids: list) -> None:
        self.playTheseRequested.emit(list(track_ids))

    def shutdown(self) -> None:
        self._closing = True
        self.timer.stop()
        self.runner.cancel_all()
        self.runner.wait(5000)
