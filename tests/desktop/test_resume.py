"""Resume: the real app, restarted, brings back the last track paused where it was left, with its
now-playing view; a file gone since is passed over with a line in the status bar.

Playback runs on the fake device (ALSA's null PCM) paced to real time by the player's tap, as in
test_app_integration.py."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from desktop.settings import Settings
from tests import media

pytestmark = pytest.mark.skipif(not media.have_ffmpeg(), reason="ffmpeg is needed to generate fixture media")


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "music"
    media.make(root / "long.flac", seconds=60, kind="tone", freq=330.0, sr=22050, channels=1,
               tags=dict(title="Long Tone", artist="Gamma", album="Tones"))
    media.make(root / "short.flac", seconds=20, kind="tone", freq=440.0, sr=22050, channels=1,
               tags=dict(title="Short Tone", artist="Gamma", album="Tones"))
    return root


def _start(qapp, qtbot, data, *args, rows=2, messages=None):
    from core.playback import Player
    from desktop.app import build

    _a, window, c = build(["--data-dir", str(data), *map(str, args)], app=qapp)
    qtbot.addWidget(window)
    holder = {}
    holder["p"] = c.player = Player(tap=lambda b: time.sleep(len(b) / (holder["p"].stream_rate or 44100)))
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    if messages is not None:
        window.statusBar().messageChanged.connect(messages.append)
    c.start()
    if not c.player.available:
        c.shutdown()
        pytest.skip(f"no output device, not even the null one: {c.player.unavailable_reason}")
    qtbot.waitUntil(lambda: (rows is None or c.library.model.rowCount() == rows) and not c.library.scanning,
                    timeout=30_000)
    return window, c


def _id_of(c, title):
    m = c.library.model
    return next(m.track_id(r) for r in range(m.rowCount()) if m.row_data(r).title == title)


def _play_until(qtbot, c, title, seconds):
    c.playback.play_ids([_id_of(c, title)])
    qtbot.waitUntil(lambda: c.playback.state == "playing" and c.playback.current.title == title, timeout=10_000)
    qtbot.waitUntil(lambda: c.playback.position > seconds, timeout=30_000)


def test_quit_while_playing_and_restart_paused_at_the_same_place(qapp, qtbot, tmp_path, folder):
    data = tmp_path / "data"
    w1, c1 = _start(qapp, qtbot, data, folder)
    _play_until(qtbot, c1, "Long Tone", 3.0)
    left_at = c1.playback.position
    tid = c1.playback.current.id
    w1.close()
    c1.shutdown()  # what quitting the app does

    w2, c2 = _start(qapp, qtbot, data)
    qtbot.waitUntil(lambda: c2.playback.state == "paused", timeout=10_000)
    assert c2.playback.current.id == tid
    assert c2.player.position == pytest.approx(left_at, abs=1.0)
    # the now-playing panel is filled and the transport shows where it is
    assert w2.title_label.text() == "Long Tone"
    assert w2.transport.position() == pytest.approx(left_at, abs=1.0)
    assert w2.transport.duration() == pytest.approx(60.0, abs=0.5)
    time.sleep(0.5)
    assert c2.player.position == pytest.approx(left_at, abs=1.0)  # paused: it stays there
    # Play continues from there
    c2.playback.play_pause()
    qtbot.waitUntil(lambda: c2.playback.state == "playing", timeout=5000)
    qtbot.waitUntil(lambda: c2.player.position > left_at + 0.5, timeout=5000)
    assert c2.player.position < left_at + 5.0
    c2.shutdown()


def test_paused_then_quit_comes_back_exactly_there(qapp, qtbot, tmp_path, folder):
    data = tmp_path / "data"
    w1, c1 = _start(qapp, qtbot, data, folder)
    _play_until(qtbot, c1, "Short Tone", 2.0)
    c1.playback.play_pause()
    qtbot.waitUntil(lambda: c1.playback.state == "paused", timeout=5000)
    paused_at = c1.player.position
    c1.shutdown()

    _w2, c2 = _start(qapp, qtbot, data)
    qtbot.waitUntil(lambda: c2.playback.state == "paused", timeout=10_000)
    assert c2.playback.current.title == "Short Tone"
    assert c2.player.position == pytest.approx(paused_at, abs=0.1)
    c2.shutdown()


def test_the_position_is_on_disk_while_playing(qapp, qtbot, tmp_path, folder):
    """What a killed app leaves behind: the settings file, written every few seconds while
    playing, read back by a separate reader without the app saying goodbye."""
    data = tmp_path / "data"
    _w, c = _start(qapp, qtbot, data, folder)
    _play_until(qtbot, c, "Long Tone", 6.5)
    on_disk = Settings.at(data / "settings.ini").resume  # a fresh reader of the file
    assert on_disk is not None and on_disk[0] == c.playback.current.id
    assert 1.0 <= on_disk[1] <= c.playback.position
    assert c.playback.position - on_disk[1] < 6.5
    c.shutdown()


def test_a_track_gone_since_is_passed_over_with_a_message(qapp, qtbot, tmp_path, folder):
    data = tmp_path / "data"
    _w1, c1 = _start(qapp, qtbot, data, folder)
    _play_until(qtbot, c1, "Short Tone", 1.0)
    c1.shutdown()
    (folder / "short.flac").unlink()

    messages = []
    _w2, c2 = _start(qapp, qtbot, data, rows=1, messages=messages)  # (the rescan has found it gone by now)
    # (whether the rescan has taken its row out of the table yet or not: the same words)
    assert any("Not resuming Short Tone" in m and "the file is gone" in m for m in messages), messages
    assert c2.playback.current is None and c2.playback.state == "stopped"
    assert c2.settings.resume is None
    c2.shutdown()


def test_a_file_that_cannot_be_decoded_any_more_is_passed_over(qapp, qtbot, tmp_path, folder):
    data = tmp_path / "data"
    _w1, c1 = _start(qapp, qtbot, data, folder)
    _play_until(qtbot, c1, "Long Tone", 1.0)
    long_id = c1.playback.current.id
    c1.shutdown()
    path = folder / "long.flac"
    path.write_bytes(b"this is no longer audio " * 4000)

    messages = []
    w2, c2 = _start(qapp, qtbot, data, rows=None, messages=messages)
    qtbot.waitUntil(lambda: any("Not resuming Long Tone" in m for m in messages), timeout=10_000)
    # passed over: nothing plays; the player may hold the track after it, paused
    qtbot.wait(300)
    assert c2.playback.state != "playing"
    assert c2.player.current is None or c2.player.current.path != str(path)
    assert c2.settings.resume is None or c2.settings.resume[0] != long_id
    assert any(p == str(path) for p, _reason in w2.failures.failures())
    c2.shutdown()


_CHILD = '''
import sys, time
from core.playback.output import use_alsa_config
use_alsa_config(sys.argv[3])
from PySide6.QtCore import QEventLoop
from PySide6.QtWidgets import QApplication
from core.playback import Player
from desktop.app import build


def main():
    qa = QApplication([])
    _a, w, c = build(["--data-dir", sys.argv[1], sys.argv[2]], app=qa)
    holder = {}
    holder["p"] = c.player = Player(tap=lambda b: time.sleep(len(b) / (holder["p"].stream_rate or 44100)))
    w.show()
    c.start()

    def until(pred):
        while not pred():
            qa.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
            time.sleep(0.01)

    until(lambda: c.library.model.rowCount() == 2 and not c.library.scanning)
    m = c.library.model
    c.playback.play_ids([next(m.track_id(r) for r in range(m.rowCount()) if m.row_data(r).title == "Long Tone")])
    until(lambda: c.playback.state == "playing" and c.playback.position > 12.0)
    print("AT", c.playback.position, flush=True)
    until(lambda: False)  # playing on, until killed


if __name__ == "__main__":
    main()
'''


def test_killed_while_playing_comes_back_within_seconds(qapp, qtbot, tmp_path, folder):
    """kill -9 while a track plays: no goodbye, yet the next start resumes it paused a few
    seconds (at most the save interval) before where it was."""
    import os
    import signal
    import subprocess
    import sys

    from desktop.presenters.playback import SAVE_POSITION_MS

    root = Path(__file__).resolve().parents[2]
    child = tmp_path / "child.py"
    child.write_text(_CHILD)
    data = tmp_path / "data"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(root))
    proc = subprocess.Popen([sys.executable, str(child), str(data), str(folder), str(root / "tests" / "data" / "asoundrc")],
                            cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("AT "), f"the app did not play: {line!r}"
        killed_at = float(line.split()[1]) + 0.3
        time.sleep(0.3)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    assert proc.returncode == -signal.SIGKILL

    _w, c = _start(qapp, qtbot, data)
    qtbot.waitUntil(lambda: c.playback.state == "paused", timeout=10_000)
    assert c.playback.current.title == "Long Tone"
    resumed = c.player.position
    assert killed_at - SAVE_POSITION_MS / 1000 - 1.0 <= resumed <= killed_at + 0.5, (resumed, killed_at)
    assert resumed >= 5.0  # saved while playing, not only at a pause or a quit
    c.shutdown()


def test_a_resume_point_whose_track_left_the_table_names_the_track(make_app):
    window, c = make_app()
    c.settings.resume = (987654, 42.0)  # no such row in the table (its folder was taken out, say)
    c.settings.resume_label = "Gone Song — Nobody"
    c.playback._resume()  # noqa: SLF001 (what the start does once the table is shown)
    message = window.statusBar().currentMessage()
    assert message.startswith("Not resuming Gone Song — Nobody: it is no longer in the library")
    assert c.settings.resume is None and c.settings.resume_label is None and c.playback.current is None
