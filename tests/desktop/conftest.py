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
