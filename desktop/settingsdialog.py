"""Edit ▸ Preferences… (Ctrl+,): the library's folders, the output device and volume levelling,
the genre analysis.

    dialog = SettingsDialog(settings, library=library_presenter, parent=window)
    dialog.outputDeviceChanged.connect(...)   # str (sounddevice's "<name>, <host API>") or None
    dialog.workersChanged.connect(...)        # int
    dialog.pauseWhilePlayingChanged.connect(...)  # bool
    dialog.rescanDevicesRequested.connect(...)    # "Look for new devices": then set_device_choices(...)
    dialog.levellingChanged.connect(...)          # core.playback.levelling.Levelling

The Playback and Analysis pages follow Apply / OK / Cancel: nothing changes until Apply or OK
(then only what differs from the settings is written and announced); Cancel forgets what was
not applied.  The Library folders page (``desktop.folders.LibraryFoldersPage``) acts at once, as
in File ▸ Library folders…, and says so.
"""
from __future__ import annotations

import os
from typing import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core.playback.levelling import PREAMP_RANGE, Levelling
from desktop.outputdevice import output_choices

#: the volume levelling modes as the dialog names them
LEVELLING_CHOICES = (("Off: every file as it is", "off"), ("Track: every track equally loud", "track"),
                     ("Album: every album equally loud, its songs as mastered", "album"))


