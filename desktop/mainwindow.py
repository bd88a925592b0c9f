"""The main window: library table, filters, now playing (spectrogram + genre chart), transport,
queue / recommendations / playlists / failed-files panels, status bar with scan and analysis progress.

A view: it owns widgets and user-facing actions and emits what the user asked for; the
presenters (``desktop/presenters/``) listen to those signals and call the ``set_*`` / ``show_*``
methods with what the catalog, the player and the analysis report.  It saves its own layout
(geometry, docks, splitter) in the settings.

Signals (beyond those of the child widgets ``transport``, ``spectrogram``, ``genre_chart``,
``queue_panel``, ``recommendations``, ``playlists_panel``, ``failures``, ``browser``: the artist /
album browser in a left dock, View ▸ Artists and albums, Ctrl+B):
    openFolderRequested(str)   File ▸ Open folder…, a folder dropped on the window
    rescanRequested()
    seekRequested(float)       absolute seconds, from the slider, the spectrogram, the strip, ←/→
    filterTextChanged(str), genreFilterChanged(str)  ("" = all genres)
    workersChanged(int)
    rateSelectedRequested(int) Ctrl+L / Ctrl+D while the table has focus: like (1) / dislike (-1)
                               the selected rows
    trackInfoRequested()       View ▸ Track info… (Ctrl+I): the selected track's details
    showPlayingRequested()     View ▸ Show playing track (Ctrl+J): select it in the table
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

from PySide6.QtCore import QEvent, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QGuiApplication, QKeySequence, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QHeaderView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QStyle,
    QTableView,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.browser import BrowserPanel
from desktop.history import RecentlyPlayedPanel
from desktop.panels import FailuresPanel, QueuePanel, RecommendationsPanel
from desktop.playlistspanel import PlaylistsPanel
from desktop.resources import svg_icon
from desktop.settings import Settings
from desktop.transport import TransportBar

log = logging.getLogger(__name__)

APP_NAME = "Melograph"
SEEK_STEP = 5.0
VOLUME_STEP = 5
ALL_GENRES = "All genres"
#: the window's size on a first start, if the screen has room for it
DEFAULT_SIZE = QSize(1280, 800)
#: the now-playing panel's share of the window's width on a first start (the table gets the rest)
NOW_PLAYING_SHARE = 0.36
#: the artist / album browser's width when it is shown (taken from the now-playing panel)
BROWSER_WIDTH = 180
MIN_NOW_PLAYING = 240
#: the now-playing cover's side (logical pixels)
COVER_SIZE = 64


class ElidedLabel(QLabel):
    """A one-line label that never asks for more width than it is given: a text too long for it
    is cut with "…" and shown whole in the tooltip.  ``text()`` is the whole text."""

    def __init__(self, text: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802
        super().setText(text)
        self.setToolTip(text)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(0, super().minimumSizeHint().height())

    def paintEvent(self, _event) -> None:  # noqa: N802
        rect = self.contentsRect()
        shown = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, rect.width())
        painter = QPainter(self)
        self.style().drawItemText(painter, rect, int(self.alignment()), self.palette(), self.isEnabled(),
                                  shown, self.foregroundRole())


class MainWindow(QMainWindow):
    openFolderRequested = Signal(str)
    rescanRequested = Signal()
    seekRequested = Signal(float)
    filterTextChanged = Signal(str)
    genreFilterChanged = Signal(str)
    workersChanged = Signal(int)
    playSelectedRequested = Signal()
    analysisPauseRequested = Signal(bool)  # True: pause, False: resume
    retryAnalysisRequested = Signal()
    rateSelectedRequested = Signal(int)
    trackInfoRequested = Signal()
    showPlayingRequested = Signal()
    preferencesRequested = Signal()  # Edit ▸ Preferences… (Ctrl+,)

    def __init__(
        self, settings: Settings, parent: QWidget | None = None, *, restore: bool = True, lazy_charts: bool = False
    ):
        super().__init__(parent)
        self.settings = settings
        self.setObjectName("mainWindow")
        self.setWindowTitle(APP_NAME)
        self.setWindowIcon(svg_icon("melograph"))
        self.setAcceptDrops(True)
        self._lazy_charts = lazy_charts
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks)
        self._notices: dict[str, str] = {}
        self._spectrogram = None
        self._genre_chart = None

        self._build_library()
        self._build_now_playing()
        self.setCentralWidget(self.library_pane)

        self._build_transport()
        self._build_docks()
        self._build_status_bar()
        self._build_actions()
        self._build_menus()

        self.resize(self.sizeHint())
        self.resizeDocks([self.now_playing_dock], [int(self.width() * NOW_PLAYING_SHARE)], Qt.Orientation.Horizontal)
        if restore:
            self.restore_settings()

    # --- construction ---------------------------------------------------------------------------
    def _build_library(self) -> None:
        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName("filterEdit")
        self.filter_edit.setPlaceholderText("Filter by title, artist or album  (Ctrl+F)")
        self.filter_edit.setClearButtonEnabled(True)
        self._filter_timer = QTimer(self)  # debounce typing: filter once the user pauses
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(150)
        self._filter_timer.timeout.connect(self._flush_filter)
        self.filter_edit.textChanged.connect(lambda _t: self._filter_timer.start())
        self.filter_edit.returnPressed.connect(self._flush_filter)
        self.filter_edit.installEventFilter(self)  # Esc clears it, Down moves into the results

        self.genre_combo = QComboBox()
        self.genre_combo.setObjectName("genreCombo")
        self.genre_combo.setMinimumWidth(150)
        self.genre_combo.setToolTip("Show one genre (predicted by the model, or the genre tag)")
        self.genre_combo.addItem(ALL_GENRES, "")
        self.genre_combo.currentIndexChanged.connect(self._on_genre_index)

        self.library_view = QTableView()
        self.library_view.setObjectName("libraryView")
        self.library_view.setSortingEnabled(True)
        self.library_view.setAlternatingRowColors(True)
        self.library_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.library_view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.library_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.library_view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.library_view.setWordWrap(False)
        self.library_view.setShowGrid(False)
        self.library_view.verticalHeader().setVisible(False)
        self.library_view.verticalHeader().setDefaultSectionSize(24)
        self.library_view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.library_view.horizontalHeader().setHighlightSections(False)
        self.library_view.horizontalHeader().setStretchLastSection(False)
        # Return/Enter and double-click both "activate" a row: that plays it
        self.library_view.activated.connect(self._on_row_activated)

        self.empty_library = QWidget()
        el = QVBoxLayout(self.empty_library)
        msg = QLabel(
            "<h2>No music yet</h2><p>Open a folder of music (File ▸ Open folder…, Ctrl+O),<br>"
            "or drop a folder onto this window.</p>"
        )
        msg.setObjectName("emptyLibraryLabel")
        msg.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_open_button = QPushButton("Open folder…")
        self.empty_open_button.setObjectName("emptyOpenButton")
        self.empty_open_button.clicked.connect(self.choose_folder)
        el.addStretch(1)
        el.addWidget(msg)
        el.addWidget(self.empty_open_button, 0, Qt.AlignmentFlag.AlignHCenter)
        el.addStretch(2)
        self.library_stack = QStackedWidget()
        self.library_stack.addWidget(self.empty_library)
        self.library_stack.addWidget(self.library_view)

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.filter_edit, 1)
        top.addWidget(self.genre_combo)
        self.library_pane = QWidget()
        self.library_pane.setObjectName("libraryPane")
        lay = QVBoxLayout(self.library_pane)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addLayout(top)
        lay.addWidget(self.library_stack, 1)

    def _build_now_playing(self) -> None:
        # elided: a long title or album never widens the panel (the whole text is the tooltip)
        self.title_label = ElidedLabel("Nothing playing")
        self.title_label.setObjectName("nowTitle")
        self.subtitle_label = ElidedLabel("")
        self.subtitle_label.setObjectName("nowSubtitle")
        self.banner = QLabel()
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.setVisible(False)
        self.np_splitter = QSplitter(Qt.Orientation.Vertical)
        self.np_splitter.setObjectName("nowPlayingSplitter")
        for _ in range(2):  # stand-ins until build_charts() (pyqtgraph loads after the first paint)
            stand_in = QLabel()
            stand_in.setStyleSheet("background: #14141a;")
            stand_in.setMinimumHeight(120)
            self.np_splitter.addWidget(stand_in)
        self.np_splitter.setStretchFactor(0, 5)
        self.np_splitter.setStretchFactor(1, 4)
        self.np_splitter.setChildrenCollapsible(False)
        self.np_splitter.setSizes([360, 400])
        self.now_playing_pane = QWidget()
        self.now_playing_pane.setObjectName("nowPlayingPane")
        lay = QVBoxLayout(self.now_playing_pane)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.setSpacing(4)
        # the cover beside the title and the artist — album line
        self.cover_label = QLabel()
        self.cover_label.setObjectName("nowCover")
        self.cover_label.setFixedSize(COVER_SIZE, COVER_SIZE)
        self.cover_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.set_cover(None)
        titles = QVBoxLayout()
        titles.setContentsMargins(0, 0, 0, 0)
        titles.setSpacing(2)
        titles.addStretch(1)
        titles.addWidget(self.title_label)
        titles.addWidget(self.subtitle_label)
        titles.addStretch(1)
        header = QHBoxLayout()
        header.setContentsMargins(0, 0, 0, 0)
        header.setSpacing(10)
        header.addWidget(self.cover_label)
        header.addLayout(titles, 1)
        lay.addLayout(header)
        lay.addWidget(self.banner)
        lay.addWidget(self.np_splitter, 1)
        if not self._lazy_charts:
            self.build_charts()

    def build_charts(self) -> None:
        """Create the spectrogram and the genre chart (imports pyqtgraph).  ``lazy_charts``
        windows call it after they are on screen; the ``spectrogram`` / ``genre_chart``
        attributes build them on first use anyway."""
        if self._spectrogram is not None:
            return
        from desktop.genrechart import GenreChart
        from desktop.spectrogram import SpectrogramView

        self._spectrogram = SpectrogramView()
        self._genre_chart = GenreChart()
        sizes = self.np_splitter.sizes()
        for i, w in enumerate((self._spectrogram, self._genre_chart)):
            old = self.np_splitter.replaceWidget(i, w)
            if old is not None:
                old.deleteLater()
        self.np_splitter.setSizes(sizes)
        self._spectrogram.seekRequested.connect(self.seekRequested)
        self._genre_chart.seekRequested.connect(self.seekRequested)

    @property
    def spectrogram(self):
        self.build_charts()
        return self._spectrogram

    @property
    def genre_chart(self):
        self.build_charts()
        return self._genre_chart

    def _build_transport(self) -> None:
        self.transport = TransportBar()
        self.transport.seekRequested.connect(self.seekRequested)
        self.transport_bar = QToolBar("Transport")
        self.transport_bar.setObjectName("transportToolBar")
        self.transport_bar.setMovable(False)
        self.transport_bar.setFloatable(False)
        self.transport_bar.toggleViewAction().setVisible(False)
        self.transport_bar.addWidget(self.transport)
        self.addToolBar(Qt.ToolBarArea.BottomToolBarArea, self.transport_bar)

    def _dock(self, title: str, name: str, widget: QWidget) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetClosable
            | QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        return dock

    def _build_docks(self) -> None:
        # now playing: a right dock that runs the full height (beside the bottom panels)
        self.now_playing_dock = QDockWidget("Now playing", self)
        self.now_playing_dock.setObjectName("nowPlayingDock")
        self.now_playing_dock.setWidget(self.now_playing_pane)
        # closable only from the View menu (no title bar): fixed in place otherwise
        self.now_playing_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.now_playing_dock.setTitleBarWidget(QWidget())
        self.setCorner(Qt.Corner.TopRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.now_playing_dock)

        self.queue_panel = QueuePanel()
        self.recommendations = RecommendationsPanel()
        self.failures = FailuresPanel()
        self.queue_dock = self._dock("Queue", "queueDock", self.queue_panel)
        self.recommendations_dock = self._dock("Recommendations", "recommendationsDock", self.recommendations)
        self.failures_dock = self._dock("Failed files", "failuresDock", self.failures)
        self.history_panel = RecentlyPlayedPanel()
        self.history_dock = self._dock("Recently played", "historyDock", self.history_panel)
        area = Qt.DockWidgetArea.BottomDockWidgetArea
        self.addDockWidget(area, self.recommendations_dock)
        self.addDockWidget(area, self.queue_dock)
        self.addDockWidget(area, self.failures_dock)
        self.tabifyDockWidget(self.recommendations_dock, self.queue_dock)
        self.tabifyDockWidget(self.queue_dock, self.failures_dock)
        self.addDockWidget(area, self.history_dock)
        self.tabifyDockWidget(self.failures_dock, self.history_dock)
        self.playlists_panel = PlaylistsPanel()
        self.playlists_dock = self._dock("Playlists", "playlistsDock", self.playlists_panel)
        self.addDockWidget(area, self.playlists_dock)
        self.tabifyDockWidget(self.queue_dock, self.playlists_dock)
        self.recommendations_dock.raise_()
        self.resizeDocks([self.recommendations_dock], [230], Qt.Orientation.Vertical)
        self.failures.countChanged.connect(
            lambda n: self.failures_dock.setWindowTitle(f"Failed files ({n})" if n else "Failed files")
        )

        # the artist / album browser, left of the table; hidden on a first start
        self.browser = BrowserPanel()
        self.browser_dock = self._dock("Artists and albums", "browserDock", self.browser)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.browser_dock)
        self.resizeDocks([self.browser_dock], [BROWSER_WIDTH], Qt.Orientation.Horizontal)
        self.browser_dock.hide()

    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        self.progress_label = QLabel()
        self.progress_label.setObjectName("progressLabel")
        self.progress_bar = QProgressBar()
        self.progress_bar.setObjectName("progressBar")
        self.progress_bar.setMaximumWidth(220)
        self.progress_bar.setMaximumHeight(16)
        self.progress_bar.setTextVisible(False)
        self.count_label = QLabel("No library")
        self.count_label.setObjectName("countLabel")
        # the library analysis has its own label, bar and pause button (it runs beside scans)
        self.analysis_label = QLabel()
        self.analysis_label.setObjectName("analysisLabel")
        self.analysis_bar = QProgressBar()
        self.analysis_bar.setObjectName("analysisBar")
        self.analysis_bar.setMaximumWidth(160)
        self.analysis_bar.setMaximumHeight(16)
        self.analysis_bar.setTextVisible(False)
        self.analysis_pause_button = QToolButton()
        self.analysis_pause_button.setObjectName("analysisPauseButton")
        self.analysis_pause_button.setCheckable(True)
        self.analysis_pause_button.setAutoRaise(True)
        self.analysis_pause_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPause))
        self.analysis_pause_button.setToolTip("Pause the analysis")
        self.analysis_pause_button.toggled.connect(self._on_analysis_pause_toggled)
        sb.addPermanentWidget(self.progress_label)
        sb.addPermanentWidget(self.progress_bar)
        sb.addPermanentWidget(self.analysis_label)
        sb.addPermanentWidget(self.analysis_bar)
        sb.addPermanentWidget(self.analysis_pause_button)
        sb.addPermanentWidget(self.count_label)
        for w in (self.progress_label, self.progress_bar, self.analysis_label, self.analysis_bar,
                  self.analysis_pause_button):
            w.hide()

    def _action(self, text: str, shortcut=None, slot=None, *, name: str, tip: str | None = None) -> QAction:
        a = QAction(text, self)
        a.setObjectName(name)
        if shortcut is not None:
            a.setShortcut(QKeySequence(shortcut))
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if tip:
            a.setStatusTip(tip)
        if slot is not None:
            a.triggered.connect(slot)
        self.addAction(a)  # shortcuts work even when the menu bar is hidden
        return a

    def _build_actions(self) -> None:
        K = Qt.Key
        M = Qt.KeyboardModifier
        t = self.transport
        self.open_action = self._action("&Open folder…", QKeySequence.StandardKey.Open, self.choose_folder, name="openAction")
        self.rescan_action = self._action("&Rescan library", "F5", self.rescanRequested, name="rescanAction")
        # the library folders presenter (desktop/presenters/folders.py) connects these two
        self.add_folder_action = self._action("&Add folder to library…", "Ctrl+Shift+O", None, name="addFolderAction")
        self.folders_action = self._action("Library &folders…", None, None, name="libraryFoldersAction")
        self.quit_action = self._action("&Quit", QKeySequence.StandardKey.Quit, self.close, name="quitAction")
        self.play_action = self._action("&Play / pause", K.Key_Space, t.playPauseClicked, name="playAction")
        self.stop_action = self._action("&Stop", "Ctrl+.", t.stopClicked, name="stopAction")
        self.prev_action = self._action("Pre&vious", M.ControlModifier | K.Key_Left, t.previousClicked, name="prevAction")
        self.next_action = self._action("&Next", M.ControlModifier | K.Key_Right, t.nextClicked, name="nextAction")
        self.back_action = self._action("Back 5 s", K.Key_Left, lambda: self.seek_by(-SEEK_STEP), name="backAction")
        self.fwd_action = self._action("Forward 5 s", K.Key_Right, lambda: self.seek_by(SEEK_STEP), name="forwardAction")
        self.vol_up_action = self._action("Volume up", M.ControlModifier | K.Key_Up, lambda: self.volume_by(VOLUME_STEP), name="volumeUpAction")
        self.vol_down_action = self._action("Volume down", M.ControlModifier | K.Key_Down, lambda: self.volume_by(-VOLUME_STEP), name="volumeDownAction")
        self.like_action = self._action("&Like", "Ctrl+L", lambda: self._rate(1), name="likeAction")
        self.dislike_action = self._action("&Dislike", "Ctrl+D", lambda: self._rate(-1), name="dislikeAction")
        self.filter_action = self._action("&Filter library", QKeySequence.StandardKey.Find, self.focus_filter, name="filterAction")
        # the library presenter shows or hides the table's Plays, Last played and Skips columns
        self.history_columns_action = self._action("Listening &history columns", None, None, name="historyColumnsAction",
                                                   tip="Show how often and when each track was played and skipped")
        self.history_columns_action.setCheckable(True)
        self.show_playing_action = self._action("Show &playing track", "Ctrl+J", self.showPlayingRequested,
                                                name="showPlayingAction",
                                                tip="Select the track that plays in the table, showing it if a filter hides it")
        self.track_info_action = self._action("Track &info…", "Ctrl+I", self._on_track_info, name="trackInfoAction",
                                              tip="Every tag, the file, the stream and the predicted genres")
        # shuffle and repeat: the playback presenter owns the modes and keeps these checked
        self.shuffle_action = self._action("Shu&ffle", "Ctrl+U", None, name="shuffleAction")
        self.shuffle_action.setCheckable(True)
        self.repeat_cycle_action = self._action("&Next repeat mode", "Ctrl+R", t.repeatClicked, name="repeatCycleAction")
        # the playback presenter hands it to the player and unchecks it once playback has stopped there
        self.stop_after_action = self._action("Stop &after current track", None, None, name="stopAfterAction",
                                              tip="Stop when this track ends; the queue stays for later")
        self.stop_after_action.setCheckable(True)
        self.repeat_group = QActionGroup(self)
        self.repeat_group.setExclusive(True)
        self.repeat_actions: dict[str, QAction] = {}
        for mode, text in (("off", "Repeat &off"), ("all", "Repeat &all"), ("one", "Repeat this &track")):
            a = QAction(text, self, checkable=True)
            a.setObjectName(f"repeat{mode.capitalize()}Action")
            self.repeat_group.addAction(a)
            self.repeat_actions[mode] = a
        self.about_action = self._action("&About Melograph", None, self._about, name="aboutAction")
        self.preferences_action = self._action("&Preferences…", "Ctrl+,", self.preferencesRequested,
                                               name="preferencesAction")

        self.pause_analysis_action = QAction("&Pause the analysis", self, checkable=True)
        self.pause_analysis_action.setObjectName("pauseAnalysisAction")
        self.pause_analysis_action.toggled.connect(self._on_pause_action)
        self.retry_analysis_action = QAction("&Retry files that failed", self)
        self.retry_analysis_action.setObjectName("retryAnalysisAction")
        self.retry_analysis_action.triggered.connect(self._on_retry_action)

        self.workers_group = QActionGroup(self)
        self.workers_group.setExclusive(True)
        self.worker_actions: dict[int, QAction] = {}
        for n in range(1, max(2, os.cpu_count() or 1) + 1):
            a = QAction(f"{n} worker{'s' if n > 1 else ''}", self, checkable=True)
            a.setObjectName(f"workers{n}Action")
            a.triggered.connect(lambda _c=False, n=n: self._set_workers(n))
            self.workers_group.addAction(a)
            self.worker_actions[n] = a

    def _build_menus(self) -> None:
        mb = self.menuBar()
        f = mb.addMenu("&File")
        f.addAction(self.open_action)
        f.addAction(self.add_folder_action)
        f.addAction(self.folders_action)
        f.addAction(self.rescan_action)
        f.addSeparator()
        f.addAction(self.quit_action)
        e = mb.addMenu("&Edit")
        e.addAction(self.preferences_action)
        p = mb.addMenu("&Playback")
        for a in (self.play_action, self.stop_action, self.prev_action, self.next_action, self.stop_after_action):
            p.addAction(a)
        p.addSeparator()
        for a in (self.back_action, self.fwd_action, self.vol_up_action, self.vol_down_action):
            p.addAction(a)
        p.addSeparator()
        p.addAction(self.shuffle_action)
        r = p.addMenu("&Repeat")
        for a in self.repeat_actions.values():
            r.addAction(a)
        r.addSeparator()
        r.addAction(self.repeat_cycle_action)
        p.addSeparator()
        p.addAction(self.like_action)
        p.addAction(self.dislike_action)
        v = mb.addMenu("&View")
        v.addAction(self.filter_action)
        v.addAction(self.track_info_action)
        v.addAction(self.show_playing_action)
        v.addSeparator()
        self.now_playing_action = self.now_playing_dock.toggleViewAction()
        self.now_playing_action.setText("&Now playing")
        self.now_playing_action.setObjectName("nowPlayingAction")
        self.now_playing_action.setShortcut(QKeySequence("F9"))
        self.addAction(self.now_playing_action)
        v.addAction(self.now_playing_action)
        self.browser_action = self.browser_dock.toggleViewAction()
        self.browser_action.setText("&Artists and albums")
        self.browser_action.setObjectName("browserAction")
        self.browser_action.setShortcut(QKeySequence("Ctrl+B"))
        self.browser_action.triggered.connect(self._on_browser_toggled)
        self.addAction(self.browser_action)
        v.addAction(self.browser_action)
        for d in (self.queue_dock, self.recommendations_dock, self.playlists_dock, self.failures_dock,
                  self.history_dock):
            v.addAction(d.toggleViewAction())
        v.addAction(self.history_columns_action)
        v.addSeparator()
        an = v.addMenu("Genre &analysis")
        an.addAction(self.pause_analysis_action)
        an.addAction(self.retry_analysis_action)
        w = an.addMenu("&Workers")
        for a in self.worker_actions.values():
            w.addAction(a)
        h = mb.addMenu("&Help")
        h.addAction(self.about_action)

    # --- user actions -----------------------------------------------------------------------------
    def choose_folder(self) -> None:
        start = self.settings.library_folder or str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Open a music folder", start)
        if folder:
            self.openFolderRequested.emit(folder)

    def focus_filter(self) -> None:
        self.filter_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filter_edit.selectAll()

    # Slots are methods that return None: PySide6 6.12 mishandles a bool returned by a Python
    # slot (a lambda returning ``signal.emit()``'s True drops a reference to True each call, and
    # the interpreter aborts at exit).  So no ``lambda: sig.emit(...)`` anywhere in desktop/.
    def _on_genre_index(self, _index: int) -> None:
        self.genreFilterChanged.emit(self.genre_combo.currentData() or "")

    def _on_row_activated(self, _index) -> None:
        self.playSelectedRequested.emit()

    def _flush_filter(self) -> None:
        self._filter_timer.stop()
        self.filterTextChanged.emit(self.filter_edit.text())

    def seek_by(self, delta: float) -> None:
        dur = self.transport.duration()
        if dur <= 0:
            return
        self.seekRequested.emit(min(max(self.transport.position() + delta, 0.0), dur))

    def volume_by(self, delta: int) -> None:
        self.transport.set_volume(min(100, max(0, self.transport.volume() + delta)))

    def _rate(self, rating: int) -> None:
        """Ctrl+L / Ctrl+D: the selected rows when the table has focus, else the playing track."""
        if self.library_view.hasFocus() and self.library_view.selectionModel() is not None \
                and self.library_view.selectionModel().hasSelection():
            self.rateSelectedRequested.emit(rating)
            return
        if not self.transport.like_button.isEnabled():
            return
        new = 0 if self.transport.rating() == rating else rating  # a second press takes it back
        self.transport._on_rating_clicked(new)

    def _on_track_info(self, _checked: bool = False) -> None:
        self.trackInfoRequested.emit()

    def _set_workers(self, n: int) -> None:
        self.workersChanged.emit(n)

    def _on_browser_toggled(self, shown: bool) -> None:
        """The browser takes its width from the now-playing panel, not from the table (whose
        Title column must stay readable); hidden, it gives the width back."""
        if not self.now_playing_dock.isVisible() or self.browser_dock.isFloating():
            return
        np = self.now_playing_dock.width()
        if shown:
            self.resizeDocks([self.browser_dock, self.now_playing_dock],
                             [BROWSER_WIDTH, max(MIN_NOW_PLAYING, np - BROWSER_WIDTH)], Qt.Orientation.Horizontal)
        else:
            self.resizeDocks([self.now_playing_dock], [np + self.browser_dock.width()], Qt.Orientation.Horizontal)

    def _about(self) -> None:
        from desktop.about import AboutDialog

        dialog = AboutDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def eventFilter(self, obj, event):  # noqa: N802
        if obj is self.filter_edit and event.type() == QEvent.Type.KeyPress:
            key = event.key()
            if key == Qt.Key.Key_Escape and self.filter_edit.text():
                self.filter_edit.clear()
                self._flush_filter()
                return True
            if key == Qt.Key.Key_Down and self.library_stack.currentWidget() is self.library_view:
                self._flush_filter()  # the results of what was typed, not of the last pause
                self._enter_results()
                return True
        return super().eventFilter(obj, event)

    def _enter_results(self) -> None:
        view = self.library_view
        model = view.model()
        if model is None or not model.rowCount():
            return
        view.setFocus(Qt.FocusReason.OtherFocusReason)
        if not view.selectionModel().hasSelection():
            view.selectRow(0)
        elif not view.currentIndex().isValid():
            view.setCurrentIndex(view.selectionModel().selectedRows()[0])

    # --- drag and drop a folder ---------------------------------------------------------------------
    @staticmethod
    def _dropped_folder(mime) -> str | None:
        if not mime.hasUrls():
            return None
        for url in mime.urls():
            if url.isLocalFile():
                path = url.toLocalFile()
                if os.path.isdir(path):
                    return path
        return None

    def dragEnterEvent(self, event):  # noqa: N802
        if self._dropped_folder(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event):  # noqa: N802
        self.dragEnterEvent(event)

    def dropEvent(self, event):  # noqa: N802
        folder = self._dropped_folder(event.mimeData())
        if folder:
            event.acceptProposedAction()
            self.openFolderRequested.emit(folder)
        else:
            event.ignore()

    # --- what the rest of the app tells the window -----------------------------------------------
    def show_library(self, has_rows: bool) -> None:
        self.library_stack.setCurrentWidget(self.library_view if has_rows else self.empty_library)

    def set_genres(self, genres) -> None:
        """Fill the genre filter (keeps the current choice when it is still there)."""
        current = self.genre_combo.currentData() or ""
        self.genre_combo.blockSignals(True)
        self.genre_combo.clear()
        self.genre_combo.addItem(ALL_GENRES, "")
        for g in genres:
            self.genre_combo.addItem(str(g), str(g))
        i = self.genre_combo.findData(current)
        self.genre_combo.setCurrentIndex(max(i, 0))
        self.genre_combo.blockSignals(False)
        if i < 0 and current:
            self.genreFilterChanged.emit("")

    def set_track_count(self, shown: int, total: int | None = None) -> None:
        if total is None or shown == total:
            self.count_label.setText(f"{shown:,} track{'s' if shown != 1 else ''}")
        else:
            self.count_label.setText(f"{shown:,} of {total:,} tracks")

    def set_progress(self, text: str, done: int = 0, total: int = 0) -> None:
        """Show a task's progress in the status bar (``total`` 0: busy, no count)."""
        self.progress_label.setText(text)
        self.progress_label.show()
        self.progress_bar.setRange(0, max(0, int(total)))
        if total:
            self.progress_bar.setValue(min(int(done), int(total)))
        self.progress_bar.show()

    def finish_progress(self, message: str | None = None, timeout_ms: int = 8000) -> None:
        self.progress_label.hide()
        self.progress_bar.hide()
        if message:
            self.statusBar().showMessage(message, timeout_ms)

    def set_analysis_progress(self, text: str, done: int = 0, total: int = 0, *, pausable: bool = True) -> None:
        """The library analysis's progress in the status bar (``total`` 0: busy, no count)."""
        self.analysis_label.setText(text)
        self.analysis_bar.setRange(0, max(0, int(total)))
        if total:
            self.analysis_bar.setValue(min(int(done), int(total)))
        for w in (self.analysis_label, self.analysis_bar):
            w.show()
        self.analysis_pause_button.setVisible(pausable)

    def finish_analysis_progress(self, message: str | None = None, timeout_ms: int = 8000) -> None:
        for w in (self.analysis_label, self.analysis_bar, self.analysis_pause_button):
            w.hide()
        if message:
            self.statusBar().showMessage(message, timeout_ms)

    def set_analysis_paused(self, paused: bool) -> None:
        """Show the pause state (button and menu) without emitting analysisPauseRequested."""
        for w in (self.analysis_pause_button, self.pause_analysis_action):
            w.blockSignals(True)
            w.setChecked(paused)
            w.blockSignals(False)
        self._style_pause_button(paused)

    def _on_analysis_pause_toggled(self, paused: bool) -> None:
        self.set_analysis_paused(paused)
        self.analysisPauseRequested.emit(paused)

    def _on_pause_action(self, paused: bool) -> None:
        self._on_analysis_pause_toggled(paused)

    def _on_retry_action(self, _checked: bool = False) -> None:
        self.retryAnalysisRequested.emit()

    def _style_pause_button(self, paused: bool) -> None:
        SP = QStyle.StandardPixmap
        self.analysis_pause_button.setIcon(self.style().standardIcon(SP.SP_MediaPlay if paused else SP.SP_MediaPause))
        self.analysis_pause_button.setToolTip("Resume the analysis" if paused else "Pause the analysis")

    def set_notice(self, key: str, text: str | None) -> None:
        """A persistent message in the now-playing area (``None`` removes it): no audio device,
        no model...  Also shown once in the status bar."""
        if text:
            if self._notices.get(key) != text:
                self.statusBar().showMessage(text, 10000)
            self._notices[key] = text
        else:
            self._notices.pop(key, None)
        self.banner.setText("\n".join(self._notices.values()))
        self.banner.setVisible(bool(self._notices))

    def notices(self) -> dict[str, str]:
        return dict(self._notices)

    def show_error(self, what: str, exc: BaseException) -> None:
        """``what`` went wrong because of ``exc``: in the status bar for a while, and in the log."""
        log.warning("%s: %s", what, exc)
        self.statusBar().showMessage(f"{what}: {exc}", 10000)

    def set_workers(self, n: int) -> None:
        """Check the analysis workers menu's entry for ``n`` (without emitting workersChanged)."""
        action = self.worker_actions.get(n)
        if action is not None:
            action.setChecked(True)

    def set_cover(self, pixmap: QPixmap | None) -> None:
        """Show the playing track's cover (scaled to fit), or the neutral placeholder for None."""
        from desktop.covers import placeholder_pixmap

        dpr = self.devicePixelRatioF()
        self.cover_shown = pixmap is not None and not pixmap.isNull()
        if self.cover_shown:
            scaled = pixmap.scaled(int(COVER_SIZE * dpr), int(COVER_SIZE * dpr), Qt.AspectRatioMode.KeepAspectRatio,
                                   Qt.TransformationMode.SmoothTransformation)
            scaled.setDevicePixelRatio(dpr)
            self.cover_label.setPixmap(scaled)
            self.cover_label.setToolTip("")
        else:
            self.cover_label.setPixmap(placeholder_pixmap(COVER_SIZE, dpr=dpr))
            self.cover_label.setToolTip("No cover art" if self.title_label.text() != "Nothing playing" else "")

    def set_now_playing(self, title: str | None, artist: str | None = None, album: str | None = None) -> None:
        self.title_label.setText(title or "Nothing playing")
        if not title:
            self.set_cover(None)
        self.subtitle_label.setText(" — ".join(x for x in (artist, album) if x))
        self.transport.set_track_loaded(bool(title))
        self.setWindowTitle(f"{title} — {APP_NAME}" if title else APP_NAME)

    # --- settings -----------------------------------------------------------------------------------
    def restore_settings(self) -> None:
        if self.settings.geometry is not None:
            self.restoreGeometry(self.settings.geometry)
        if self.settings.window_state is not None:
            self.restoreState(self.settings.window_state)
        if self.settings.splitter_state is not None:
            self.np_splitter.restoreState(self.settings.splitter_state)

    def save_settings(self) -> None:
        self.settings.geometry = self.saveGeometry()
        self.settings.window_state = self.saveState()
        self.settings.splitter_state = self.np_splitter.saveState()
        self.settings.sync()

    def closeEvent(self, event):  # noqa: N802
        self.save_settings()
        super().closeEvent(event)

    def sizeHint(self):  # noqa: N802
        """``DEFAULT_SIZE``, or the screen's free area where that is smaller."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return QSize(DEFAULT_SIZE)
        return DEFAULT_SIZE.boundedTo(screen.availableGeometry().size())
