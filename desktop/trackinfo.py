"""Track info: everything known about one track, in a dialog (the table's context menu
"Track info…", or Ctrl+I on the selection).

    TrackInfoDialog(row, analysis, parent, covers=app.covers).show()

``row``: the table's ``desktop.librarymodel.Row``; ``analysis``: the track's
``core.catalog.AnalysisResult`` or None (not analysed).  The "Details" page shows the file (path,
size, modified), the stream (codec, bit rate, sample rate, channels, duration), the predicted
genres with their probabilities and the model that made them (its version from the analysis,
described from its model card when it is the model installed); the "Tags" page every tag in the
file under a readable name.  The file is read on a background thread (``core.audio.details``):
the dialog is on screen at once and fills in (``loaded`` when done).
"""
from __future__ import annotations

import html
import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.fmt import format_time
from desktop.tasks import TaskRunner

#: the cover's side in the dialog (logical pixels)
COVER_SIDE = 160
#: how many genres are listed (the most probable first)
TOP_GENRES = 5

_CHANNELS = {1: "mono", 2: "stereo"}


def _size_text(n: int | None) -> str:
    if n is None:
        return "—"
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit} ({n:,} bytes)"
    return f"{n:,} bytes"


def _model_text(version: str) -> str:
    """The model ``version``, described from the installed model's card when it is that model."""
    from models import card

    try:
        c = card.read_card()
    except card.ModelError:
        return f"{version} (not the model installed now)"
    if c.get("version") != version:
        return f"{version} (an earlier model than the one installed now, {c.get('version')})"
    parts = [version]
    arch = c.get("arch")
    valid = (c.get("metrics") or {}).get("valid") or {}
    if arch:
        parts.append(f"architecture “{arch}”")
    data = c.get("data") or {}
    if data.get("file"):
        parts.append(f"trained on {data['file']}")
    if valid.get("accuracy") is not None:
        parts.append(f"validation accuracy {valid['accuracy']:.1%} on {valid.get('n_clips', '?')} clips")
    if c.get("created"):
        parts.append(f"made {str(c['created'])[:10]}")
    return ", ".join(parts)


def replaygain_text(row) -> str:
    """``"track -7.89 dB (peak 0.988), album -6.50 dB"`` from the tags; without tags the gains
    from the measured loudness (``"measured: track -4.20 dB, album -3.10 dB"``), or "none"."""
    def gains(source: str, peaks: bool) -> list[str]:
        out = []
        for scope in ("track", "album"):
            gain, peak = getattr(row, f"{source}_{scope}_gain", None), getattr(row, f"{source}_{scope}_peak", None)
            if gain is not None:
                out.append(f"{scope} {gain:+.2f} dB" + (f" (peak {peak:.3f})" if peaks and peak is not None else ""))
        return out

    tagged, measured = gains("rg", True), gains("measured", False)
    if tagged:
        return ", ".join(tagged).replace("-", "−")
    if measured:
        return ("no tags; measured: " + ", ".join(measured)).replace("-", "−")
    return "none yet (plays at the level set for files not measured yet)"


def _load(path: str, covers, cover_side: int, model_version: str | None) -> dict:
    """Runs on a worker thread: the file's details, its cover (a QImage) and the model's text."""
    from core.audio.details import file_details
    from desktop.covers import decode_image

    out = {"details": file_details(path), "cover": None, "model": None}
    if covers is not None:
        out["cover"] = covers.load_image(path, cover_side)
    else:
        from core.audio.covers import find_cover

        cover = find_cover(path)
        out["cover"] = None if cover is None else decode_image(cover.data, cover_side)
    if model_version:
        out["model"] = _model_text(model_version)
    return out


