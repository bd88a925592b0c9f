"""The now-playing spectrogram: a track's log-mel with a moving playhead and click-to-seek.

Data: ``float32`` C-contiguous ``(n_mels, n_columns)``, dB in [-80, 0], row 0 the lowest mel
band (``core.features.logmel_track``), ``columns_per_second`` columns per second (12.9).

The image is set once per track (fixed levels, no auto-levels); while the track plays only the
playhead line moves (``set_position``), so a frame costs one line move, not an image upload.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QStackedWidget, QVBoxLayout, QWidget

from core.features import COLUMNS_PER_SECOND, SR, hz_to_mel, mel_to_hz
from desktop.fmt import format_hz, format_time

#: dB range of the front end; the image levels are fixed to it.
DB_LEVELS = (-80.0, 0.0)
BACKGROUND = "#14141a"
FOREGROUND = "#c8c8d0"
PLAYHEAD_COLOUR = "#4fd1ff"
AXIS_WIDTH = 72  #: left axis width of the spectrogram and the genre charts, so their x axes align


class MelScale:
    """Maps a continuous mel-band coordinate to Hz and back (the Slaney scale of
    ``core.features``).

    Band ``i`` (row ``i`` of a log-mel, row 0 the lowest) is drawn over ``[i, i+1)``; its centre
    ``i + 0.5`` is the band's centre frequency: mel points are ``n_mels + 2`` values evenly spaced
    between ``hz_to_mel(fmin)`` and ``hz_to_mel(fmax)``, band ``i`` centred on point ``i + 1``.
    """

    def __init__(self, *, n_mels: int = 128, sr: int = SR, fmin: float = 0.0, fmax: float | None = None):
        self.n_mels = int(n_mels)
        self.fmin = float(fmin)
        self.fmax = float(fmax if fmax is not None else sr / 2.0)
        self._m0 = float(hz_to_mel(self.fmin))
        self._step = (float(hz_to_mel(self.fmax)) - self._m0) / (self.n_mels + 1)

    def band_to_hz(self, y):
        """Hz at band coordinate ``y`` (``i + 0.5`` = centre of band ``i``; scalar or array)."""
        return mel_to_hz(self._m0 + (np.asarray(y, dtype=np.float64) + 0.5) * self._step)

    def hz_to_band(self, hz):
        return (hz_to_mel(hz) - self._m0) / self._step - 0.5


class TimeAxis(pg.AxisItem):
    """Seconds shown as ``m:ss``, ticks on round musical-time steps (1 s ... 10 min)."""

    _STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600)

    def tickSpacing(self, minVal, maxVal, size):  # noqa: N802 (Qt naming)
        span = maxVal - minVal
        if span <= 0 or size <= 0:
            return super().tickSpacing(minVal, maxVal, size)
        # about one major tick per 90 px
        wanted = span / max(1.0, size / 90.0)
        major = next((s for s in self._STEPS if s >= wanted), self._STEPS[-1])
        minor = next((s for s in reversed(self._STEPS) if s <= major / 4), None)
        return [(major, 0)] + ([(minor, 0)] if minor else [])

    def tickStrings(self, values, scale, spacing):  # noqa: N802
        return [format_time(v) if v >= 0 else "" for v in values]


class MelAxis(pg.AxisItem):
    """A mel-band axis labelled in Hz at round frequencies."""

    _HZ = (50, 100, 200, 500, 1000, 2000, 4000, 8000, 16000)

    def __init__(self, *args, scale: MelScale | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.scale_ = scale or MelScale()

    def set_scale(self, scale: MelScale) -> None:
        self.scale_ = scale
        self.picture = None
        self.update()

    def tickValues(self, minVal, maxVal, size):  # noqa: N802
        lo, hi = sorted((minVal, maxVal))
        ticks = [float(self.scale_.hz_to_band(hz)) for hz in self._HZ if hz <= self.scale_.fmax]
        ticks = [t for t in ticks if lo <= t <= hi]
        # drop labels that would overlap (less than ~18 px apart)
        px_per_unit = size / max(hi - lo, 1e-9)
        kept: list[float] = []
        for t in ticks:
            if not kept or (t - kept[-1]) * px_per_unit >= 18:
                kept.append(t)
        return [(1.0, kept)]

    def tickStrings(self, values, scale, spacing):  # noqa: N802
        return [format_hz(float(self.scale_.band_to_hz(v))) for v in values]


class SpectrogramView(QWidget):
    """Log-mel image with time (m:ss) and frequency (Hz) axes, a playhead and click-to-seek.

    Signals:
        seekRequested(float): the user clicked the image at this many seconds.

    Slots / methods:
        set_spectrogram(S, *, columns_per_second=12.9, sr=22050): show a track's log-mel.
        set_position(seconds): move the playhead (in place).
        set_placeholder(text): hide the image and show a sentence instead
            (e.g. ``"Not analysed yet — analysing…"``); ``set_spectrogram`` shows the image again.
        clear(): no track.
    """

    seekRequested = Signal(float)

    NOT_ANALYSED = "Not analysed yet — analysing…"
    NO_TRACK = "Nothing playing. Double-click a track to play it."

    def __init__(self, parent: QWidget | None = None, *, colormap: str = "magma"):
        super().__init__(parent)
        self._duration = 0.0
        self._columns_per_second = COLUMNS_PER_SECOND

        self.time_axis = TimeAxis(orientation="bottom")
        self.mel_axis = MelAxis(orientation="left")
        self.plot_widget = pg.PlotWidget(
            background=BACKGROUND, axisItems={"bottom": self.time_axis, "left": self.mel_axis}
        )
        self.plot_widget.setMinimumHeight(120)
        self.plot_item: pg.PlotItem = self.plot_widget.getPlotItem()
        pi = self.plot_item
        pi.setMenuEnabled(False)
        pi.hideButtons()
        pi.setMouseEnabled(x=False, y=False)
        pi.getViewBox().setDefaultPadding(0.0)
        for name in ("bottom", "left"):
            ax = pi.getAxis(name)
            ax.setPen(pg.mkPen(FOREGROUND))
            ax.setTextPen(pg.mkPen(FOREGROUND))
        self.mel_axis.setWidth(AXIS_WIDTH)  # the genre chart below uses the same: time lines up
        pi.setLabel("left", "Hz", color=FOREGROUND)

        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.image_item.setColorMap(pg.colormap.get(colormap))
        self.image_item.setLevels(DB_LEVELS)
        pi.addItem(self.image_item)

        self.playhead = pg.InfiniteLine(pos=0.0, angle=90, movable=False, pen=pg.mkPen(PLAYHEAD_COLOUR, width=2))
        self.playhead.setZValue(10)
        pi.addItem(self.playhead)

        self.placeholder = QLabel(self.NO_TRACK)
        self.placeholder.setObjectName("spectrogramPlaceholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setStyleSheet(f"background: {BACKGROUND}; color: {FOREGROUND}; font-size: 14px;")

        self.stack = QStackedWidget()
        self.stack.addWidget(self.plot_widget)
        self.stack.addWidget(self.placeholder)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.stack)
        self.stack.setCurrentWidget(self.placeholder)

        self.plot_widget.scene().sigMouseClicked.connect(self._on_scene_click)

    # --- data -----------------------------------------------------------------------------------
    @property
    def duration(self) -> float:
        return self._duration

    @property
    def has_image(self) -> bool:
        return self.stack.currentWidget() is self.plot_widget

    def set_spectrogram(
        self,
        S: np.ndarray,
        *,
        columns_per_second: float = COLUMNS_PER_SECOND,
        sr: int = SR,
        duration: float | None = None,
    ) -> None:
        """Show ``S`` ``(n_mels, n_columns)`` (dB, [-80, 0]); x spans the track in seconds."""
        S = np.ascontiguousarray(S, dtype=np.float32)
        if S.ndim != 2 or S.shape[1] == 0:
            raise ValueError(f"spectrogram must be (n_mels, n_columns) with columns, got {S.shape}")
        n_mels, n_cols = S.shape
        self._columns_per_second = float(columns_per_second)
        self._duration = float(duration) if duration else n_cols / self._columns_per_second
        self.mel_axis.set_scale(MelScale(n_mels=n_mels, sr=sr))
        self.image_item.setImage(S, autoLevels=False, levels=DB_LEVELS)
        self.image_item.setRect(0.0, 0.0, self._duration, float(n_mels))
        vb = self.plot_item.getViewBox()
        vb.setLimits(xMin=0.0, xMax=self._duration, yMin=0.0, yMax=float(n_mels))
        vb.setRange(xRange=(0.0, self._duration), yRange=(0.0, float(n_mels)), padding=0.0)
        self.stack.setCurrentWidget(self.plot_widget)
        self.set_position(0.0)

    def set_placeholder(self, text: str | None = None) -> None:
        self.placeholder.setText(text or self.NOT_ANALYSED)
        self.stack.setCurrentWidget(self.placeholder)

    def clear(self) -> None:
        self._duration = 0.0
        self.image_item.clear()
        self.set_placeholder(self.NO_TRACK)

    # --- playhead ---------------------------------------------------------------------------------
    def set_position(self, seconds: float) -> None:
        """Move the playhead to ``seconds`` (clamped to the track)."""
        x = min(max(float(seconds), 0.0), self._duration) if self._duration else max(float(seconds), 0.0)
        if x != self.playhead.value():
            self.playhead.setValue(x)

    def position(self) -> float:
        return float(self.playhead.value())

    # --- click to seek ----------------------------------------------------------------------------
    def seconds_at_scene(self, scene_pos) -> float | None:
        vb = self.plot_item.getViewBox()
        if not vb.sceneBoundingRect().contains(scene_pos) or self._duration <= 0:
            return None
        x = vb.mapSceneToView(scene_pos).x()
        return min(max(float(x), 0.0), self._duration)

    def _on_scene_click(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or not self.has_image:
            return
        seconds = self.seconds_at_scene(event.scenePos())
        if seconds is not None:
            event.accept()
            self.seekRequested.emit(seconds)

    def widget_pos_for(self, seconds: float, band: float = 64.0):
        """Where ``seconds`` is drawn, in ``plot_widget`` coordinates (for tests and tooltips)."""
        vb = self.plot_item.getViewBox()
        scene = vb.mapViewToScene(pg.Point(seconds, band))
        return self.plot_widget.mapFromScene(scene)
