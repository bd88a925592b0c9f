"""Side panels: the queue, the recommendations, the files that failed."""
from __future__ import annotations

import html

from PySide6.QtCore import QRect, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.fmt import format_time



def _selected_keys(lst: QListWidget) -> list:
    """The keys (``UserRole``) of ``lst`` 's selected items, top to bottom."""
    rows = sorted(lst.row(it) for it in lst.selectedItems())
    return [lst.item(r).data(Qt.ItemDataRole.UserRole) for r in rows]


def _item_for_menu(lst: QListWidget, pos):
    """The item a right-click at ``pos`` is about (None off the items); a click outside the
    selection makes that item the selection, as file managers do."""
    item = lst.itemAt(pos)
    if item is not None and not item.isSelected():
        lst.setCurrentItem(item)
    return item

class _TwoLineLabel(QLabel):
    """A bold title over a grey reason, each on one line and elided with "…" to the width it
    gets (re-elided when the panel is resized), never cut off mid-letter by the list's edge."""

    #: the side of the picture drawn left of the text (``set_icon``)
    ICON = 32

    def __init__(self, title: str, reason: str, parent: QWidget | None = None):
        super().__init__(parent)
        self._title, self._reason = title, reason
        self._icon: QPixmap | None = None
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setWordWrap(False)
        self.setContentsMargins(6, 2, 6, 2)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self._render(10_000)

    def _render(self, width: int) -> None:
        m = self.contentsMargins()
        avail = max(40, width - m.left() - m.right() - 4)
        bold = self.font()
        bold.setBold(True)
        title = QFontMetrics(bold).elidedText(self._title, Qt.TextElideMode.ElideRight, avail)
        reason = QFontMetrics(self.font()).elidedText(self._reason, Qt.TextElideMode.ElideRight, avail)
        self.setText(f"<div style='margin:2px 0'><b>{html.escape(title)}</b><br>"
                     f"<span style='color:#9a9ab0'>{html.escape(reason)}</span></div>")

    def plain_lines(self) -> tuple[str, str]:
        """What is on screen now (title line, reason line), as plain text."""
        from PySide6.QtGui import QTextDocument

        doc = QTextDocument()
        doc.setHtml(self.text())
        lines = doc.toPlainText().split("\n")
        return lines[0], lines[1] if len(lines) > 1 else ""

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self._render(event.size().width())
        super().resizeEvent(event)

    def set_icon(self, pixmap: QPixmap | None) -> None:
        """A picture (a cover) left of the text, ``ICON`` pixels a side; None: none."""
        self._icon = pixmap
        self.setContentsMargins(self.ICON + 12 if pixmap is not None else 6, 2, 6, 2)
        self._render(self.width() if self.isVisible() else 10_000)
        self.update()

    def icon(self) -> QPixmap | None:
        return self._icon

    def sizeHint(self):  # noqa: N802
        hint = super().sizeHint()
        if self._icon is not None:
            hint.setHeight(max(hint.height(), self.ICON + 4))
        return hint

    def paintEvent(self, event) -> None:  # noqa: N802
        super().paintEvent(event)
        if self._icon is not None:
            painter = QPainter(self)
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            side = self.ICON
            size = self._icon.deviceIndependentSize().toSize().scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio)
            x, y = 6 + (side - size.width()) // 2, (self.height() - size.height()) // 2
            painter.drawPixmap(QRect(x, y, size.width(), size.height()), self._icon)
            painter.end()


def _placeholder(text: str) -> QLabel:
    lab = QLabel(text)
    lab.setObjectName("panelPlaceholder")
    lab.setWordWrap(True)
    lab.setAlignment(Qt.AlignmentFlag.AlignCenter)
    lab.setMargin(12)
    return lab


class _DurationDelegate(QStyledItemDelegate):
    """Draws an item's text elided to leave room for its duration, right-aligned in grey."""

    def paint(self, painter, option, index) -> None:
        duration = index.data(QueuePanel.DURATION_ROLE) or ""
        if not duration:
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        fm = opt.fontMetrics
        room = fm.horizontalAdvance(duration) + 12
        text_rect = opt.rect.adjusted(0, 0, -room, 0)
        opt.text = fm.elidedText(opt.text, Qt.TextElideMode.ElideRight, max(0, text_rect.width() - 8))
        style = opt.widget.style() if opt.widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        painter.save()
        painter.setPen(QColor("#9a9ab0"))
        painter.drawText(opt.rect.adjusted(0, 0, -6, 0), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, duration)
        painter.restore()