class TrackInfoDialog(QDialog):
    """See the module's docstring.  ``loaded`` is emitted once the file has been read."""

    loaded = Signal()

    def __init__(self, row, analysis, parent: QWidget | None = None, *, covers=None):
        super().__init__(parent)
        self.setObjectName("trackInfoDialog")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.row, self.analysis = row, analysis
        self.is_loaded = False
        self.has_cover = False
        self.setWindowTitle(f"Track info — {row.title}")
        self.resize(680, 600)

        # header: cover, title, artist — album
        self.cover_label = QLabel()
        self.cover_label.setObjectName("trackInfoCover")
        self.cover_label.setFixedSize(COVER_SIDE, COVER_SIDE)
        self.cover_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._set_cover(None)
        heading = QLabel(f"<h2 style='margin:0'>{html.escape(row.title)}</h2>"
                         f"<p style='color:#a8a8b8'>{html.escape(' — '.join(x for x in (row.artist, row.album) if x))}</p>")
        heading.setWordWrap(True)
        heading.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        head = QHBoxLayout()
        head.addWidget(self.cover_label, 0, Qt.AlignmentFlag.AlignTop)
        head.addWidget(heading, 1, Qt.AlignmentFlag.AlignTop)

        # the details page
        self._fields: dict[str, QLabel | QLineEdit] = {}
        details = QWidget()
        self.form = QFormLayout(details)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for name in ("Path", "Size", "Modified", "Format", "Codec", "Bit rate", "Sample rate", "Bits per sample",
                     "Channels", "Duration", "ReplayGain", "Genres", "Model"):
            self._add_field(name, "…" if name not in ("Genres", "Model") else "")
        self._field("Path").setText(row.path)
        self._field("ReplayGain").setText(replaygain_text(row))
        self._show_analysis()

        # the tags page
        self.tags_table = QTableWidget(0, 2)
        self.tags_table.setObjectName("trackInfoTags")
        self.tags_table.setHorizontalHeaderLabels(["Tag", "Value"])
        self.tags_table.verticalHeader().setVisible(False)
        self.tags_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tags_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.tags_table.setWordWrap(True)
        hh = self.tags_table.horizontalHeader()
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        hh.setStretchLastSection(True)

        self.tabs = QTabWidget()
        self.tabs.addTab(details, "Details")
        self.tabs.addTab(self.tags_table, "Tags")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        lay = QVBoxLayout(self)
        lay.addLayout(head)
        lay.addWidget(self.tabs, 1)
        lay.addWidget(buttons)

        self.runner = TaskRunner(self, max_threads=1)
        self.runner.submit(_load, row.path, covers, COVER_SIDE * 2,
                           analysis.model_version if analysis is not None else None,
                           on_result=self._on_loaded, on_error=self._on_error)

    # --- building ---------------------------------------------------------------------------------
    def _add_field(self, name: str, text: str) -> None:
        if name == "Path":  # one line that scrolls: a long path never widens the dialog
            label = QLineEdit(text)
            label.setReadOnly(True)
            label.setFrame(False)
            label.setStyleSheet("background: transparent;")
        else:
            label = QLabel(text)
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.setObjectName(f"field{name.replace(' ', '')}")
        self._fields[name] = label
        self.form.addRow(f"{name}:", label)

    def _field(self, name: str) -> QLabel | QLineEdit:
        return self._fields[name]

    def _set_cover(self, pixmap: QPixmap | None) -> None:
        from desktop.covers import placeholder_pixmap

        dpr = self.devicePixelRatioF()
        self.has_cover = pixmap is not None
        if pixmap is None:
            pixmap = placeholder_pixmap(COVER_SIDE, dpr=dpr)
        else:
            pixmap = pixmap.scaled(int(COVER_SIDE * dpr), int(COVER_SIDE * dpr), Qt.AspectRatioMode.KeepAspectRatio,
                                   Qt.TransformationMode.SmoothTransformation)
            pixmap.setDevicePixelRatio(dpr)
        self.cover_label.setPixmap(pixmap)

    def _show_analysis(self) -> None:
        a = self.analysis
        if a is None:
            self._field("Genres").setText("Not analysed yet.")
            self._field("Model").setText("—")
            return
        ranked = sorted(zip(a.classes, (float(p) for p in a.track_probs)), key=lambda cp: -cp[1])[:TOP_GENRES]
        self._field("Genres").setText("\n".join(f"{name}  {p:.0%}" for name, p in ranked))
        self._field("Model").setText(a.model_version)

    # --- the file, read in the background ---------------------------------------------------------
    def _on_loaded(self, result: dict) -> None:
        d = result["details"]
        s = d.stream
        self._field("Size").setText(_size_text(d.size))
        self._field("Modified").setText(
            time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(d.modified)) if d.modified is not None else "—")
        self._field("Format").setText(s.get("format") or "—")
        self._field("Codec").setText(s.get("codec") or "—")
        self._field("Bit rate").setText(f"{s['bitrate'] / 1000:.0f} kbit/s" if s.get("bitrate") else "—")
        self._field("Sample rate").setText(f"{s['sample_rate']:,} Hz" if s.get("sample_rate") else "—")
        self._field("Bits per sample").setText(str(s["bits_per_sample"]) if s.get("bits_per_sample") else "—")
        ch = s.get("channels")
        self._field("Channels").setText(f"{ch} ({_CHANNELS[ch]})" if ch in _CHANNELS else (str(ch) if ch else "—"))
        self._field("Duration").setText(format_time(s.get("duration")) if s.get("duration") else "—")
        if result.get("model"):
            self._field("Model").setText(result["model"])
        if d.problems:
            self._add_field("Problems", "\n".join(d.problems))
        self.tags_table.setRowCount(len(d.tags))
        for i, (name, value) in enumerate(d.tags):
            for j, text in enumerate((name, value)):
                item = QTableWidgetItem(text)
                item.setToolTip(text if len(text) < 2000 else text[:2000] + "…")
                self.tags_table.setItem(i, j, item)
        self.tags_table.resizeRowsToContents()
        self.tabs.setTabText(1, f"Tags ({len(d.tags)})")
        image = result.get("cover")
        if image is not None:
            self._set_cover(QPixmap.fromImage(image))
        self._done()

    def _on_error(self, exc: BaseException, _tb: str) -> None:
        self._add_field("Problems", f"The file could not be read: {exc}")
        self._done()

    def _done(self) -> None:
        self.is_loaded = True
        self.loaded.emit()

    # --- what the dialog shows, as text (tests, copying) ------------------------------------------
    def field(self, name: str) -> str:
        return self._fields[name].text()

    def tag_rows(self) -> list[tuple[str, str]]:
        t = self.tags_table
        return [(t.item(r, 0).text(), t.item(r, 1).text()) for r in range(t.rowCount())]

    def done(self, result: int) -> None:  # noqa: D401 - Qt's name
        self.runner.cancel_all()
        super().done(result)
