"""The library table: a Qt model over catalog rows, sorted and filtered in memory.

Rows are fetched from the catalog in bulk, off the UI thread, once per refresh
(``load_rows(catalog, root)`` in a background task) and prepared there (``RowSet``: display
strings, sort keys, search text).  The model then only swaps lists: ``data()`` never touches
SQL, sorting 20,000 rows is one ``list.sort`` on precomputed keys, filtering one pass over
precomputed search text.  (A ``QSortFilterProxyModel`` would call ``data()`` from Python for
every comparison: seconds for 20,000 rows.)

Columns: title, artist, album, duration, genre tag, predicted genre (+ confidence, empty until
analysed), like/dislike.
"""
from __future__ import annotations

import dataclasses
import math
import os
import time
from typing import Any, Iterable, Mapping, Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QFont

from core.genrelabel import genres_named
from core.genres import split_genres
from desktop.fmt import format_time, format_when

COLUMNS = ("Title", "Artist", "Album", "Time", "Genre tag", "Predicted genre", "♥", "Plays", "Last played", "Skips")
(COL_TITLE, COL_ARTIST, COL_ALBUM, COL_DURATION, COL_TAG, COL_PREDICTED, COL_RATING,
 COL_PLAYS, COL_LAST_PLAYED, COL_SKIPS) = range(len(COLUMNS))
#: the listening-history columns (hidden until shown from View ▸ Listening history columns)
HISTORY_COLUMNS = (COL_PLAYS, COL_LAST_PLAYED, COL_SKIPS)
TRACK_ID_ROLE = Qt.ItemDataRole.UserRole + 1

LIKED_COLOUR = QColor("#ff5a7a")
DISLIKED_COLOUR = QColor("#ffb347")
DIM_COLOUR = QColor("#8a8a9a")


@dataclasses.dataclass
class Row:
    """One track as the table shows it (plain Python; built off the UI thread)."""

    id: int
    path: str
    title: str
    artist: str
    album: str
    duration: float | None
    genre_tag: str
    rating: int = 0
    predicted: str = ""  # top genre or "Not music" (what the genre filter matches), "" until analysed
    confidence: float = 0.0
    label: str = ""  # what the column shows (core.genrelabel): "jazz 80%", "Not music (speech)", "uncertain: ..."
    search: str = ""
    track_no: int = 0
    disc_no: int = 0
    plays: int = 0  # the current profile's listening history
    skips: int = 0
    last_played: float | None = None
    album_artist: str = ""
    genres: tuple[str, ...] = ()  # the genre tag's values ("Rock; Pop" -> Rock, Pop)
    genre_keys: frozenset[str] = frozenset()  # the same, case-folded (what the genre filter compares)
    # ReplayGain (core.audio.tags), for the player's volume levelling
    rg_track_gain: float | None = None
    rg_track_peak: float | None = None
    rg_album_gain: float | None = None
    rg_album_peak: float | None = None
    channels: int = 0
    # the gain from the loudness the analysis measured (files without tags; see apply_loudness)
    measured_track_gain: float | None = None
    measured_track_peak: float | None = None
    measured_album_gain: float | None = None

    def __post_init__(self) -> None:
        if self.genre_tag and not self.genres:
            self.genres = tuple(split_genres(self.genre_tag))
            self.genre_keys = frozenset(g.casefold() for g in self.genres)

    def predicted_text(self) -> str:
        if self.label:
            return self.label
        return f"{self.predicted} {100 * self.confidence:.0f}%" if self.predicted else ""


def row_from_track(t) -> Row:
    """A ``Row`` from a ``core.catalog.Track`` (or anything with the same attributes)."""
    title = t.title or os.path.splitext(os.path.basename(t.path))[0]
    r = Row(
        id=int(t.id), path=t.path, title=title, artist=t.artist or "", album=t.album or "",
        duration=t.duration, genre_tag=t.genre_tag or "", rating=int(t.rating or 0),
        track_no=t.track_no or 0, disc_no=t.disc_no or 0, album_artist=t.album_artist or "",
        rg_track_gain=getattr(t, "rg_track_gain", None), rg_track_peak=getattr(t, "rg_track_peak", None),
        rg_album_gain=getattr(t, "rg_album_gain", None), rg_album_peak=getattr(t, "rg_album_peak", None),
        channels=int(getattr(t, "channels", None) or 0),
    )
    r.search = " ".join((title, r.artist, r.album, t.album_artist or "", os.path.basename(t.path))).casefold()
    return r


