"""The genre analysis store: results, and the durable queue of tracks waiting for analysis
(used by ``analysis/service.py`` and its workers).

``analysis`` rows are keyed by (content fingerprint, model version): a moved file keeps its
result, an unchanged file is never analysed twice, a new model version analyses again.  Arrays
are stored with :func:`core.catalog.codec.pack_array` (``.npy`` bytes: dtype and shape
included).  ``analysis_queue`` has one row per track waiting (``queued``), in a worker
(``running``, with its ``owner``) or given up on (``failed``, with ``kind`` and a one-line
``last_error``).
"""
from __future__ import annotations

import dataclasses
import json
import time
from typing import Any, Iterable, Iterator, Mapping, Sequence

from core.catalog.codec import pack_array, unpack_array
from core.catalog.db import CatalogError, Database
from core.catalog.rows import Failure


@dataclasses.dataclass(frozen=True)
class AnalysisTask:
    """A queued track handed to an analysis worker."""

    track_id: int
    path: str
    fingerprint: str
    duration: float | None
    attempts: int
    priority: int


_ANALYSIS_COLUMNS = (
    "fingerprint", "model_version", "classes", "top_genre", "confidence", "track_probs", "window_probs",
    "embeddings", "window_s", "hop_s", "n_windows", "duration", "note", "computed_at",
    "music_probability", "is_music", "music_kind", "music_cells", "music_version", "loudness", "sample_peak",
)
#: the SQL condition "this analysis row has the detector result of version ?" (for ``a.``)
_MUSIC_DONE = "a.music_version IS ?"


@dataclasses.dataclass(frozen=True)
class AnalysisResult:
    """One file's genre analysis.  Arrays are numpy: ``track_probs`` ``(C,)`` float32 (mean of
    the windows), ``window_probs`` ``(W, C)`` float32 (the genre timeline: window ``i`` starts at
    ``i * hop_s`` seconds, except the last, which ends at the end of the track), ``embeddings``
    ``(W, D)`` (float16 as stored; the genre network's trunk), ``classes`` the C genre names.

    The music detector's part (None in a result stored before the detector, or without one):
    ``music_probability`` (the track's: the median of its cells'), ``is_music``, ``music_kind``
    (``"speech"`` / ``"sound"`` for non-music), ``music_cells`` ``(n_cells,)`` float32 (one
    music probability per 3 s cell of the genre timeline's grid, NaN for a silent cell) and
    ``music_version`` (the detector's version).

    ``loudness`` (LUFS) and ``sample_peak`` of the decoded mono 22050 Hz mix
    (:mod:`core.audio.loudness`; None in a result stored before they were measured, loudness None
    for silence): the volume levelling of a file without ReplayGain tags."""

    fingerprint: str
    model_version: str
    classes: list
    top_genre: str
    confidence: float
    track_probs: Any
    window_probs: Any
    embeddings: Any
    window_s: float
    hop_s: float
    n_windows: int
    duration: float | None
    note: str | None
    computed_at: float
    music_probability: float | None = None
    is_music: bool | None = None
    music_kind: str | None = None
    music_cells: Any = None
    music_version: str | None = None
    loudness: float | None = None
    sample_peak: float | None = None

    @classmethod
    def from_row(cls, row: Sequence) -> "AnalysisResult":
        v = list(row)
        v[2] = json.loads(v[2])
        for i in (5, 6, 7):
            v[i] = unpack_array(v[i])
        if len(v) > 15 and v[15] is not None:
            v[15] = bool(v[15])
        if len(v) > 17 and v[17] is not None:
            v[17] = unpack_array(v[17])
        return cls(*v)

    def label(self):
        """What the app shows for this track's genre (:func:`core.genrelabel.label_of_probs`)."""
        from core.genrelabel import label_of_probs

        return label_of_probs(self.classes, self.track_probs, is_music=self.is_music, kind=self.music_kind,
                              music_probability=self.music_probability)

    def as_dict(self, *, arrays: bool = False) -> dict:
        d = {
            "fingerprint": self.fingerprint, "model_version": self.model_version, "top_genre": self.top_genre,
            "confidence": self.confidence, "genres": dict(zip(self.classes, map(float, self.track_probs))),
            "window_s": self.window_s, "hop_s": self.hop_s, "n_windows": self.n_windows,
            "duration": self.duration, "note": self.note, "computed_at": self.computed_at,
            "music_probability": self.music_probability, "is_music": self.is_music, "music_kind": self.music_kind,
            "music_version": self.music_version, "loudness": self.loudness, "sample_peak": self.sample_peak,
        }
        if arrays:
            d["window_probs"] = self.window_probs.tolist()
            d["embeddings"] = self.embeddings.tolist()
            d["music_cells"] = None if self.music_cells is None else [
                None if v != v else float(v) for v in self.music_cells]
        return d


