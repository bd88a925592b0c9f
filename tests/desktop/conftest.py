"""Qt tests: offscreen, one shared QApplication (pytest-qt's ``qapp``), settings in tmp files."""
from __future__ import annotations

import os
import time

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


# The player's fake output device (ALSA's null PCM, see tests/data/asoundrc): set before
# PortAudio is first loaded in this process.
_ASOUNDRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "data", "asoundrc"))
if os.path.exists(_ASOUNDRC) and "ALSA_CONFIG_PATH" not in os.environ:
    from core.playback.output import use_alsa_config

    use_alsa_config(_ASOUNDRC)


@pytest.fixture(scope="session")
def music_folder(tmp_path_factory):
    """A small library of fixture files (tones and noise, tagged), plus one broken file."""
    import shutil

    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed (scripts/dev.sh installs it); fixture media cannot be made")
    from tests import media

    root = tmp_path_factory.mktemp("music")
    specs = [
        ("Alpha/one.mp3", dict(title="Morning Tone", artist="Alpha", album="Tones", genre="Jazz"), "tone", 440.0),
        ("Alpha/two.flac", dict(title="Evening Tone", artist="Alpha", album="Tones", genre="Jazz"), "tone", 660.0),
        ("Beta/noise.ogg", dict(title="Pink Noise", artist="Beta", album="Noises", genre="Rock"), "noise", 440.0),
        ("Beta/low.wav", dict(title="Low Hum", artist="Beta", album="Noises", genre="Rock"), "tone", 110.0),
    ]
    for rel, tags, kind, freq in specs:
        media.make(root / rel, seconds=2, kind=kind, freq=freq, tags=tags)
    media.make_text_as(root / "Beta" / "notes.mp3")
    return root


def paced_player():
    """A real ``core.playback.Player`` on the fake device.  ALSA's null PCM does not pace, so the
    tap sleeps each block's duration: the player runs at real time, as on a sound card."""
    from core.playback import Player

    holder = {}
    holder["p"] = Player(tap=lambda b: time.sleep(len(b) / (holder["p"].stream_rate or 44100)))
    return holder["p"]


@pytest.fixture
def make_app(qapp, qtbot, tmp_path):
    """Build the real app (``desktop.app.build``) and shut it down after the test:
    ``make_app(*folders, data=None, player=False, size=None, start=True, analysis=True)`` returns
    ``(window, app)``.  ``player``: a :func:`paced_player` (the test is skipped when not even the
    null device opens); ``size``: the window's ``(width, height)``; ``start``: start it and wait for
    its catalog; ``analysis=False``: no genre workers (the test stores its own results)."""
    from desktop.app import build

    built = []

    def make(*folders, data=None, player=False, size=None, start=True, analysis=True):
        _qapp, window, app = build(["--data-dir", str(data or tmp_path / "data"), *map(str, folders)], app=qapp)
        built.append(app)
        if not analysis:
            app.analysis.ANALYSIS_DELAY_MS = 10**9
        qtbot.addWidget(window)
        if player:
            app.player = paced_player()
        if size:
            window.resize(*size)
        window.show()
        qtbot.waitExposed(window)
        if start:
            app.start()
            qtbot.waitUntil(lambda: app.catalog is not None, timeout=10_000)
            if player and not app.player.available:
                pytest.skip(f"no output device, not even the null one: {app.player.unavailable_reason}")
        return window, app

    yield make
    for app in built:
        if not app._closing:  # noqa: SLF001 (a test may have shut it down itself)
            app.shutdown()


def open_folder(window, app, qtbot, folder, n: int) -> dict:
    """Open ``folder`` as the user does (File ▸ Open folder…), wait for its ``n`` tracks in the
    table; returns ``{title: track id}``."""
    window.openFolderRequested.emit(str(folder))
    qtbot.waitUntil(lambda: app.library.model.rowCount() == n and not app.library.scanning, timeout=30_000)
    m = app.library.model
    return {m.row_data(r).title: m.track_id(r) for r in range(n)}
