"""The genre chart: probabilities now and for the whole track, plus the genre timeline strip.

Data (per track, from the analysis): ``classes`` (names in model order), ``window_probs``
``(n_windows, n_classes)``, ``track_probs`` ``(n_classes,)``, the model window length and hop in
seconds.  Window ``i`` starts at ``i * hop_seconds``; when the track ``duration`` is known the
last window is aligned to the end of the track (as ``core.features.windows`` cuts them).

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

from desktop.spectrogram import AXIS_WIDTH, BACKGROUND, FOREGROUND, PLAYHEAD_COLOUR, TimeAxis

NOW_COLOUR = "#4fd1ff"
TRACK_COLOUR = "#b084f5"
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
    ) -> None:
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
        centres = starts + win / 2.0
        self._bounds = (centres[1:] + centres[:-1]) / 2.0

        ys = np.arange(n_cls, dtype=np.float64)
        for axis in (self.bar_axis, self.strip_axis):
            axis.set_names(classes)
        self.track_bars.setOpts(x0=np.zeros(n_cls), y=ys + BAR_HEIGHT / 2 + 0.01, height=BAR_HEIGHT, width=tp)
        self.now_bars.setOpts(x0=np.zeros(n_cls), y=ys - BAR_HEIGHT / 2 - 0.01, height=BAR_HEIGHT, width=wp[0])
        self.bar_plot.setYRange(-0.5, n_cls - 0.5, padding=0.0)
        self.bar_plot.setXRange(0.0, 1.0, padding=0.0)

        # the strip: one column per time bin, showing the window that set_position would pick
        n_bins = int(min(MAX_STRIP_COLUMNS, max(1, np.ceil(total / max(hop / 2.0, 0.1)))))
        t = (np.arange(n_bins) + 0.5) * (total / n_bins)
        idx = np.searchsorted(self._bounds, t)
        strip = np.ascontiguousarray(wp[idx].T)  # (n_cls, n_bins)
        self.strip_image.setImage(strip, autoLevels=False, levels=(0.0, 1.0))
        self.strip_image.setRect(0.0, -0.5, total, float(n_cls))
        self.strip_plot.setXRange(0.0, total, padding=0.0)
        self.strip_plot.setYRange(-0.5, n_cls - 0.5, padding=0.0)

        self.current_window = -1
        self.stack.setCurrentWidget(self.chart_page)
        self.set_position(0.0)

    def set_placeholder(self, text: str | None = None) -> None:
        self.placeholder.setText(text or self.NOT_ANALYSED)
        self.stack.setCurrentWidget(self.placeholder)

    def clear(self) -> None:
        self.classes = []
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
            self.now_bars.setOpts(width=self.window_probs[i])
            self._update_header()

    def now_values(self) -> np.ndarray:
        return np.asarray(self.now_bars.opts["width"], dtype=np.float32)

    def track_values(self) -> np.ndarray:
        return np.asarray(self.track_bars.opts["width"], dtype=np.float32)

    def _update_header(self) -> None:
        def top(p):
            k = int(np.argmax(p))
            return f"<b>{html.escape(self.classes[k])}</b> {100 * float(p[k]):.0f}%"

        now = self.window_probs[self.current_window]
        self.header.setText(
            f"<span style='color:{NOW_COLOUR}'>&#9632;</span> Now: {top(now)}"
            f"&nbsp;&nbsp;&nbsp;<span style='color:{TRACK_COLOUR}'>&#9632;</span> Whole track: {top(self.track_probs)}"
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
