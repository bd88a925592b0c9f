"""Qt tests: offscreen, one shared QApplication (pytest-qt's ``qapp``), settings in tmp files."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


@pytest.fixture
def settings(tmp_path):
    from desktop.settings import Settings

    return Settings.at(tmp_path / "settings.ini")


@pytest.fixture
def window(qtbot, settings):
    from desktop.mainwindow import MainWindow

    w = MainWindow(settings)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w