def _emit(signal, *args) -> None:
    """Emit ``signal`` from a menu's lambda (a slot must return None: see desktop/mainwindow.py)."""
    signal.emit(*args)


class _QueueList(QListWidget):
    """The queue's list, whose entries the user drags to another place.  A drop moves the
    dragged (selected) entries there at once and emits ``moved(keys, before)``: those entries
    in their queue order, and the entry they now stand before (None: the end); the player
    then makes its queue the same."""

    moved = Signal(list, object)
    #: what Qt's item views put in a drag of their rows
    ROWS_MIME = "application/x-qabstractitemmodeldatalist"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setDropIndicatorShown(True)

    def keys(self) -> list:
        return [self.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.count())]

    def dropEvent(self, event) -> None:  # noqa: N802
        if event.source() not in (self, None) or not event.mimeData().hasFormat(self.ROWS_MIME):
            event.ignore()
            return
        pos = event.position().toPoint()
        idx = self.indexAt(pos)
        if not idx.isValid():
            row = self.count()
        else:
            row = idx.row() + (1 if pos.y() > self.visualRect(idx).center().y() else 0)
        self.move_selected_to(row)
        # handled here: Qt must not move (or, after a move, delete) the rows itself
        event.setDropAction(Qt.DropAction.IgnoreAction)
        event.ignore()

    def move_selected_to(self, row: int) -> None:
        """Move the selected entries to stand before row ``row`` (``count()``: the end)."""
        rows = sorted(self.row(it) for it in self.selectedItems())
        if not rows:
            return
        keys = self.keys()
        moved = [keys[r] for r in rows]
        moving = {id(k) for k in moved}
        head = [k for k in keys[:row] if id(k) not in moving]
        tail = [k for k in keys[row:] if id(k) not in moving]
        if [id(k) for k in head + moved + tail] == [id(k) for k in keys]:
            return  # dropped where they were
        items = [self.takeItem(r) for r in reversed(rows)][::-1]
        for n, it in enumerate(items):
            self.insertItem(len(head) + n, it)
            it.setSelected(True)
        self.moved.emit(moved, tail[0] if tail else None)


class QueuePanel(QWidget):
    """What plays next.  ``set_items([(key, text, seconds), ...])`` (seconds: the duration
    shown on the right; 0 or None: none); ``activated(key)`` on double-click and "Play now";
    ``removeRequested([key, ...])`` once for the selected entries on Delete and "Remove";
    ``clearRequested()``; ``moveRequested([key, ...], before)`` when entries are dragged to
    another place or moved to the bottom (``before`` None); ``moveToTopRequested([key, ...])``;
    ``showRequested(key)``: "Show in folder".  The context menu (:meth:`build_menu`) has them all,
    then what ``menu_extension(menu, keys)`` adds (set by the app: "Add to playlist ▸")."""

    activated = Signal(object)
    removeRequested = Signal(list)
    clearRequested = Signal()
    moveRequested = Signal(list, object)
    moveToTopRequested = Signal(list)
    showRequested = Signal(object)
    DURATION_ROLE = Qt.ItemDataRole.UserRole + 1

    EMPTY = "The queue is empty. Right-click a track and choose “Add to queue” or “Play next”."
    #: ``fn(menu, keys)`` adding entries at the end of the context menu (None: nothing)
    menu_extension = None

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.list = _QueueList()
        self.list.setObjectName("queueList")
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.itemDoubleClicked.connect(self._on_double_click)
        self.list.moved.connect(self.moveRequested)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._context_menu)
        self.list.setItemDelegate(_DurationDelegate(self.list))
        self.empty = _placeholder(self.EMPTY)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.list)
        self.clear_button = QPushButton("Clear")
        self.clear_button.clicked.connect(self.clearRequested)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.clear_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.stack, 1)
        lay.addLayout(row)
        self.set_items([])

    def _on_double_click(self, item) -> None:  # a slot returns None (see desktop/mainwindow.py)
        self.activated.emit(item.data(Qt.ItemDataRole.UserRole))

    def set_items(self, items) -> None:
        self.list.clear()
        for key, text, *seconds in items:
            it = QListWidgetItem(text)
            it.setData(Qt.ItemDataRole.UserRole, key)
            if seconds and seconds[0]:
                it.setData(self.DURATION_ROLE, format_time(seconds[0]))
            self.list.addItem(it)
        self.stack.setCurrentWidget(self.list if self.list.count() else self.empty)
        self.clear_button.setEnabled(self.list.count() > 0)

    def keys(self) -> list:
        return self.list.keys()

    def selected_keys(self) -> list:
        """The selected entries, top to bottom."""
        return _selected_keys(self.list)

    def _context_menu(self, pos) -> None:
        item = _item_for_menu(self.list, pos)
        if item is not None:
            self.build_menu(item.data(Qt.ItemDataRole.UserRole), self.selected_keys()).exec(
                self.list.viewport().mapToGlobal(pos))

    def build_menu(self, key, keys: list) -> QMenu:
        """The context menu for the entry ``key`` among the selected ``keys``."""
        keys = keys or [key]
        menu = QMenu(self)
        for text, name, slot in (
            ("Play now", "queuePlayNow", lambda: _emit(self.activated, key)),
            ("Move to top", "queueMoveTop", lambda: _emit(self.moveToTopRequested, keys)),
            ("Move to bottom", "queueMoveBottom", lambda: _emit(self.moveRequested, keys, None)),
            ("Remove", "queueRemove", lambda: _emit(self.removeRequested, keys)),
            (None, None, None),
            ("Show in folder", "queueShow", lambda: _emit(self.showRequested, key)),
            (None, None, None),
            ("Clear queue", "queueClear", lambda: _emit(self.clearRequested)),
        ):
            if text is None:
                menu.addSeparator()
            else:
                menu.addAction(text, slot).setObjectName(name)
        if self.menu_extension is not None:
            self.menu_extension(menu, keys)
        return menu

    def durations(self) -> list[str]:
        """The durations shown, top to bottom ("" where none)."""
        return [self.list.item(i).data(self.DURATION_ROLE) or "" for i in range(self.list.count())]

    def keyPressEvent(self, event):  # noqa: N802
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            keys = [it.data(Qt.ItemDataRole.UserRole) for it in self.list.selectedItems()]
            if keys:
                self.removeRequested.emit(keys)
            return
        super().keyPressEvent(event)