class SettingsDialog(QDialog):
    outputDeviceChanged = Signal(object)
    workersChanged = Signal(int)
    pauseWhilePlayingChanged = Signal(bool)
    rescanDevicesRequested = Signal()
    levellingChanged = Signal(object)

    def __init__(self, settings, *, library=None, choices: Callable[[], list] = output_choices,
                 parent: QWidget | None = None):
        """``library``: the library presenter, for the folders page (left out without it);
        ``choices()``: ``[(label, device id or None)]`` of the output devices."""
        super().__init__(parent)
        self.settings = settings
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Preferences")
        self.tabs = QTabWidget()
        self.tabs.setObjectName("settingsTabs")

        if library is not None and getattr(library, "folders", None) is not None:
            from desktop.folders import LibraryFoldersPage

            page = QWidget()
            lay = QVBoxLayout(page)
            self.folders_page = LibraryFoldersPage(library)
            lay.addWidget(self.folders_page)
            note = QLabel("Changes to the folders take effect at once.")
            note.setObjectName("foldersNote")
            lay.addWidget(note)
            self.tabs.addTab(page, "&Library folders")
        else:
            self.folders_page = None

        # playback: the output device
        self.device_combo = QComboBox()
        self.device_combo.setObjectName("outputDeviceCombo")
        self.device_combo.setAccessibleName("Output device")
        self._fill_devices(choices(), settings.output_device)
        self.rescan_button = QPushButton("&Look for new devices")
        self.rescan_button.setObjectName("rescanDevicesButton")
        self.rescan_button.setToolTip("Find a device connected since Melograph started (playback pauses for a moment)")
        self.rescan_button.clicked.connect(self._rescan)
        playback = QWidget()
        form = QFormLayout(playback)
        row = QHBoxLayout()
        row.addWidget(self.device_combo, 1)
        row.addWidget(self.rescan_button)
        label = QLabel("&Output device:")
        label.setBuddy(self.device_combo)
        form.addRow(label, row)
        hint = QLabel("Melograph plays on this device. If it is not connected when Melograph starts, the "
                      "system's default plays until it is back; the choice is kept. A device connected "
                      "later shows up with Look for new devices.")
        hint.setWordWrap(True)
        form.addRow(hint)
        # volume levelling (ReplayGain)
        lv = settings.levelling
        self.levelling_combo = QComboBox()
        self.levelling_combo.setObjectName("levellingCombo")
        self.levelling_combo.setAccessibleName("Volume levelling")
        for label_text, mode in LEVELLING_CHOICES:
            self.levelling_combo.addItem(label_text, mode)
        self.levelling_combo.setCurrentIndex(max(0, self.levelling_combo.findData(lv.mode)))
        label = QLabel("&Volume levelling:")
        label.setBuddy(self.levelling_combo)
        form.addRow(label, self.levelling_combo)
        self.preamp_spin = self._db_spin("preampSpin", "Pre-amp", lv.preamp_db)
        self.preamp_spin.setToolTip("Added to every file's ReplayGain (its reference is quieter than most "
                                    "recent records)")
        self.untagged_spin = self._db_spin("untaggedSpin", "Files not measured yet", lv.untagged_db)
        self.untagged_spin.setToolTip("The gain of a file without ReplayGain tags that the analysis has not "
                                      "measured yet")
        form.addRow("P&re-amp:", self.preamp_spin)
        form.addRow("Files not &measured yet:", self.untagged_spin)
        self.clipping_check = QCheckBox("Never turn a file up past its &peak")
        self.clipping_check.setObjectName("preventClippingCheck")
        self.clipping_check.setChecked(lv.prevent_clipping)
        form.addRow(self.clipping_check)
        hint = QLabel("Volume levelling plays each file at the loudness its ReplayGain tags give (a tagger "
                      "such as foobar2000, Picard or rsgain writes them) or, without tags, at the loudness "
                      "the genre analysis measured. It takes effect within a couple of seconds, at the next "
                      "stretch of audio the player decodes.")
        hint.setWordWrap(True)
        form.addRow(hint)
        self._levelling_controls_follow()
        self.tabs.addTab(playback, "&Playback")

        # analysis: workers, pause while playing
        self.workers_spin = QSpinBox()
        self.workers_spin.setObjectName("workersSpin")
        self.workers_spin.setAccessibleName("Analysis workers")
        self.workers_spin.setRange(1, max(2, os.cpu_count() or 1))
        self.workers_spin.setValue(min(settings.workers, self.workers_spin.maximum()))
        self.workers_spin.setToolTip("Worker processes analysing the library while no music plays")
        self.pause_check = QCheckBox("Pause the analysis while music &plays")
        self.pause_check.setObjectName("pauseWhilePlayingCheck")
        self.pause_check.setChecked(settings.pause_analysis_while_playing)
        analysis = QWidget()
        form = QFormLayout(analysis)
        form.addRow("&Workers:", self.workers_spin)
        form.addRow(self.pause_check)
        hint = QLabel("Without the pause, the analysis goes on with one worker while music plays.")
        hint.setWordWrap(True)
        form.addRow(hint)
        self.tabs.addTab(analysis, "&Analysis")

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Apply
            | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.setObjectName("settingsButtons")
        self.apply_button = self.buttons.button(QDialogButtonBox.StandardButton.Apply)
        self.apply_button.clicked.connect(self.apply)
        self.buttons.accepted.connect(self._ok)
        self.buttons.rejected.connect(self.reject)

        lay = QVBoxLayout(self)
        lay.addWidget(self.tabs)
        lay.addWidget(self.buttons)

        self.device_combo.currentIndexChanged.connect(self._update_apply)
        self.workers_spin.valueChanged.connect(self._update_apply)
        self.pause_check.toggled.connect(self._update_apply)
        self.levelling_combo.currentIndexChanged.connect(self._levelling_controls_follow)
        self.levelling_combo.currentIndexChanged.connect(self._update_apply)
        for w in (self.preamp_spin, self.untagged_spin):
            w.valueChanged.connect(self._update_apply)
        self.clipping_check.toggled.connect(self._update_apply)
        self._update_apply()
        self.resize(620, 440)

    @staticmethod
    def _db_spin(name: str, accessible: str, value: float) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setObjectName(name)
        spin.setAccessibleName(accessible)
        spin.setRange(*PREAMP_RANGE)
        spin.setSingleStep(0.5)
        spin.setDecimals(1)
        spin.setSuffix(" dB")
        spin.setValue(value)
        return spin

    def _levelling_controls_follow(self, *_args) -> None:
        on = self.levelling_combo.currentData() != "off"
        for w in (self.preamp_spin, self.untagged_spin, self.clipping_check):
            w.setEnabled(on)

    def levelling(self) -> Levelling:
        """What the Playback page's volume levelling controls show."""
        return Levelling(mode=self.levelling_combo.currentData(), preamp_db=round(self.preamp_spin.value(), 1),
                         untagged_db=round(self.untagged_spin.value(), 1),
                         prevent_clipping=self.clipping_check.isChecked())

    def _fill_devices(self, choices: list, selected: str | None) -> None:
        """The combo's entries: ``choices`` and, when ``selected`` is not among them, it marked
        "(not connected)"; ``selected`` is the current one."""
        self.device_combo.blockSignals(True)
        self.device_combo.clear()
        for label, device in choices:
            self.device_combo.addItem(label, device)
        chosen = self.settings.output_device
        if chosen and self.device_combo.findData(chosen) < 0:  # remembered, but not connected now: kept
            self.device_combo.addItem(f"{chosen} (not connected)", chosen)
        i = self.device_combo.findData(selected) if selected else 0
        self.device_combo.setCurrentIndex(max(0, i))
        self.device_combo.blockSignals(False)

    def _rescan(self) -> None:
        self.rescan_button.setEnabled(False)
        self.rescan_button.setText("Looking…")
        self.rescanDevicesRequested.emit()

    def set_device_choices(self, choices: list) -> None:
        """What a new look for devices found: the list again, the entry shown kept."""
        self._fill_devices(choices, self.device_combo.currentData())
        self.rescan_button.setText("&Look for new devices")
        self.rescan_button.setEnabled(True)
        self._update_apply()

    def _pending(self) -> dict:
        """What the pages show that the settings do not have yet."""
        s = self.settings
        out = {}
        device = self.device_combo.currentData()
        if (device or None) != s.output_device:
            out["device"] = device or None
        if self.workers_spin.value() != s.workers:
            out["workers"] = self.workers_spin.value()
        if self.pause_check.isChecked() != s.pause_analysis_while_playing:
            out["pause"] = self.pause_check.isChecked()
        if self.levelling() != s.levelling:
            out["levelling"] = self.levelling()
        return out

    def _update_apply(self, *_args) -> None:
        self.apply_button.setEnabled(bool(self._pending()))

    def apply(self) -> None:
        """Write what changed and announce it (the presenters act on it)."""
        pending = self._pending()
        s = self.settings
        if "device" in pending:
            s.output_device = pending["device"]
            self.outputDeviceChanged.emit(pending["device"])
        if "workers" in pending:
            s.workers = pending["workers"]
            self.workersChanged.emit(pending["workers"])
        if "pause" in pending:
            s.pause_analysis_while_playing = pending["pause"]
            self.pauseWhilePlayingChanged.emit(pending["pause"])
        if "levelling" in pending:
            s.levelling = pending["levelling"]
            self.levellingChanged.emit(pending["levelling"])
        self._update_apply()

    def _ok(self) -> None:
        self.apply()
        self.accept()
