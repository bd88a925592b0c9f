"""The artist / album browser beside the library table.

``build_tree(rows, group_by)`` groups the table's rows (plain Python, run it on a worker thread):
    "artist": artists → albums
    "genre":  genres (each value of a multi-valued genre tag) → artists → albums
An album's artist is its album artist when the files say one, else the track's artist; an album
without an album artist whose tracks in one folder have several artists is a compilation and
goes under "Various artists" (as does an album artist spelled "Various Artists", "Various" or
"VA"); tracks without any artist go under "Unknown artist", without an album under "No album".
Each node lists its tracks' ids in album order (disc, track number, title); an album node names
the file its cover is taken from (its first track: embedded picture or folder image).

``BrowserPanel`` shows the tree with each node's track count and each album's cover (from the
app's ``desktop.covers.CoverCache``, loaded off the GUI thread; ``set_covers``); picking nodes emits
``selectionChanged(ids)`` (None: "All music", no limit); a double-click or Enter emits
``playRequested(ids)``; the grouping is picked in its combo box (``groupByChanged(str)``).
"""
from __future__ import annotations

import dataclasses
import os
from collections import defaultdict
from typing import Sequence

from PySide6.QtCore import QAbstractItemModel, QItemSelectionModel, QModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel, QTreeView, QVBoxLayout, QWidget,
)

VARIOUS = "Various artists"
UNKNOWN_ARTIST = "Unknown artist"
NO_ALBUM = "No album"
NO_GENRE = "No genre tag"
ALL_MUSIC = "All music"
#: album artists that mean "a compilation" (case aside)
VARIOUS_SPELLINGS = frozenset({"various artists", "various", "va", "v.a.", "various artist"})
GROUPINGS = {"artist": "Artist › Album", "genre": "Genre › Artist"}
#: an album's cover in the tree (pixels)
COVER_SIZE = 24


@dataclasses.dataclass(eq=False)
class Node:
    """A node of the tree: its label, its tracks' ids (album order), its children.  ``parent``,
    ``row`` and ``path`` are filled in when the tree is shown (``_TreeModel.set_nodes``)."""

    label: str
    ids: list[int] = dataclasses.field(default_factory=list)
    children: list["Node"] = dataclasses.field(default_factory=list)
    parent: "Node | None" = None
    row: int = 0
    path: str = ""
    count: int | None = None  # tracks shown beside it (None: len(ids))
    art: str = ""  # an album's first track: its cover is the album's ("" for other nodes)


def album_artists(rows: Sequence) -> dict[int, str]:
    """Track id → the artist its album is shown under (see the module docstring)."""
    compilations: dict[tuple[str, str], set[str]] = defaultdict(set)
    for r in rows:
        if not r.album_artist and r.album and r.artist:
            compilations[(r.album.casefold(), os.path.dirname(r.path))].add(r.artist.casefold())
    out = {}
    for r in rows:
        if r.album_artist:
            name = VARIOUS if r.album_artist.casefold() in VARIOUS_SPELLINGS else r.album_artist
        elif r.album and len(compilations.get((r.album.casefold(), os.path.dirname(r.path)), ())) > 1:
            name = VARIOUS
        else:
            name = r.artist or UNKNOWN_ARTIST
        out[r.id] = name
    return out


def _album_order(r) -> tuple:
    return (r.album.casefold(), r.disc_no, r.track_no, r.title.casefold())


def _artist_sort(label: str) -> tuple:
    # "Various artists" first, "Unknown artist" last, the others by name
    return (0 if label == VARIOUS else 2 if label == UNKNOWN_ARTIST else 1, label.casefold())


def _group(rows: Sequence, label_of, sort=lambda label: label.casefold()) -> list[tuple[str, list]]:
    """``rows`` grouped by ``label_of(row)`` (case aside, first spelling kept), sorted."""
    groups: dict[str, tuple[str, list]] = {}
    for r in rows:
        label = label_of(r)
        g = groups.setdefault(label.casefold(), (label, []))
        g[1].append(r)
    return sorted(groups.values(), key=lambda g: sort(g[0]))


def _artist_nodes(rows: Sequence, artist_of: dict[int, str]) -> list[Node]:
    nodes = []
    for artist, arows in _group(rows, lambda r: artist_of[r.id], _artist_sort):
        arows.sort(key=_album_order)
        albums = [Node(f"{album}", [r.id for r in al], art="" if album == NO_ALBUM else al[0].path)
                  for album, al in _group(arows, lambda r: r.album or NO_ALBUM,
                                          lambda a: (a == NO_ALBUM, a.casefold()))]
        nodes.append(Node(artist, [r.id for r in arows], albums))
    return nodes