def _finite_or_none(v) -> float | None:
    if v is None:
        return None
    v = float(v)
    return v if v == v and abs(v) != float("inf") else None


class AnalysisStore(Database):
    """The ``analysis`` and ``analysis_queue`` rows (a part of :class:`core.catalog.Catalog`)."""

    def enqueue_analysis(
        self, model_version: str, track_ids: Iterable[int] | None = None, *, now: float | None = None,
        music_version: str | None = None,
    ) -> int:
        """Queue every present track (or those of ``track_ids``) that has no result for
        ``model_version`` (with ``music_version``: no result with that music detector's verdict,
        so a file analysed before the detector, or by another version of it, is analysed again).
        A row left from another model version or another fingerprint of the file is queued again with its attempts reset; a failure of this very file with this model
        stays failed (:meth:`retry_analysis_failures` clears them).  Returns the rows (re)queued."""
        now = time.time() if now is None else now
        ids_clause = ""
        music, music_args = ("", ()) if music_version is None else (" AND " + _MUSIC_DONE, (music_version,))
        with self.transaction():
            if track_ids is not None:
                self.execute("CREATE TEMP TABLE IF NOT EXISTS _aq_ids(id INTEGER PRIMARY KEY)")
                self.execute("DELETE FROM _aq_ids")
                self.executemany("INSERT OR IGNORE INTO _aq_ids(id) VALUES (?)", [(int(i),) for i in track_ids])
                ids_clause = " AND t.id IN (SELECT id FROM _aq_ids)"
            self.execute(
                "INSERT INTO analysis_queue(track_id, fingerprint, model_version, state, attempts, enqueued_at, updated_at) "
                "SELECT t.id, t.fingerprint, ?, 'queued', 0, ?, ? FROM tracks t WHERE t.missing = 0"
                + ids_clause +
                " AND NOT EXISTS (SELECT 1 FROM analysis a WHERE a.fingerprint = t.fingerprint AND a.model_version = ?"
                + music + ") "
                "ON CONFLICT(track_id) DO UPDATE SET fingerprint = excluded.fingerprint, "
                "model_version = excluded.model_version, state = 'queued', attempts = 0, owner = NULL, kind = NULL, "
                "last_error = NULL, enqueued_at = excluded.enqueued_at, updated_at = excluded.updated_at "
                "WHERE analysis_queue.fingerprint != excluded.fingerprint "
                "OR analysis_queue.model_version != excluded.model_version",
                (model_version, now, now, model_version, *music_args),
            )
            n = self.fetchone("SELECT changes()")[0]  # rows inserted or re-queued
            # rows whose file got a result meanwhile (a duplicate of an analysed file)
            self.execute(
                "DELETE FROM analysis_queue WHERE state = 'queued' AND EXISTS (SELECT 1 FROM analysis a "
                "WHERE a.fingerprint = analysis_queue.fingerprint AND a.model_version = analysis_queue.model_version"
                + music + ")", music_args
            )
            if track_ids is not None:
                self.execute("DELETE FROM _aq_ids")
        return n

    def claim_analysis(
        self, model_version: str, n: int = 1, *, owner: str | None = None, now: float | None = None
    ) -> list[AnalysisTask]:
        """Take up to ``n`` queued tracks (highest priority first, then oldest) and mark them
        ``running`` by ``owner``.  Returns them with their current path and fingerprint."""
        now = time.time() if now is None else now
        with self.transaction():
            rows = self.fetchall(
                "SELECT q.track_id, t.path, t.fingerprint, t.duration, q.attempts, q.priority "
                "FROM analysis_queue q JOIN tracks t ON t.id = q.track_id "
                "WHERE q.state = 'queued' AND q.model_version = ? AND t.missing = 0 "
                "ORDER BY q.priority DESC, q.enqueued_at, q.track_id LIMIT ?",
                (model_version, int(n)),
            )
            self.executemany(
                "UPDATE analysis_queue SET state = 'running', owner = ?, updated_at = ? WHERE track_id = ?",
                [(owner, now, r[0]) for r in rows],
            )
        return [AnalysisTask(*r) for r in rows]

    def store_analysis(self, track_id: int, result: Mapping[str, Any], *, now: float | None = None) -> None:
        """Write one track's result and drop its queue row, in one transaction.

        ``result`` keys: ``fingerprint``, ``model_version``, ``classes`` (list of names),
        ``top_genre``, ``confidence``, ``track_probs`` ``(C,)``, ``window_probs`` ``(W, C)``,
        ``embeddings`` ``(W, D)`` (numpy arrays, or bytes from :func:`pack_array`), ``window_s``,
        ``hop_s``, optional ``duration`` (s analysed), ``note`` and ``computed_at``, and the music
        detector's optional ``music_probability``, ``is_music``, ``music_kind``, ``music_cells``
        ``(n_cells,)`` and ``music_version``, and the measured ``loudness`` and ``sample_peak``.
        The file's result from another model version, if any, is deleted (replaced)."""
        now = time.time() if now is None else now
        blob = lambda v: v if isinstance(v, (bytes, bytearray, memoryview)) else pack_array(v)  # noqa: E731
        window_probs = result["window_probs"]
        n_windows = int(result.get("n_windows") or (unpack_array(window_probs) if isinstance(
            window_probs, (bytes, bytearray, memoryview)) else window_probs).shape[0])
        with self.transaction():
            self.execute(
                "INSERT OR REPLACE INTO analysis(fingerprint, model_version, classes, top_genre, confidence, "
                "track_probs, window_probs, embeddings, window_s, hop_s, n_windows, duration, note, computed_at, "
                "music_probability, is_music, music_kind, music_cells, music_version, loudness, sample_peak) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    result["fingerprint"], result["model_version"], json.dumps(list(result["classes"])),
                    str(result["top_genre"]), float(result["confidence"]), blob(result["track_probs"]),
                    blob(window_probs), blob(result["embeddings"]), float(result["window_s"]),
                    float(result["hop_s"]), n_windows,
                    None if result.get("duration") is None else float(result["duration"]),
                    result.get("note"), float(result.get("computed_at") or now),
                    None if result.get("music_probability") is None else float(result["music_probability"]),
                    None if result.get("is_music") is None else int(bool(result["is_music"])),
                    result.get("music_kind"),
                    None if result.get("music_cells") is None else blob(result["music_cells"]),
                    result.get("music_version"),
                    _finite_or_none(result.get("loudness")), _finite_or_none(result.get("sample_peak")),
                ),
            )
            self.execute(
                "DELETE FROM analysis_queue WHERE track_id = ? OR (state = 'queued' AND fingerprint = ? "
                "AND model_version = ?)",
                (int(track_id), result["fingerprint"], result["model_version"]),
            )
            # the result of an older model for this file has been replaced (about 170 KB each)
            self.execute("DELETE FROM analysis WHERE fingerprint = ? AND model_version != ?",
                         (result["fingerprint"], result["model_version"]))

    def record_analysis_error(
        self, track_id: int, kind: str, reason: str, *, max_attempts: int = 1, now: float | None = None
    ) -> bool:
        """Count a failed attempt at a track.  It is ``failed`` (kept, with ``kind`` and the
        one-line ``reason``) once it has failed ``max_attempts`` times, else queued again.
        Returns True when it is now failed for good."""
        now = time.time() if now is None else now
        reason = " ".join(str(reason).split())
        with self.transaction():
            row = self.fetchone("SELECT attempts FROM analysis_queue WHERE track_id = ?", (int(track_id),))
            if row is None:
                return False
            attempts = int(row[0]) + 1
            final = attempts >= max(1, int(max_attempts))
            self.execute(
                "UPDATE analysis_queue SET state = ?, attempts = ?, owner = NULL, kind = ?, last_error = ?, "
                "updated_at = ? WHERE track_id = ?",
                ("failed" if final else "queued", attempts, kind, reason, now, int(track_id)),
            )
        return final

    def release_analysis(
        self, track_ids: Iterable[int] | None = None, *, owner: str | None = None, now: float | None = None
    ) -> int:
        """Put ``running`` rows (those of ``track_ids``, or all of ``owner``'s) back in the queue
        without counting an attempt (cancelled, or their process is gone).  Returns how many."""
        now = time.time() if now is None else now
        with self.transaction():
            if track_ids is not None:
                n = 0
                for tid in track_ids:
                    n += self.execute(
                        "UPDATE analysis_queue SET state = 'queued', owner = NULL, updated_at = ? "
                        "WHERE track_id = ? AND state = 'running'", (now, int(tid)))
                return n
            if owner is None:
                raise CatalogError("release_analysis: give track_ids or owner")
            return self.execute(
                "UPDATE analysis_queue SET state = 'queued', owner = NULL, updated_at = ? "
                "WHERE state = 'running' AND owner = ?", (now, owner))

    def analysis_owners(self) -> set[str]:
        """The owners of ``running`` queue rows (to find those left by a killed process)."""
        return {r[0] or "" for r in self.fetchall("SELECT DISTINCT owner FROM analysis_queue WHERE state = 'running'")}

    def prioritize_analysis(self, track_id: int, *, now: float | None = None) -> bool:
        """Move a queued track to the front of the queue (the latest call goes first).  Returns
        False when it is not waiting (already analysed, running, failed or unknown)."""
        now = time.time() if now is None else now
        with self.transaction():
            top = self.fetchone("SELECT COALESCE(MAX(priority), 0) FROM analysis_queue")[0]
            return bool(self.execute(
                "UPDATE analysis_queue SET priority = ?, updated_at = ? WHERE track_id = ? AND state = 'queued'",
                (int(top) + 1, now, int(track_id))))

    def retry_analysis_failures(self, *, now: float | None = None) -> int:
        """Queue every failed track again (attempts reset).  Returns how many."""
        now = time.time() if now is None else now
        return self.execute(
            "UPDATE analysis_queue SET state = 'queued', attempts = 0, kind = NULL, last_error = NULL, "
            "updated_at = ? WHERE state = 'failed'", (now,))

    def analysis_counts(self, model_version: str, music_version: str | None = None) -> dict[str, int]:
        """For present tracks: ``tracks``, ``analysed`` (a result for ``model_version``, with
        ``music_version``'s verdict when given), ``queued``, ``running``, ``failed`` (for that version)."""
        music = "" if music_version is None else " AND " + _MUSIC_DONE
        one = lambda sql, p=(): self.fetchone(sql, p)[0]  # noqa: E731
        by_state = dict(self.fetchall(
            "SELECT q.state, COUNT(*) FROM analysis_queue q JOIN tracks t ON t.id = q.track_id "
            "WHERE t.missing = 0 AND q.model_version = ? GROUP BY q.state", (model_version,)))
        return {
            "tracks": one("SELECT COUNT(*) FROM tracks WHERE missing = 0"),
            "analysed": one(
                "SELECT COUNT(*) FROM tracks t WHERE t.missing = 0 AND EXISTS (SELECT 1 FROM analysis a "
                "WHERE a.fingerprint = t.fingerprint AND a.model_version = ?" + music + ")",
                (model_version,) + ((music_version,) if music else ())),
            "queued": int(by_state.get("queued", 0)),
            "running": int(by_state.get("running", 0)),
            "failed": int(by_state.get("failed", 0)),
        }

    def analysis_failures(self, model_version: str | None = None) -> list[Failure]:
        """Tracks the analysis gave up on: path, kind, one-line reason, when (path order)."""
        sql = ("SELECT t.path, COALESCE(q.kind, 'error'), COALESCE(q.last_error, ''), q.updated_at, t.size, "
               "t.mtime_ns FROM analysis_queue q JOIN tracks t ON t.id = q.track_id WHERE q.state = 'failed'")
        params: list = []
        if model_version is not None:
            sql += " AND q.model_version = ?"
            params.append(model_version)
        return [Failure(*r) for r in self.fetchall(sql + " ORDER BY t.path", params)]

    def track_analysis(self, track_id: int, model_version: str | None = None) -> AnalysisResult | None:
        """The analysis of a track's file (by its fingerprint, so it survives a move): for
        ``model_version``, or the newest one of any version.  None when not analysed."""
        row = self.fetchone("SELECT fingerprint FROM tracks WHERE id = ?", (int(track_id),))
        return None if row is None else self.analysis_by_fingerprint(row[0], model_version)

    def analysis_by_fingerprint(self, fingerprint: str, model_version: str | None = None) -> AnalysisResult | None:
        sql = "SELECT " + ", ".join(_ANALYSIS_COLUMNS) + " FROM analysis WHERE fingerprint = ?"
        params: list = [fingerprint]
        if model_version is not None:
            sql += " AND model_version = ?"
            params.append(model_version)
        row = self.fetchone(sql + " ORDER BY computed_at DESC LIMIT 1", params)
        return None if row is None else AnalysisResult.from_row(row)

    def analysis_version_counts(self) -> list[tuple[str, int]]:
        """``[(model_version, n_results), ...]``, the most used version first."""
        return [(r[0], r[1]) for r in self.fetchall(
            "SELECT model_version, COUNT(*) FROM analysis GROUP BY model_version ORDER BY COUNT(*) DESC")]

    def analysed_fingerprints(self, model_version: str) -> set[str]:
        """Fingerprints of the files that have a result for ``model_version``."""
        return {r[0] for r in self.fetchall("SELECT fingerprint FROM analysis WHERE model_version = ?", (model_version,))}

    def analysis_arrays(self, model_version: str, fingerprints) -> Iterator[tuple[str, list, Any, Any]]:
        """``(fingerprint, classes, track_probs, embeddings)`` for the given files' results of
        ``model_version`` (in bulk, for the recommender).  The arrays are read-only views."""
        fingerprints = list(fingerprints)
        for i in range(0, len(fingerprints), 500):
            chunk = fingerprints[i : i + 500]
            rows = self.fetchall(
                "SELECT fingerprint, classes, track_probs, embeddings FROM analysis WHERE model_version = ? "
                f"AND fingerprint IN ({', '.join('?' * len(chunk))})", (model_version, *chunk))
            for fp, classes, probs, emb in rows:
                yield fp, json.loads(classes), unpack_array(probs, copy=False), unpack_array(emb, copy=False)

    def analysis_has_queued(self, model_version: str) -> bool:
        """Is any present track waiting in the analysis queue for ``model_version``?"""
        return self.fetchone(
            "SELECT 1 FROM analysis_queue q JOIN tracks t ON t.id = q.track_id WHERE q.state = 'queued' "
            "AND q.model_version = ? AND t.missing = 0 LIMIT 1", (model_version,)) is not None

    def drop_analysis_with_other_classes(self, model_version: str, classes: Sequence[str]) -> int:
        """Delete the results of ``model_version`` whose class names are not ``classes`` (the
        version's card): they were computed with a card that did not describe its network, and
        :meth:`enqueue_analysis` queues their tracks again.  Returns how many were deleted."""
        return self.execute("DELETE FROM analysis WHERE model_version = ? AND classes != ?",
                            (model_version, json.dumps(list(classes))))

    def requeue_crashed(self, track_ids) -> None:
        """Give tracks blamed for a worker crash their attempts back (the set-up was at fault)."""
        with self.transaction():
            for tid in track_ids:
                self.execute(
                    "UPDATE analysis_queue SET state = 'queued', attempts = 0, kind = NULL, last_error = NULL "
                    "WHERE track_id = ? AND kind = 'crashed'", (int(tid),))

    def genre_summary(self, model_version: str | None = None) -> dict[int, tuple[str, float, str]]:
        """track id -> (genre, confidence, label) for every analysed present track (for the table
        view; newest model version when ``model_version`` is None), as
        :func:`core.genrelabel.genre_label` says: ``("jazz", 0.8, "jazz 80%")``,
        ``("Not music", 0.97, "Not music (speech)")``, ``("jazz", 0.3, "uncertain: blues or jazz")``.
        Reads only the track's genre probabilities (C floats), no timeline or embeddings."""
        from core.genrelabel import label_of_probs

        params: list = []
        version = ""
        if model_version is not None:
            version = " AND a.model_version = ?"
            params.append(model_version)
        rows = self.fetchall(
            "SELECT t.id, a.classes, a.track_probs, a.is_music, a.music_kind, a.music_probability, a.computed_at "
            "FROM tracks t JOIN analysis a ON a.fingerprint = t.fingerprint WHERE t.missing = 0" + version +
            " ORDER BY a.computed_at", params)
        out: dict[int, tuple[str, float, str]] = {}
        for tid, classes, probs, is_music, kind, music_p, _at in rows:
            lab = label_of_probs(json.loads(classes), unpack_array(probs, copy=False),
                                 is_music=None if is_music is None else bool(is_music), kind=kind,
                                 music_probability=music_p)
            out[tid] = (lab.genre, lab.confidence, lab.text)
        return out

    def measured_loudness(self) -> dict[int, tuple[float | None, float | None]]:
        """track id -> ``(loudness, sample_peak)`` of every present track whose newest analysis
        measured them (:mod:`core.audio.loudness`)."""
        out: dict[int, tuple[float | None, float | None]] = {}
        for tid, lufs, peak in self.fetchall(
                "SELECT t.id, a.loudness, a.sample_peak FROM tracks t JOIN analysis a ON a.fingerprint = t.fingerprint "
                "WHERE t.missing = 0 AND a.sample_peak IS NOT NULL ORDER BY a.computed_at"):
            out[tid] = (lufs, peak)
        return out

    def not_music_track_ids(self, model_version: str | None = None) -> set[int]:
        """Present tracks whose analysis (of ``model_version``, or any version when None) the
        music detector called not music (speech, other sounds)."""
        sql = ("SELECT DISTINCT t.id FROM tracks t JOIN analysis a ON a.fingerprint = t.fingerprint "
               "WHERE t.missing = 0 AND a.is_music = 0")
        params: list = []
        if model_version is not None:
            sql += " AND a.model_version = ?"
            params.append(model_version)
        return {r[0] for r in self.fetchall(sql, params)}
