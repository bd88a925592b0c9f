"""The genre chart: probabilities now and for the whole track, plus the genre timeline strip.

Data (per track, from the analysis): ``classes`` (names in model order), ``window_probs``
``(n_windows, n_classes)``, ``track_probs`` ``(n_classes,)``, the model window length and hop in
seconds.  Window ``i`` starts at ``i * hop_seconds``; when the track ``duration`` is known the
last window is aligned to the end of the track (as ``core.features.windows`` cuts them).

With the music detector's verdict (``music_cells``: the music probability of each 3 s cell,
``is_music``, ``kind``) the strip gets a "music" row on top, the genre rows are blanked where a
cell is not music, and the header says "Not music (speech)" for a track (or a moment) that is
not music, and "uncertain: blues or jazz" where the genre network is unsure
(``core.genrelabel``).

Everything is created once: a new track or a new moment changes the existing items with
``setOpts``/``setImage``; ``set_position`` only touches the "now" bars when the window under
the playhead changes.
"""
from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QStackedWidget, QVBoxLayout, QWidget

from core.genrelabel import MUSIC_ROW, genre_label, label_of_probs, not_music_text, top_two
from desktop.spectrogram import AXIS_WIDTH, BACKGROUND, FOREGROUND, PLAYHEAD_COLOUR, TimeAxis

NOW_COLOUR = "#4fd1ff"
TRACK_COLOUR = "#b084f5"
NOT_MUSIC_COLOUR = "#5a5a6a"  # bars of a moment / track the detector calls not music
BAR_HEIGHT = 0.38
MAX_STRIP_COLUMNS = 4000