class RecommendationsPanel(QWidget):
    """Recommendations with their reasons, for a profile.

    ``set_items([(key, title, reason), ...])``; ``set_message(text)`` shows a sentence instead
    (no likes yet, training...); ``activated(key)`` on double-click; ``playAllRequested(keys)``.

    The profile picker (people sharing a computer each have their likes):
    ``set_profiles(names, current)`` fills it; the user picking one emits
    ``profileSelected(name)``; its last entry, "New profile…", asks for a name
    (:meth:`ask_profile_name`) and emits ``profileCreateRequested(name)``; for a profile other
    than ``default``, "Rename “X”…" (:meth:`ask_new_name`) emits ``profileRenameRequested(old,
    new)`` and "Remove “X”…" (:meth:`confirm_remove`: its likes go with it) emits
    ``profileRemoveRequested(name)``.  The panel never changes profiles by itself: the app does,
    then calls ``set_profiles`` again.

    Right-clicking recommendations gives "Play" (``activated``) or "Play these"
    (``playAllRequested`` with the selected keys), then what ``menu_extension(menu, keys)`` adds
    (set by the app: "Add to playlist ▸").
    """

    activated = Signal(object)
    playAllRequested = Signal(list)
    profileSelected = Signal(str)
    profileCreateRequested = Signal(str)
    profileRenameRequested = Signal(str, str)
    profileRemoveRequested = Signal(str)

    NEW_PROFILE = "New profile…"
    DEFAULT_PROFILE = "default"
    #: item data of the picker's action entries (no profile name starts with a NUL)
    _NEW, _RENAME, _REMOVE = "\0new", "\0rename", "\0remove"

    PLACEHOLDER = (
        "Like a few tracks and Melograph will recommend others from your library, with the reasons: "
        "the liked tracks each one is closest to, and its main genres."
    )

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.profile_combo = QComboBox()
        self.profile_combo.setObjectName("profileCombo")
        self.profile_combo.setToolTip("Whose likes the library shows and whose recommendations these are")
        self.profile_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.profile_combo.activated.connect(self._on_profile_activated)  # user choices only
        self._current_profile = ""
        self.set_profiles(["default"], "default")
        top = QHBoxLayout()
        label = QLabel("Profile:")
        label.setBuddy(self.profile_combo)
        top.addWidget(label)
        top.addWidget(self.profile_combo, 1)
        self.message = _placeholder(self.PLACEHOLDER)
        self.list = QListWidget()
        self.list.setObjectName("recommendationList")
        self.list.setSpacing(1)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.itemDoubleClicked.connect(self._on_double_click)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._context_menu)
        self.menu_extension = None  # fn(menu, keys) adding entries at the end of the context menu
        self.stack = QStackedWidget()
        self.stack.addWidget(self.message)
        self.stack.addWidget(self.list)
        self.play_button = QPushButton("Play these")
        self.play_button.setEnabled(False)
        self.play_button.clicked.connect(self._on_play_all)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.play_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addWidget(self.stack, 1)
        lay.addLayout(row)

    def _on_double_click(self, item) -> None:
        self.activated.emit(item.data(Qt.ItemDataRole.UserRole))

    def selected_keys(self) -> list:
        """The selected recommendations, top to bottom."""
        return _selected_keys(self.list)

    def _context_menu(self, pos) -> None:
        item = _item_for_menu(self.list, pos)
        if item is not None:
            self.build_menu(self.selected_keys() or [item.data(Qt.ItemDataRole.UserRole)]).exec(
                self.list.viewport().mapToGlobal(pos))

    def build_menu(self, keys: list) -> QMenu:
        """The context menu for the recommendations ``keys``."""
        menu = QMenu(self)
        if len(keys) > 1:
            menu.addAction("Play these", lambda: _emit(self.playAllRequested, keys)).setObjectName("recPlayThese")
        else:
            menu.addAction("Play", lambda: _emit(self.activated, keys[0])).setObjectName("recPlay")
        if self.menu_extension is not None:
            self.menu_extension(menu, keys)
        return menu

    # -- profiles ------------------------------------------------------------------------------
    def set_profiles(self, names, current: str) -> None:
        """Fill the picker with ``names`` (then "New profile…") and show ``current``."""
        combo = self.profile_combo
        combo.blockSignals(True)
        try:
            combo.clear()
            for name in names:
                combo.addItem(name, name)
            combo.insertSeparator(combo.count())
            combo.addItem(self.NEW_PROFILE, self._NEW)
            if current and current != self.DEFAULT_PROFILE:
                combo.addItem(f"Rename “{current}”…", self._RENAME)
                combo.addItem(f"Remove “{current}”…", self._REMOVE)
            i = combo.findData(current)
            combo.setCurrentIndex(max(i, 0))
            self._current_profile = combo.currentData() or ""
        finally:
            combo.blockSignals(False)

    def profiles(self) -> list[str]:
        c = self.profile_combo
        return [c.itemData(i) for i in range(c.count()) if c.itemData(i) and not c.itemData(i).startswith("\0")]

    def current_profile(self) -> str:
        return self._current_profile

    def ask_profile_name(self) -> str | None:
        """Ask the user for a new profile's name (None when cancelled)."""
        text, ok = QInputDialog.getText(
            self, "New profile", "Name of the new profile (each profile has its own likes and "
            "recommendations):")
        return text.strip() if ok and text.strip() else None

    def ask_new_name(self, old: str) -> str | None:
        """Ask for a profile's new name (None when cancelled or unchanged)."""
        text, ok = QInputDialog.getText(self, "Rename profile", f"New name for the profile “{old}”:", text=old)
        return text.strip() if ok and text.strip() and text.strip() != old else None

    def confirm_remove(self, name: str) -> bool:
        """Ask before removing a profile: its likes and dislikes go with it."""
        answer = QMessageBox.question(
            self, "Remove profile",
            f"Remove the profile “{name}”? Its likes, dislikes and recommendations are deleted; "
            "the music and the other profiles are not touched.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes

    def _on_profile_activated(self, index: int) -> None:
        name = self.profile_combo.itemData(index)
        if not name or name.startswith("\0"):  # an action entry
            # back to the current one while asking (and if the answer turns out unusable)
            self.profile_combo.setCurrentIndex(max(self.profile_combo.findData(self._current_profile), 0))
            current = self._current_profile
            if name == self._RENAME:
                new = self.ask_new_name(current)
                if new:
                    self.profileRenameRequested.emit(current, new)
            elif name == self._REMOVE:
                if self.confirm_remove(current):
                    self.profileRemoveRequested.emit(current)
            else:
                new = self.ask_profile_name()
                if new:
                    self.profileCreateRequested.emit(new)
            return
        if name != self._current_profile:
            self.profileSelected.emit(name)

    def _on_play_all(self, _checked: bool = False) -> None:
        self.playAllRequested.emit(self.keys())

    def set_message(self, text: str) -> None:
        self.message.setText(text)
        self.stack.setCurrentWidget(self.message)
        self.play_button.setEnabled(False)

    def set_items(self, items) -> None:
        """``[(key, title, reason), ...]``: each shown as the title, and the reason below it."""
        self.list.clear()
        for key, title, reason in items:
            it = QListWidgetItem()
            it.setData(Qt.ItemDataRole.UserRole, key)
            it.setData(Qt.ItemDataRole.UserRole + 1, f"{title} — {reason}" if reason else title)
            it.setToolTip(reason or "")
            label = _TwoLineLabel(title, reason or "")  # two lines exactly; the tooltip has the whole reason
            hint = label.sizeHint()
            hint.setWidth(min(hint.width(), 200))  # no horizontal scroll bar for long reasons
            it.setSizeHint(hint)
            self.list.addItem(it)
            self.list.setItemWidget(it, label)
        if self.list.count():
            self.stack.setCurrentWidget(self.list)
            self.play_button.setEnabled(True)
        else:
            self.set_message(self.PLACEHOLDER)

    def keys(self) -> list:
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())]

    def set_cover(self, key, pixmap: QPixmap | None) -> None:
        """Show ``pixmap`` (a cover) beside the recommendation ``key``; None: the placeholder."""
        from desktop.covers import placeholder_pixmap

        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(Qt.ItemDataRole.UserRole) == key:
                label = self.list.itemWidget(item)
                label.setProperty("hasCover", pixmap is not None)
                label.set_icon(pixmap if pixmap is not None else placeholder_pixmap(
                    label.ICON, dpr=self.devicePixelRatioF()))
                hint = label.sizeHint()
                hint.setWidth(min(hint.width(), 200))
                item.setSizeHint(hint)

    def covered_keys(self) -> list:
        """The recommendations shown with a cover (not the placeholder), top to bottom."""
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())
                if self.list.itemWidget(self.list.item(i)).property("hasCover")]

    def texts(self) -> list[str]:
        """Each recommendation as one line of plain text (title — reason)."""
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole + 1) for i in range(self.list.count())]


