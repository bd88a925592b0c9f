"""Edit ▸ Preferences… (Ctrl+,): the library's folders, the output device, the genre analysis.

    dialog = SettingsDialog(settings, library=library_presenter, parent=window)
    dialog.outputDeviceChanged.connect(...)   # str (sounddevice's "<name>, <host API>") or None
    dialog.workersChanged.connect(...)        # int
    dialog.pauseWhilePlayingChanged.connect(...)  # bool

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
    QFormLayout,
    QLabel,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.outputdevice import output_choices


class SettingsDialog(QDialog):
    outputDeviceChanged = Signal(object)
    workersChanged = Signal(int)
    pauseWhilePlayingChanged = Signal(bool)

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
        for label, device in choices():
            self.device_combo.addItem(label, device)
        chosen = settings.output_device
        i = self.device_combo.findData(chosen) if chosen else 0
        if i < 0:  # remembered, but not connected now: kept, and shown as such
            self.device_combo.addItem(f"{chosen} (not connected)", chosen)
            i = self.device_combo.count() - 1
        self.device_combo.setCurrentIndex(i)
        playback = QWidget()
        form = QFormLayout(playback)
        form.addRow("&Output device:", self.device_combo)
        hint = QLabel("Melograph plays on this device. If it is not connected when Melograph starts, the "
                      "system's default plays until it is back; the choice is kept.")
        hint.setWordWrap(True)
        form.addRow(hint)
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
        self._update_apply()
        self.resize(620, 440)

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
        self._update_apply()

    def _ok(self) -> None:
        self.apply()
        self.accept()