def load_rows(
    catalog, root: str | None = None, predictions: Mapping[int, tuple[str, float]] | None = None,
    *, sort_column: int = 1, exclude: Iterable[str] = (),
) -> "RowSet":
    """Every present track of the library (under ``root``; none below the folders in
    ``exclude``), prepared for the model: call it in a background task."""
    rows = [row_from_track(t) for t in catalog.tracks(root=root, exclude=exclude, sort="id")]
    history = catalog.play_stats()
    for r in rows:
        h = history.get(r.id)
        if h is not None:
            r.plays, r.skips, r.last_played = h.plays, h.skips, h.last_played_at
    if predictions:
        for r in rows:
            p = predictions.get(r.id)
            if p:
                r.predicted, r.confidence = p[0], float(p[1])
                r.label = p[2] if len(p) > 2 else ""
    measured = getattr(catalog, "measured_loudness", None)
    if measured is not None:
        apply_loudness(rows, measured())
    return prepare_rows(rows, sort_column=sort_column)


def _album_key(r: Row) -> tuple[str, str] | None:
    return ((r.album_artist or r.artist).casefold(), r.album.casefold()) if r.album else None


def albums_of(rows: Iterable[Row]) -> dict[tuple[str, str], list[Row]]:
    """The rows of each album (album artist, or artist, and album title; rows without an album
    belong to none)."""
    out: dict[tuple[str, str], list[Row]] = {}
    for r in rows:
        k = _album_key(r)
        if k is not None:
            out.setdefault(k, []).append(r)
    return out


def apply_loudness(rows: Sequence[Row], loudness: Mapping[int, tuple], *,
                   albums: Mapping[tuple[str, str], list[Row]] | None = None) -> list[Row]:
    """Set the measured gains of ``rows`` from ``loudness`` (track id -> ``(LUFS of the mono mix,
    sample peak)``, :mod:`core.audio.loudness`): each file's own (its channels counted), and every
    album's -- the duration-weighted power mean of its tracks' loudness, ReplayGain's album gain
    near enough -- over the album's rows in ``albums`` (:func:`albums_of`; default: of ``rows``).
    Returns the rows whose values changed."""
    from core.audio.loudness import gain_of_loudness, track_loudness

    changed = []
    touched_albums = set()
    for r in rows:
        v = loudness.get(r.id)
        if v is None:
            continue
        lufs, peak = v
        gain = gain_of_loudness(track_loudness(lufs, r.channels))
        if (r.measured_track_gain, r.measured_track_peak) != (gain, peak):
            r.measured_track_gain, r.measured_track_peak = gain, peak
            changed.append(r)
            touched_albums.add(_album_key(r))
    touched_albums.discard(None)
    if touched_albums:
        albums = albums if albums is not None else albums_of(rows)
        for group in (albums.get(k, ()) for k in touched_albums):
            measured = [(r, max(r.duration or 0.0, 1.0)) for r in group if r.measured_track_gain is not None]
            if not measured:
                continue
            # loudness = -18 - gain; power mean over the album's tracks, weighted by length
            power = sum(w * 10 ** ((-18.0 - r.measured_track_gain) / 10) for r, w in measured)
            album_gain = -18.0 - 10 * math.log10(power / sum(w for _, w in measured))
            for r in group:
                if r.measured_album_gain != album_gain:
                    r.measured_album_gain = album_gain
                    if all(c is not r for c in changed):
                        changed.append(r)
    return changed