class GenreAxis(pg.AxisItem):
    """Genre names at integer positions."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.names: list[str] = []

    def set_names(self, names) -> None:
        self.names = list(names)
        self.setTicks([[(i, n) for i, n in enumerate(self.names)], []])


class GenreChart(QWidget):
    """Bars (now / whole track) and a timeline strip of the genre probabilities.

    Signals:
        seekRequested(float): the user clicked the timeline strip at this many seconds.

    Methods:
        set_track(classes, window_probs, track_probs, window_seconds, hop_seconds, *, duration=None)
        set_position(seconds): the window under the playhead drives the "now" bars.
        set_placeholder(text): show a sentence instead of the chart (not analysed, no model...).
        clear()
    """

    seekRequested = Signal(float)

    NOT_ANALYSED = "Genres appear here once the track is analysed."

    def __init__(self, parent: QWidget | None = None, *, colormap: str = "viridis"):
        super().__init__(parent)
        self.classes: list[str] = []
        self.window_probs = np.zeros((0, 0), np.float32)
        self.track_probs = np.zeros(0, np.float32)
        self.window_starts = np.zeros(0)
        self.window_seconds = 0.0
        self.duration = 0.0
        self.current_window = -1
        self._bounds = np.zeros(0)  # midpoints between window centres
        self.music_cells: np.ndarray | None = None  # music probability per cell (NaN: silent)
        self.music_cell_seconds = 0.0
        self.is_music: bool | None = None
        self.kind: str | None = None
        self.music_probability: float | None = None

        self.header = QLabel()
        self.header.setObjectName("genreHeader")
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.setStyleSheet(f"background: {BACKGROUND}; color: {FOREGROUND}; padding: 3px 6px;")

        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground(BACKGROUND)
        self.graphics.ci.setContentsMargins(0, 2, 10, 2)
        self.graphics.ci.setSpacing(4)

        # bars ----------------------------------------------------------------------------------
        self.bar_axis = GenreAxis(orientation="left")
        self.bar_plot: pg.PlotItem = self.graphics.addPlot(row=0, col=0, axisItems={"left": self.bar_axis})
        self.strip_axis = GenreAxis(orientation="left")
        self.time_axis = TimeAxis(orientation="bottom")
        self.strip_plot: pg.PlotItem = self.graphics.addPlot(
            row=1, col=0, axisItems={"left": self.strip_axis, "bottom": self.time_axis}
        )
        self.graphics.ci.layout.setRowStretchFactor(0, 3)
        self.graphics.ci.layout.setRowStretchFactor(1, 3)
        for plot in (self.bar_plot, self.strip_plot):
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.setMouseEnabled(x=False, y=False)
            plot.getViewBox().invertY(True)
            plot.getViewBox().setDefaultPadding(0.0)
            for name in ("left", "bottom"):
                ax = plot.getAxis(name)
                ax.setPen(pg.mkPen(FOREGROUND))
                ax.setTextPen(pg.mkPen(FOREGROUND))
            plot.getAxis("left").setWidth(AXIS_WIDTH)
            font = QFont()
            font.setPointSizeF(8.5)
            plot.getAxis("left").setStyle(tickFont=font, tickTextOffset=4)
        bottom = self.bar_plot.getAxis("bottom")
        bottom.setTicks([[(0.0, "0%"), (0.25, "25%"), (0.5, "50%"), (0.75, "75%"), (1.0, "100%")], []])
        self.bar_plot.showGrid(x=True, y=False, alpha=0.15)
        self.bar_plot.setXRange(0.0, 1.0, padding=0.0)

        self.now_bars = pg.BarGraphItem(
            x0=np.zeros(0), y=np.zeros(0), height=BAR_HEIGHT, width=np.zeros(0),
            brush=pg.mkBrush(NOW_COLOUR), pen=pg.mkPen(None),
        )
        self.track_bars = pg.BarGraphItem(
            x0=np.zeros(0), y=np.zeros(0), height=BAR_HEIGHT, width=np.zeros(0),
            brush=pg.mkBrush(TRACK_COLOUR), pen=pg.mkPen(None),
        )
        self.bar_plot.addItem(self.track_bars)
        self.bar_plot.addItem(self.now_bars)

        # timeline strip -----------------------------------------------------------------------
        self.strip_image = pg.ImageItem(axisOrder="row-major")
        self.strip_image.setColorMap(pg.colormap.get(colormap))
        self.strip_image.setLevels((0.0, 1.0))
        self.strip_plot.addItem(self.strip_image)
        self.playhead = pg.InfiniteLine(pos=0.0, angle=90, movable=False, pen=pg.mkPen(PLAYHEAD_COLOUR, width=2))
        self.playhead.setZValue(10)
        self.strip_plot.addItem(self.playhead)
        self.graphics.scene().sigMouseClicked.connect(self._on_scene_click)

        self.placeholder = QLabel(self.NOT_ANALYSED)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setStyleSheet(f"background: {BACKGROUND}; color: {FOREGROUND}; font-size: 13px;")
        chart = QWidget()
        cl = QVBoxLayout(chart)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.setSpacing(0)
        cl.addWidget(self.header)
        cl.addWidget(self.graphics, 1)
        self.chart_page = chart
        self.stack = QStackedWidget()
        self.stack.addWidget(chart)
        self.stack.addWidget(self.placeholder)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.stack)
        self.stack.setCurrentWidget(self.placeholder)

    # --- data ---------------------------------------------------------------------------------------
    @property
    def has_data(self) -> bool:
        return self.stack.currentWidget() is self.chart_page

    def set_track(
        self,
        classes,
        window_probs,
        track_probs,
        window_seconds: float,
        hop_seconds: float,
        *,
        duration: float | None = None,
        music_cells=None,
        music_cell_seconds: float | None = None,
        is_music: bool | None = None,
        kind: str | None = None,
        music_probability: float | None = None,
    ) -> None:
        """Show a track's analysis; ``music_cells`` ``(n_cells,)`` (one music probability per cell
        of ``music_cell_seconds``, default ``window_seconds``), ``is_music``, ``kind`` and
        ``music_probability``: the music detector's verdict (None: genres only)."""
        classes = [str(c) for c in classes]
        wp = np.ascontiguousarray(window_probs, dtype=np.float32)
        tp = np.ascontiguousarray(track_probs, dtype=np.float32).reshape(-1)
        n_cls = len(classes)
        if wp.ndim != 2 or wp.shape[1] != n_cls or wp.shape[0] == 0:
            raise ValueError(f"window_probs must be (n_windows>0, {n_cls}), got {wp.shape}")
        if tp.shape != (n_cls,):
            raise ValueError(f"track_probs must be ({n_cls},), got {tp.shape}")
        n_win = wp.shape[0]
        hop = float(hop_seconds)
        win = float(window_seconds)
        starts = np.arange(n_win, dtype=np.float64) * hop
        if duration is not None and n_win > 1:
            starts[-1] = max(starts[-2], float(duration) - win)
        total = float(duration) if duration else float(starts[-1] + win)
        self.classes, self.window_probs, self.track_probs = classes, wp, tp
        self.window_starts, self.window_seconds, self.duration = starts, win, total
        cells = None if music_cells is None else np.asarray(music_cells, np.float32).reshape(-1)
        self.music_cells = cells if cells is not None and len(cells) else None
        self.music_cell_seconds = float(music_cell_seconds or win)
        self.is_music, self.kind, self.music_probability = is_music, kind, music_probability
        centres = starts + win / 2.0
        self._bounds = (centres[1:] + centres[:-1]) / 2.0

        ys = np.arange(n_cls, dtype=np.float64)
        self.bar_axis.set_names(classes)
        rows = ([MUSIC_ROW] if self.music_cells is not None else []) + classes
        self.strip_axis.set_names(rows)
        self.track_bars.setOpts(x0=np.zeros(n_cls), y=ys + BAR_HEIGHT / 2 + 0.01, height=BAR_HEIGHT, width=tp)
        self.now_bars.setOpts(x0=np.zeros(n_cls), y=ys - BAR_HEIGHT / 2 - 0.01, height=BAR_HEIGHT, width=wp[0])
        self.bar_plot.setYRange(-0.5, n_cls - 0.5, padding=0.0)
        self.bar_plot.setXRange(0.0, 1.0, padding=0.0)

        # the strip: one column per time bin, showing the window that set_position would pick
        n_bins = int(min(MAX_STRIP_COLUMNS, max(1, np.ceil(total / max(hop / 2.0, 0.1)))))
        t = (np.arange(n_bins) + 0.5) * (total / n_bins)
        idx = np.searchsorted(self._bounds, t)
        strip = np.ascontiguousarray(wp[idx].T)  # (n_cls, n_bins)
        if self.music_cells is not None:  # a "music" row on top; the genres blanked where it is not music
            m = self.music_cells[np.minimum((t / self.music_cell_seconds).astype(np.int64), len(self.music_cells) - 1)]
            m = np.nan_to_num(m, nan=0.0)
            strip[:, m < 0.5] = 0.0
            strip = np.ascontiguousarray(np.vstack([m[None, :], strip]), dtype=np.float32)
        n_rows = strip.shape[0]
        self.strip_image.setImage(strip, autoLevels=False, levels=(0.0, 1.0))
        self.strip_image.setRect(0.0, -0.5, total, float(n_rows))
        self.strip_plot.setXRange(0.0, total, padding=0.0)
        self.strip_plot.setYRange(-0.5, n_rows - 0.5, padding=0.0)

        self.track_bars.setOpts(brush=pg.mkBrush(NOT_MUSIC_COLOUR if is_music is False else TRACK_COLOUR))
        self.current_window = -1
        self.stack.setCurrentWidget(self.chart_page)
        self.set_position(0.0)

    def set_placeholder(self, text: str | None = None) -> None:
        self.placeholder.setText(text or self.NOT_ANALYSED)
        self.stack.setCurrentWidget(self.placeholder)

    def clear(self) -> None:
        self.classes = []
        self.music_cells = None
        self.current_window = -1
        self.set_placeholder(self.NOT_ANALYSED)

    # --- playhead -----------------------------------------------------------------------------------
    def window_at(self, seconds: float) -> int:
        """Index of the window whose centre is nearest ``seconds``."""
        if not len(self.window_probs):
            return -1
        return int(np.searchsorted(self._bounds, float(seconds)))

    def set_position(self, seconds: float) -> None:
        if not self.classes:
            return
        x = min(max(float(seconds), 0.0), self.duration)
        if x != self.playhead.value():
            self.playhead.setValue(x)
        i = self.window_at(x)
        if i != self.current_window:
            self.current_window = i
            m = self.music_at(self.window_starts[i] + self.window_seconds / 2.0)
            self.now_bars.setOpts(width=self.window_probs[i],
                                  brush=pg.mkBrush(NOT_MUSIC_COLOUR if m is not None and m < 0.5 else NOW_COLOUR))
            self._update_header()

    def music_at(self, seconds: float) -> float | None:
        """The music probability of the cell under ``seconds`` (None without a verdict or when silent)."""
        if self.music_cells is None:
            return None
        k = min(max(int(float(seconds) / self.music_cell_seconds), 0), len(self.music_cells) - 1)
        v = float(self.music_cells[k])
        return None if v != v else v

    def header_text(self) -> str:
        """The header's words without markup (what a user reads)."""
        from PySide6.QtGui import QTextDocument

        doc = QTextDocument()
        doc.setHtml(self.header.text())
        return doc.toPlainText()

    def now_values(self) -> np.ndarray:
        return np.asarray(self.now_bars.opts["width"], dtype=np.float32)

    def track_values(self) -> np.ndarray:
        return np.asarray(self.track_bars.opts["width"], dtype=np.float32)

    def _update_header(self) -> None:
        def shown(lab):
            if not lab.is_music:
                return f"<b>{html.escape(lab.text)}</b>"
            if lab.uncertain:
                return f"<i>{html.escape(lab.text)}</i>"
            return f"<b>{html.escape(lab.genre)}</b> {100 * lab.confidence:.0f}%"

        now = self.window_probs[self.current_window]
        centre = self.window_starts[self.current_window] + self.window_seconds / 2.0
        m = self.music_at(centre)
        (g1, p1), second = top_two(self.classes, now)
        now_lab = genre_label(g1, p1, *(second or (None, None)),
                              is_music=None if m is None else m >= 0.5, kind=None)
        if m is not None and m < 0.5:
            now_text = f"<b>{html.escape(not_music_text(None).lower())}</b>"
        else:
            now_text = shown(now_lab)
        whole = label_of_probs(self.classes, self.track_probs, is_music=self.is_music, kind=self.kind,
                               music_probability=self.music_probability)
        self.header.setText(
            f"<span style='color:{NOW_COLOUR}'>&#9632;</span> Now: {now_text}"
            f"&nbsp;&nbsp;&nbsp;<span style='color:{TRACK_COLOUR}'>&#9632;</span> Whole track: {shown(whole)}"
        )

    def _on_scene_click(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or not self.classes:
            return
        vb = self.strip_plot.getViewBox()
        if not vb.sceneBoundingRect().contains(event.scenePos()):
            return
        x = vb.mapSceneToView(event.scenePos()).x()
        event.accept()
        self.seekRequested.emit(min(max(float(x), 0.0), self.duration))
