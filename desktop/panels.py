"""Side panels: the queue, the recommendations, the files that failed."""
from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics
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


class _TwoLineLabel(QLabel):
    """A bold title over a grey reason, each on one line and elided with "…" to the width it
    gets (re-elided when the panel is resized), never cut off mid-letter by the list's edge."""

    def __init__(self, title: str, reason: str, parent: QWidget | None = None):
        super().__init__(parent)
        self._title, self._reason = title, reason
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


class QueuePanel(QWidget):
    """What plays next.  ``set_items([(key, text, seconds), ...])`` (seconds: the duration
    shown on the right; 0 or None: none); ``activated(key)`` on double-click;
    ``removeRequested([key, ...])`` once for the selected entries on Delete; ``clearRequested()``."""

    activated = Signal(object)
    removeRequested = Signal(list)
    clearRequested = Signal()
    DURATION_ROLE = Qt.ItemDataRole.UserRole + 1

    EMPTY = "The queue is empty. Right-click a track and choose “Add to queue” or “Play next”."

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.list = QListWidget()
        self.list.setObjectName("queueList")
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.itemDoubleClicked.connect(self._on_double_click)
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
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())]

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