class FailuresPanel(QWidget):
    """Files that could not be used, with the one-line reason.  ``add_failures([(path, reason)])``;
    ``showRequested(path)`` on double-click (the app opens its folder)."""

    countChanged = Signal(int)
    showRequested = Signal(str)
    EMPTY = "No problems: every file in the library could be read."

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.table = QTableWidget(0, 2)
        self.table.setObjectName("failuresTable")
        self.table.setHorizontalHeaderLabels(["File", "Reason"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        hh.setStretchLastSection(True)
        hh.resizeSection(0, 380)
        self.table.cellDoubleClicked.connect(self._on_double_click)
        self.table.setToolTip("Double-click to open the file's folder")
        self.empty = _placeholder(self.EMPTY)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.table)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.stack)
        self._rows: dict[str, int] = {}

    def add_failures(self, failures) -> None:
        """Add or update ``(path, reason)`` pairs (one row per path)."""
        self.table.setUpdatesEnabled(False)
        try:
            for path, reason in failures:
                path = str(path)
                row = self._rows.get(path)
                if row is None:
                    row = self.table.rowCount()
                    self.table.insertRow(row)
                    self._rows[path] = row
                    item = QTableWidgetItem(path)
                    item.setToolTip(path)
                    self.table.setItem(row, 0, item)
                r = QTableWidgetItem(str(reason))
                r.setToolTip(str(reason))
                self.table.setItem(row, 1, r)
        finally:
            self.table.setUpdatesEnabled(True)
        self._changed()

    def _on_double_click(self, row: int, _column: int) -> None:
        item = self.table.item(row, 0)
        if item is not None:
            self.showRequested.emit(item.text())

    def clear(self) -> None:
        self.table.setRowCount(0)
        self._rows.clear()
        self._changed()

    def count(self) -> int:
        return self.table.rowCount()

    def failures(self) -> list[tuple[str, str]]:
        return [(self.table.item(r, 0).text(), self.table.item(r, 1).text()) for r in range(self.table.rowCount())]

    def _changed(self) -> None:
        self.stack.setCurrentWidget(self.table if self.table.rowCount() else self.empty)
        self.countChanged.emit(self.table.rowCount())

# FailuresPanel keeps the mapping from path to row; rows are never removed one by one
# (only clear()), so the indices stay valid.