def build_tree(rows: Sequence, group_by: str = "artist") -> list[Node]:
    """The browser's top-level nodes for ``rows`` (see the module docstring)."""
    artist_of = album_artists(rows)
    if group_by != "genre":
        return _artist_nodes(rows, artist_of)
    by_genre: dict[str, tuple[str, list]] = {}
    for r in rows:
        for g in (r.genres or (NO_GENRE,)):
            by_genre.setdefault(g.casefold(), (g, []))[1].append(r)
    nodes = []
    for label, grows in sorted(by_genre.values(), key=lambda g: (g[0] == NO_GENRE, g[0].casefold())):
        children = _artist_nodes(grows, artist_of)
        nodes.append(Node(label, [i for c in children for i in c.ids], children))
    return nodes


#: a node's place in the tree: its label and its parents', case-folded, joined by SEP ("" for "All music")
PATH_ROLE = Qt.ItemDataRole.UserRole + 1
SEP = "\x1f"


class _TreeModel(QAbstractItemModel):
    """A read-only Qt tree model straight over the ``Node`` s (two columns: label, track count):
    nothing is built per item, so a library of thousands of artists is shown at once."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._root = Node("")
        self.by_path: dict[str, Node] = {}
        self.covers = None  # a desktop.covers.CoverCache, when the app has one
        self._by_art: dict[str, list[Node]] = {}

    def set_covers(self, covers) -> None:
        self.covers = covers
        covers.ready.connect(self._cover_ready)

    def _cover_ready(self, audio_path: str, size: int) -> None:
        if size != COVER_SIZE:
            return
        for node in self._by_art.get(audio_path, ()):
            idx = self.createIndex(node.row, 0, node)
            self.dataChanged.emit(idx, idx, [Qt.ItemDataRole.DecorationRole])

    def set_nodes(self, nodes: list[Node], total: int) -> None:
        self.beginResetModel()
        everything = Node(ALL_MUSIC, count=total)
        self._root = Node("", children=[everything] + list(nodes))
        self.by_path = {}
        self._by_art = {}
        stack = [(self._root, "")]
        while stack:
            node, path = stack.pop()
            for row, child in enumerate(node.children):
                child.parent, child.row = node, row
                child.path = "" if child is everything else f"{path}{SEP}{child.label.casefold()}"
                self.by_path[child.path] = child
                if child.art:
                    self._by_art.setdefault(child.art, []).append(child)
                stack.append((child, child.path))
        self.endResetModel()

    @staticmethod
    def count(node: Node) -> int:
        return node.count if node.count is not None else len(node.ids)

    def index_of(self, path: str) -> QModelIndex:
        node = self.by_path.get(path)
        return self.createIndex(node.row, 0, node) if node is not None else QModelIndex()

    # --- Qt model API ----------------------------------------------------------------------------
    def _node(self, index: QModelIndex) -> Node:
        return index.internalPointer() if index.isValid() else self._root

    def index(self, row, column, parent=QModelIndex()):
        node = self._node(parent)
        if 0 <= row < len(node.children) and 0 <= column < 2:
            return self.createIndex(row, column, node.children[row])
        return QModelIndex()

    def parent(self, index=None):  # noqa: A003 (Qt's name; without an index: QObject.parent)
        if index is None:
            return super().parent()
        if not index.isValid():
            return QModelIndex()
        up = index.internalPointer().parent
        if up is None or up is self._root:
            return QModelIndex()
        return self.createIndex(up.row, 0, up)

    def rowCount(self, parent=QModelIndex()):  # noqa: N802
        if parent.isValid() and parent.column() > 0:
            return 0
        return len(self._node(parent).children)

    def columnCount(self, parent=QModelIndex()):  # noqa: N802
        return 2

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        node = index.internalPointer()
        if role == Qt.ItemDataRole.DisplayRole:
            return node.label if index.column() == 0 else f"{self.count(node):,}"
        if role == PATH_ROLE:
            return node.path
        if role == Qt.ItemDataRole.DecorationRole and index.column() == 0 and node.art and self.covers is not None:
            return self.covers.pixmap(node.art, COVER_SIZE)  # None until loaded: ``ready`` repaints it
        if role == Qt.ItemDataRole.ToolTipRole:
            n = self.count(node)
            return f"{node.label}: {n:,} track{'s' if n != 1 else ''}"
        if index.column() == 1:
            if role == Qt.ItemDataRole.TextAlignmentRole:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if role == Qt.ItemDataRole.ForegroundRole:
                return QColor("#9a9ab0")
        return None

    def flags(self, index):
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


class BrowserPanel(QWidget):
    selectionChanged = Signal(object)  # a frozenset of track ids, or None
    playRequested = Signal(list)
    groupByChanged = Signal(str)
    PATH_ROLE = PATH_ROLE

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.group_combo = QComboBox()
        self.group_combo.setObjectName("browserGroupBy")
        for key, text in GROUPINGS.items():
            self.group_combo.addItem(text, key)
        self.group_combo.setToolTip("How the browser groups the library")
        self.group_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.group_combo.setMinimumContentsLength(8)  # the panel may be narrow: the text is elided
        self.group_combo.activated.connect(self._on_group_activated)
        self.model = _TreeModel(self)
        self.tree = QTreeView()
        self.tree.setObjectName("browserTree")
        self.tree.setModel(self.model)
        self.tree.setHeaderHidden(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.tree.setIconSize(QSize(COVER_SIZE, COVER_SIZE))
        hh = self.tree.header()
        hh.setStretchLastSection(False)
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        hh.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.activated.connect(self._on_activated)
        self.tree.selectionModel().selectionChanged.connect(self._on_selection)
        self._open: set[str] = set()  # the paths of the expanded nodes
        self.tree.expanded.connect(self._on_expanded)
        self.tree.collapsed.connect(self._on_collapsed)
        self._last: frozenset | None = None
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        label = QLabel("Group:")
        label.setBuddy(self.group_combo)
        top.addWidget(label)
        top.addWidget(self.group_combo, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addWidget(self.tree, 1)
        self.set_tree([], 0)

    # --- the tree ---------------------------------------------------------------------------------
    def group_by(self) -> str:
        return self.group_combo.currentData()

    def set_group_by(self, key: str) -> None:
        i = self.group_combo.findData(key)
        if i >= 0:
            self.group_combo.setCurrentIndex(i)

    def _on_group_activated(self, _index: int) -> None:
        self.groupByChanged.emit(self.group_by())

    def set_tree(self, nodes: list[Node], total: int) -> None:
        """Show ``nodes`` under "All music" (``total`` tracks); the nodes picked and expanded
        before stay so where they still exist."""
        sm = self.tree.selectionModel()
        picked = [i.data(PATH_ROLE) for i in sm.selectedRows()]
        current = self.tree.currentIndex().data(PATH_ROLE)
        expanded, self._open = self._open, set()
        sm.blockSignals(True)
        try:
            self.model.set_nodes(nodes, total)
            for path in expanded:
                idx = self.model.index_of(path)
                if idx.isValid():
                    self.tree.expand(idx)
            for path in picked:
                idx = self.model.index_of(path)
                if idx.isValid():
                    sm.select(idx, QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)
            if current is not None and self.model.index_of(current).isValid():
                sm.setCurrentIndex(self.model.index_of(current), QItemSelectionModel.SelectionFlag.NoUpdate)
        finally:
            sm.blockSignals(False)
        self.tree.viewport().update()
        self._on_selection()

    def _on_expanded(self, index: QModelIndex) -> None:
        self._open.add(index.data(PATH_ROLE))

    def _on_collapsed(self, index: QModelIndex) -> None:
        self._open.discard(index.data(PATH_ROLE))

    # --- what the user picks ----------------------------------------------------------------------
    def labels(self, parent: QModelIndex = QModelIndex()) -> list[str]:
        """The labels under ``parent`` (top level by default), with their counts: "Alpha (2)"."""
        return [f"{self.model.index(r, 0, parent).data()} ({self.model.index(r, 1, parent).data()})"
                for r in range(self.model.rowCount(parent))]

    def select(self, *labels: str) -> None:
        """Pick the node at ``labels`` (top-level label, then its children's), as a click does."""
        parent, idx = QModelIndex(), QModelIndex()
        for label in labels:
            idx = next((self.model.index(r, 0, parent) for r in range(self.model.rowCount(parent))
                        if self.model.index(r, 0, parent).data() == label), QModelIndex())
            if not idx.isValid():
                raise KeyError(" › ".join(labels))
            parent = idx
        self.tree.setCurrentIndex(idx)
        self.tree.scrollTo(idx)

    def picked_ids(self) -> frozenset[int] | None:
        """The tracks under the picked nodes (None: none picked, or "All music")."""
        paths = {i.data(PATH_ROLE) for i in self.tree.selectionModel().selectedRows()}
        if not paths or "" in paths:
            return None
        return frozenset(i for p in paths for i in self.model.by_path[p].ids)

    def _ordered_ids(self, paths) -> list[int]:
        seen, out = set(), []
        for p in paths:
            for i in self.model.by_path[p].ids:
                if i not in seen:
                    seen.add(i)
                    out.append(i)
        return out

    def _on_selection(self, *_args) -> None:
        ids = self.picked_ids()
        if ids != self._last:
            self._last = ids
            self.selectionChanged.emit(ids)

    def _on_activated(self, index: QModelIndex) -> None:
        path = index.data(PATH_ROLE)
        if not path:  # "All music"
            return
        rows = self.tree.selectionModel().selectedRows()
        paths = [i.data(PATH_ROLE) for i in rows] if len(rows) > 1 else [path]
        ids = self._ordered_ids([p for p in paths if p])
        if ids:
            self.playRequested.emit(ids)