_SORT_KEYS = {
    COL_TITLE: lambda r: (r.title.casefold(), r.artist.casefold()),
    COL_ARTIST: lambda r: (r.artist.casefold(), r.album.casefold(), r.disc_no, r.track_no, r.title.casefold()),
    COL_ALBUM: lambda r: (r.album.casefold(), r.disc_no, r.track_no, r.title.casefold()),
    COL_DURATION: lambda r: r.duration or 0.0,
    COL_TAG: lambda r: (r.genre_tag.casefold(), r.artist.casefold()),
    COL_PREDICTED: lambda r: (r.predicted, -r.confidence),
    COL_RATING: lambda r: (-r.rating, r.artist.casefold()),
    COL_PLAYS: lambda r: (r.plays, r.last_played or 0.0),
    COL_LAST_PLAYED: lambda r: r.last_played or 0.0,
    COL_SKIPS: lambda r: (r.skips, r.artist.casefold()),
}
#: columns whose empty values sort last in both directions
_EMPTY = {
    COL_TITLE: lambda r: not r.title, COL_ARTIST: lambda r: not r.artist, COL_ALBUM: lambda r: not r.album,
    COL_DURATION: lambda r: r.duration is None, COL_TAG: lambda r: not r.genre_tag,
    COL_PREDICTED: lambda r: not r.predicted, COL_RATING: lambda r: False,
    COL_PLAYS: lambda r: not r.plays, COL_LAST_PLAYED: lambda r: r.last_played is None, COL_SKIPS: lambda r: not r.skips,
}


_ROLES = frozenset({
    Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.DecorationRole, Qt.ItemDataRole.ToolTipRole,
    Qt.ItemDataRole.TextAlignmentRole, Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.FontRole,
    TRACK_ID_ROLE,
})


@dataclasses.dataclass
class RowSet:
    """Rows prepared off the UI thread: the list, its id lookups and the order of one column."""

    rows: list[Row]
    by_id: dict[int, Row]
    pos: dict[int, int]
    orders: dict[int, tuple[list[int], list[int]]]


def prepare_rows(rows: Sequence[Row], *, sort_column: int = 1, all_columns: bool = False) -> RowSet:
    """Index ``rows`` and sort them by ``sort_column`` (and by every other column with
    ``all_columns``).  Run it on a worker thread; ``other_orders`` computes the rest later."""
    rows = list(rows)
    rs = RowSet(rows, {r.id: r for r in rows}, {r.id: i for i, r in enumerate(rows)}, {})
    for col in [sort_column] + ([c for c in _SORT_KEYS if c != sort_column] if all_columns else []):
        rs.orders[col] = _column_order(rows, col)
    return rs


def other_orders(rs: RowSet) -> dict[int, tuple[list[int], list[int]]]:
    """The sort orders ``rs`` does not have yet (worker thread), for ``LibraryModel.adopt_orders``:
    a click on any header then costs the UI thread no sorting."""
    return {col: _column_order(rs.rows, col) for col in _SORT_KEYS if col not in rs.orders}


def _column_order(rows: list[Row], col: int) -> tuple[list[int], list[int]]:
    empty = _EMPTY[col]
    full = [i for i, r in enumerate(rows) if not empty(r)]
    blank = [i for i, r in enumerate(rows) if empty(r)]
    key = _SORT_KEYS[col]
    full.sort(key=lambda i: key(rows[i]))
    blank.sort(key=lambda i: rows[i].path)
    return full, blank


class LibraryModel(QAbstractTableModel):
    """Flat table of ``Row`` s with in-memory sort and filter.

    ``set_rows(rows)``; ``set_filter(text=None, genre=None)``; ``set_browse(ids)`` (the
    browser's pick); ``sort(column, order)`` (the view calls it); ``visible_rows()``; ``set_rating(track_id, value)``, ``set_predictions({id: (genre, conf)})``;
    ``row_for(track_id)``, ``track_id(row)``, ``row_data(row)``.
    ``countsChanged(shown, total)`` after every change of rows or filter.
    """

    countsChanged = Signal(int, int)

    def __init__(self, parent=None, *, icons: Mapping[int, Any] | None = None):
        super().__init__(parent)
        self._all: list[Row] = []
        self._visible: list[Row] = []
        self._row_of_cache: dict[int, int] | None = {}
        self._by_id: dict[int, Row] = {}
        self._pos: dict[int, int] = {}  # track id -> index in _all
        self._orders: dict[int, tuple[list[int], list[int]]] = {}  # col -> (ascending non-empty, empty)
        self._rowset: RowSet | None = None
        self._stale_cols: set[int] = set()  # columns edited since the rows came (ratings, genres)
        self._text_mask: bytearray | None = None  # None: every row passes
        self._genre_mask: bytearray | None = None
        self._browse_ids: frozenset[int] | None = None  # the artist / album picked in the browser
        self._browse_mask: bytearray | None = None
        self._text_words: list[str] = []
        self._genre = ""
        self._sort_col = COL_ARTIST
        self._sort_order = Qt.SortOrder.AscendingOrder
        self._icons = dict(icons or {})
        self._bold = QFont()
        self._bold.setBold(True)
        self._current_id: int | None = None
        self._albums: dict | None = None  # album -> its rows (measured album gains), built when first needed

    # --- Qt model API --------------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()):  # noqa: N802
        return 0 if parent.isValid() else len(self._visible)

    def columnCount(self, parent=QModelIndex()):  # noqa: N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(COLUMNS):
            if role == Qt.ItemDataRole.DisplayRole:
                return COLUMNS[section]
            if role == Qt.ItemDataRole.ToolTipRole:
                return {
                    COL_TAG: "The genre written in the file's tags",
                    COL_PREDICTED: "The genre Melograph's model hears, with its confidence",
                    COL_RATING: "Liked (♥) or disliked",
                }.get(section)
            if role == Qt.ItemDataRole.TextAlignmentRole and section in (COL_DURATION, COL_RATING):
                return int(Qt.AlignmentFlag.AlignCenter)
        return None

    def flags(self, index):
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if role not in _ROLES or not index.isValid():
            return None  # most calls from a painting view: answered without any work
        row, col = index.row(), index.column()
        if not (0 <= row < len(self._visible)):
            return None
        r = self._visible[row]
        if role == Qt.ItemDataRole.DisplayRole:
            if col == COL_TITLE:
                return r.title
            if col == COL_ARTIST:
                return r.artist
            if col == COL_ALBUM:
                return r.album
            if col == COL_DURATION:
                return format_time(r.duration) if r.duration is not None else ""
            if col == COL_TAG:
                return r.genre_tag
            if col == COL_PREDICTED:
                return r.predicted_text()
            if col == COL_RATING:
                return "" if COL_RATING in self._icons_for(r) else ("♥" if r.rating > 0 else "✕" if r.rating < 0 else "")
            if col == COL_PLAYS:
                return str(r.plays) if r.plays else ""
            if col == COL_LAST_PLAYED:
                return format_when(r.last_played) if r.last_played else ""
            if col == COL_SKIPS:
                return str(r.skips) if r.skips else ""
            return None
        if role == Qt.ItemDataRole.DecorationRole and col == COL_RATING:
            return self._icons_for(r).get(COL_RATING)
        if role == TRACK_ID_ROLE:
            return r.id
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == COL_TITLE:
                return r.path
            if col == COL_PREDICTED and r.predicted:
                if r.label.startswith("Not music"):
                    return f"Melograph hears no music in most of this track: {r.label[len('Not music'):].strip(' ()') or 'not music'}"
                if r.label.startswith("uncertain"):
                    return f"The genre model is unsure: {r.label[len('uncertain: '):]} (top {100 * r.confidence:.0f}%)"
                return f"The model hears {r.predicted} ({100 * r.confidence:.0f}% of the track)"
            if col == COL_RATING:
                return "Liked" if r.rating > 0 else "Disliked" if r.rating < 0 else None
            if col == COL_LAST_PLAYED and r.last_played:
                return time.strftime("%Y-%m-%d %H:%M", time.localtime(r.last_played))
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if col in (COL_DURATION, COL_PLAYS, COL_SKIPS):
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if col == COL_RATING:
                return int(Qt.AlignmentFlag.AlignCenter)
            return None
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == COL_RATING:
                return LIKED_COLOUR if r.rating > 0 else DISLIKED_COLOUR if r.rating < 0 else None
            if col == COL_PREDICTED and r.predicted and r.confidence < 0.4:
                return DIM_COLOUR
            return None
        if role == Qt.ItemDataRole.FontRole and r.id == self._current_id:
            return self._bold
        return None

    def _icons_for(self, r: Row) -> dict:
        if not self._icons or r.rating == 0:
            return {}
        icon = self._icons.get(r.rating)
        return {COL_RATING: icon} if icon is not None else {}

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        if column not in _SORT_KEYS:
            return
        if (column, order) == (self._sort_col, self._sort_order) and self._visible:
            return  # QTableView.sortByColumn can ask twice
        self._sort_col, self._sort_order = column, order
        self.layoutAboutToBeChanged.emit()
        old_persistent = self.persistentIndexList()
        old_ids = [self._visible[i.row()].id if 0 <= i.row() < len(self._visible) else None for i in old_persistent]
        self._rebuild_visible()
        new = []
        for idx, tid in zip(old_persistent, old_ids):
            row = self._row_of.get(tid) if tid is not None else None
            new.append(self.index(row, idx.column()) if row is not None else QModelIndex())
        self.changePersistentIndexList(old_persistent, new)
        self.layoutChanged.emit()

    # --- data in ------------------------------------------------------------------------------------
    def sort_column(self) -> int:
        return self._sort_col

    def set_rows(self, rows: "Sequence[Row] | RowSet") -> None:
        """Show ``rows`` (a ``RowSet`` from ``prepare_rows`` leaves almost nothing to do here)."""
        if not isinstance(rows, RowSet):
            rows = prepare_rows(rows, sort_column=self._sort_col)
        self._rowset = rows
        self.beginResetModel()
        self._all, self._by_id, self._pos = rows.rows, rows.by_id, rows.pos
        self._albums = None
        self._orders = dict(rows.orders)
        self._stale_cols = set()
        self._text_mask = self._make_text_mask(self._text_words)
        self._genre_mask = self._make_genre_mask(self._genre)
        self._browse_mask = self._make_browse_mask(self._browse_ids)
        self._rebuild_visible()
        self.endResetModel()
        self.countsChanged.emit(len(self._visible), len(self._all))

    def rowset(self) -> "RowSet | None":
        return self._rowset

    def adopt_orders(self, rowset: "RowSet", orders: Mapping[int, tuple[list[int], list[int]]]) -> None:
        """Take sort orders computed off the UI thread for ``rowset`` (ignored if the rows have
        changed since, or for columns whose values changed: ratings, predictions)."""
        if rowset is not self._rowset:
            return
        for col, order in orders.items():
            if col not in self._orders and col not in self._stale_cols:
                self._orders[col] = order

    def set_filter(self, text: str | None = None, genre: str | None = None) -> None:
        """Keep rows containing every word of ``text`` (title, artist, album, file name) and, if
        ``genre`` is given, whose predicted genre (either genre of an "uncertain: a or b" label)
        or one of whose genre tag's values is ``genre``.  ``None`` keeps the current value of that part."""
        if text is not None:
            words = text.casefold().split()
            if words != self._text_words:
                narrowing = bool(self._text_words) and all(
                    any(old in new for new in words) for old in self._text_words
                )  # every old word is inside a new word: the new matches are a subset
                self._text_mask = self._make_text_mask(words, within=self._text_mask if narrowing else None)
                self._text_words = words
        if genre is not None and genre.casefold() != self._genre:
            self._genre = genre.casefold()
            self._genre_mask = self._make_genre_mask(self._genre)
        self.beginResetModel()
        self._rebuild_visible()
        self.endResetModel()
        self.countsChanged.emit(len(self._visible), len(self._all))

    def set_browse(self, ids: Iterable[int] | None) -> None:
        """Keep only the tracks ``ids`` (the artist or album picked in the browser), on top of
        the text and genre filters; None: no such limit."""
        ids = frozenset(ids) if ids is not None else None
        if ids == self._browse_ids:
            return
        self._browse_ids = ids
        self._browse_mask = self._make_browse_mask(ids)
        self.beginResetModel()
        self._rebuild_visible()
        self.endResetModel()
        self.countsChanged.emit(len(self._visible), len(self._all))

    def visible_rows(self) -> Sequence[Row]:
        """The rows shown, in order.  The list is replaced on every change, never edited in
        place, so another thread (the player's) may read the one it got."""
        return self._visible

    def set_rating(self, track_id: int, value: int) -> None:
        r = self._by_id.get(track_id)
        if r is None or r.rating == value:
            return
        r.rating = int(value)
        self._orders.pop(COL_RATING, None)
        self._stale_cols.add(COL_RATING)
        row = self._row_of.get(track_id)
        if row is not None:
            i = self.index(row, COL_RATING)
            self.dataChanged.emit(i, i)

    def set_loudness(self, loudness: Mapping[int, tuple]) -> None:
        """Measured loudness that the analysis reports (see :func:`apply_loudness`); no column shows it."""
        rows = [self._by_id[t] for t in loudness if t in self._by_id]
        if self._albums is None:  # built once per set of rows: the analysis reports a few tracks at a time
            self._albums = albums_of(self._all)
        apply_loudness(rows, loudness, albums=self._albums)

    def set_predictions(self, predictions: Mapping[int, tuple[str, float]]) -> None:
        changed = []
        for tid, (genre, conf, *label) in predictions.items():
            r = self._by_id.get(tid)
            label = label[0] if label else ""
            if r is not None and (r.predicted, r.confidence, r.label) != (genre, float(conf), label):
                r.predicted, r.confidence, r.label = genre, float(conf), label
                if tid in self._row_of:
                    changed.append(self._row_of[tid])
        self._orders.pop(COL_PREDICTED, None)
        self._stale_cols.add(COL_PREDICTED)
        if self._genre:
            self._genre_mask = self._make_genre_mask(self._genre)  # takes effect at the next filter change
        self._cells_changed(changed, COL_PREDICTED)

    #: more separate runs of changed rows than this are announced as one range
    MAX_CHANGED_RUNS = 64

    def _cells_changed(self, rows: list[int], col: int) -> None:
        """``dataChanged`` for ``col`` of ``rows``, one signal per run of adjacent rows: the view
        then repaints those cells, not every visible row between the first and the last (the
        analysis reports a few tracks at a time, scattered over the table, while music plays)."""
        if not rows:
            return
        rows = sorted(set(rows))
        runs = [[rows[0], rows[0]]]
        for r in rows[1:]:
            if r == runs[-1][1] + 1:
                runs[-1][1] = r
            else:
                runs.append([r, r])
        if len(runs) > self.MAX_CHANGED_RUNS:
            runs = [[rows[0], rows[-1]]]
        for a, b in runs:
            self.dataChanged.emit(self.index(a, col), self.index(b, col))

    def set_history(self, track_id: int, plays: int, skips: int, last_played: float | None) -> None:
        """A track's listening history changed (a play or a skip was counted)."""
        r = self._by_id.get(track_id)
        if r is None or (r.plays, r.skips, r.last_played) == (plays, skips, last_played):
            return
        r.plays, r.skips, r.last_played = int(plays), int(skips), last_played
        for col in HISTORY_COLUMNS:
            self._orders.pop(col, None)
            self._stale_cols.add(col)
        row = self._row_of.get(track_id)
        if row is not None:
            self.dataChanged.emit(self.index(row, COL_PLAYS), self.index(row, COL_SKIPS))

    @property
    def current_id(self) -> int | None:
        """The playing track (shown in bold), or None."""
        return self._current_id

    def set_current(self, track_id: int | None) -> None:
        """Show the playing track in bold."""
        old, self._current_id = self._current_id, track_id
        for tid in (old, track_id):
            row = self._row_of.get(tid) if tid is not None else None
            if row is not None:
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    # --- lookups ------------------------------------------------------------------------------------
    def row_for(self, track_id: int) -> int | None:
        return self._row_of.get(track_id)

    def track_id(self, row: int) -> int:
        return self._visible[row].id

    def row_data(self, row: int) -> Row:
        return self._visible[row]

    def by_id(self, track_id: int) -> Row | None:
        return self._by_id.get(track_id)

    def total(self) -> int:
        return len(self._all)

    def genres(self) -> list[str]:
        """Genres to offer in the filter: predicted genres, then tags, each once (case-insensitive)."""
        seen: dict[str, str] = {}
        for r in self._all:
            if r.predicted:
                seen.setdefault(r.predicted.casefold(), r.predicted)
                if r.label.startswith("uncertain"):
                    for g in genres_named(r.label):
                        seen.setdefault(g.casefold(), g)
        tags: dict[str, str] = {}
        for r in self._all:
            for g in r.genres:
                tags.setdefault(g.casefold(), g)
        for k, v in tags.items():
            seen.setdefault(k, v)
        return sorted(seen.values(), key=str.casefold)

    # --- internals --------------------------------------------------------------------------------
    @property
    def _row_of(self) -> dict[int, int]:
        if self._row_of_cache is None:
            self._row_of_cache = {r.id: i for i, r in enumerate(self._visible)}
        return self._row_of_cache

    def _make_text_mask(self, words: list[str], within: bytearray | None = None) -> bytearray | None:
        if not words:
            return None
        rows = self._all
        mask = bytearray(len(rows))
        candidates = range(len(rows)) if within is None else [i for i, m in enumerate(within) if m]
        if len(words) == 1:
            w = words[0]
            for i in candidates:
                if w in rows[i].search:
                    mask[i] = 1
        else:
            for i in candidates:
                s = rows[i].search
                if all(w in s for w in words):
                    mask[i] = 1
        return mask

    def _make_genre_mask(self, genre: str) -> bytearray | None:
        if not genre:
            return None
        def named(r: Row) -> bool:  # "uncertain: blues or jazz" is found under both
            return r.label.startswith("uncertain") and genre in (g.casefold() for g in genres_named(r.label))

        return bytearray(1 if (r.predicted.casefold() == genre or genre in r.genre_keys or named(r)) else 0
                         for r in self._all)

    def _make_browse_mask(self, ids: frozenset[int] | None) -> bytearray | None:
        if ids is None:
            return None
        return bytearray(1 if r.id in ids else 0 for r in self._all)

    def _order(self, col: int) -> tuple[list[int], list[int]]:
        """Indices into ``_all``: non-empty values ascending, then the empty ones (by path)."""
        o = self._orders.get(col)
        if o is None:
            o = self._orders[col] = _column_order(self._all, col)
        return o

    def _rebuild_visible(self) -> None:
        full, blank = self._order(self._sort_col)
        order = (full[::-1] if self._sort_order == Qt.SortOrder.DescendingOrder else full) + blank
        masks = [m for m in (self._text_mask, self._genre_mask, self._browse_mask) if m is not None]
        if len(masks) == 1:
            m = masks[0]
            order = [i for i in order if m[i]]
        elif len(masks) == 2:
            a, b = masks
            order = [i for i in order if a[i] and b[i]]
        elif masks:
            a, b, c = masks
            order = [i for i in order if a[i] and b[i] and c[i]]
        rows = self._all
        self._visible = [rows[i] for i in order]
        self._row_of_cache = None


def ids_of(indexes: Iterable[QModelIndex | QPersistentModelIndex]) -> list[int]:
    """Track ids of the distinct rows among ``indexes`` (in row order)."""
    seen: dict[int, int] = {}
    for i in indexes:
        tid = i.data(TRACK_ID_ROLE)
        if tid is not None:
            seen.setdefault(tid, i.row())
    return sorted(seen, key=seen.get)
