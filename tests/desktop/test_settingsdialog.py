"""Edit ▸ Preferences…: Apply / OK / Cancel, the output device (chosen among what PortAudio
offers, remembered, replaced by the default while it is away), the analysis options; and
Help ▸ About.  The devices are ALSA ``null`` PCMs named in a test configuration: PortAudio lists
them as it lists real ones."""
from __future__ import annotations

import os
import shutil
import time

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

HERE = os.path.dirname(__file__)
TEST_ASOUNDRC = os.path.abspath(os.path.join(HERE, "..", "data", "asoundrc"))
DEVICES = """</usr/share/alsa/alsa.conf>
pcm.!default { type null hint { show on description "Test default" } }
pcm.speakers { type null hint { show on description "Test speakers" } }
pcm.headphones { type null hint { show on description "Test headphones" } }
"""


@pytest.fixture
def devices(tmp_path):
    """Three fake output devices: default, speakers, headphones (the ALSA configuration of the
    other tests comes back afterwards)."""
    from core.playback.output import use_alsa_config

    conf = tmp_path / "asoundrc"
    conf.write_text(DEVICES)
    use_alsa_config(conf)
    yield
    use_alsa_config(TEST_ASOUNDRC)


def paced_player_class():
    """``core.playback.Player`` on the fake device, paced to real time by its test tap (ALSA's
    null PCM takes audio as fast as it is given)."""
    from core.playback import Player

    def paced(*args, **kwargs):
        holder = {}
        holder["p"] = Player(*args, tap=lambda b: time.sleep(len(b) / (holder["p"].stream_rate or 22050)), **kwargs)
        return holder["p"]

    return paced


def _start(qapp, qtbot, tmp_path, *, folder=None, output_device=None, player=None, open_player=True):
    from desktop.app import build

    args = ["--data-dir", str(tmp_path / "data")] + ([str(folder)] if folder else [])
    _q, window, app = build(args, app=qapp)
    if output_device:
        app.settings.output_device = output_device
    window.show()
    qtbot.waitExposed(window)
    app._open_player = open_player
    if player is not None:
        app.player = player
    app.start()
    return window, app


def _close(window, app):
    app.shutdown()
    window.close()
    window.deleteLater()


def _open_preferences(qtbot, window, app):
    from PySide6.QtWidgets import QApplication

    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=3000)
    qtbot.keyClick(window, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: app.preferences is not None and app.preferences.isVisible(), timeout=3000)
    return app.preferences


def _choose(combo, label):
    i = combo.findText(label)
    assert i >= 0, [combo.itemText(j) for j in range(combo.count())]
    combo.setCurrentIndex(i)


def test_preferences_apply_ok_and_cancel(qapp, qtbot, tmp_path, devices):
    window, app = _start(qapp, qtbot, tmp_path)
    try:
        qtbot.waitUntil(lambda: app.player is not None, timeout=10_000)
        first_player = app.player
        assert first_player.output_name == "default"
        assert [a.text() for a in window.menuBar().actions()][:2] == ["&File", "&Edit"]
        dlg = _open_preferences(qtbot, window, app)
        tabs = [dlg.tabs.tabText(i).replace("&", "") for i in range(dlg.tabs.count())]
        assert tabs == ["Library folders", "Playback", "Analysis"]
        combo = dlg.device_combo
        labels = [combo.itemText(i) for i in range(combo.count())]
        assert labels[0] == "System default" and combo.currentIndex() == 0
        assert {"speakers (ALSA)", "headphones (ALSA)", "default (ALSA)"} <= set(labels)
        assert not dlg.apply_button.isEnabled()  # nothing to apply yet

        # Cancel forgets the choice
        _choose(combo, "headphones (ALSA)")
        assert dlg.apply_button.isEnabled()
        dlg.buttons.button(QDialogButtonBox.StandardButton.Cancel).click()
        qtbot.waitUntil(lambda: app.preferences is None, timeout=3000)
        assert app.settings.output_device is None and app.player is first_player

        # Apply: the player moves to the headphones, the dialog stays open
        dlg = _open_preferences(qtbot, window, app)
        _choose(dlg.device_combo, "headphones (ALSA)")
        dlg.apply_button.click()
        assert app.settings.output_device == "headphones, ALSA"
        assert not dlg.apply_button.isEnabled() and dlg.isVisible()
        qtbot.waitUntil(lambda: app.player is not None and app.player is not first_player, timeout=10_000)
        assert app.player.output_name == "headphones" and app.player.available
        assert "headphones" in window.statusBar().currentMessage()

        # OK: the analysis options are written, the workers menu follows, the dialog closes
        other = 1 if app.settings.workers != 1 else 2
        dlg.workers_spin.setValue(other)
        dlg.pause_check.setChecked(True)
        dlg.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
        qtbot.waitUntil(lambda: app.preferences is None, timeout=3000)
        assert app.settings.workers == other and window.worker_actions[other].isChecked()
        assert app.settings.pause_analysis_while_playing is True

        # the dialog shows what is saved
        dlg = _open_preferences(qtbot, window, app)
        assert dlg.device_combo.currentText() == "headphones (ALSA)"
        assert dlg.workers_spin.value() == other and dlg.pause_check.isChecked()
        dlg.reject()
    finally:
        _close(window, app)


def test_a_missing_device_at_start_falls_back_to_the_default_and_is_kept(qapp, qtbot, tmp_path, devices):
    window, app = _start(qapp, qtbot, tmp_path, output_device="studio monitors, ALSA")
    try:
        qtbot.waitUntil(lambda: app.player is not None, timeout=10_000)
        assert app.player.available and app.player.output_name == "default"
        message = window.statusBar().currentMessage()
        assert "“studio monitors, ALSA” is not connected" in message and "default" in message
        assert app.settings.output_device == "studio monitors, ALSA"  # kept for when it is back
        assert "player" not in window.notices()  # it plays: no "no sound" banner
        dlg = _open_preferences(qtbot, window, app)
        assert dlg.device_combo.currentText() == "studio monitors, ALSA (not connected)"
        assert not dlg.apply_button.isEnabled()
        dlg.reject()
    finally:
        _close(window, app)


@pytest.fixture
def long_track(tmp_path):
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed (scripts/dev.sh installs it); fixture media cannot be made")
    from tests import media

    folder = tmp_path / "music"
    media.make(folder / "long.flac", seconds=60, kind="tone", freq=330.0, sr=22050, channels=1,
               tags=dict(title="Long Tone", artist="Gamma"))
    return folder


def test_changing_the_device_keeps_the_track_playing(qapp, qtbot, tmp_path, devices, long_track, monkeypatch):
    monkeypatch.setattr("core.playback.Player", paced_player_class())
    window, app = _start(qapp, qtbot, tmp_path, folder=long_track)
    try:
        qtbot.waitUntil(lambda: app.library.model.rowCount() == 1 and app.player is not None, timeout=30_000)
        app.playback.play_ids([app.library.first_id()])
        qtbot.waitUntil(lambda: app.playback.state == "playing" and app.player.position > 1.0, timeout=10_000)
        before = app.player.position
        old = app.player
        app.switch_output_device("speakers, ALSA")
        qtbot.waitUntil(lambda: app.player is not None and app.player is not old, timeout=10_000)
        assert app.player.output_name == "speakers"
        qtbot.waitUntil(lambda: app.player.state == "playing" and app.player.position > 0, timeout=10_000)
        assert app.player.position >= before - 0.5  # it went on from where it was, not from the start
        qtbot.waitUntil(lambda: app.playback.state == "playing", timeout=10_000)
        assert app.playback.current.title == "Long Tone"
    finally:
        _close(window, app)


def test_a_device_plugged_in_later_is_found_and_played_on_without_a_restart(qapp, qtbot, tmp_path, devices,
                                                                           long_track, monkeypatch):
    monkeypatch.setattr("core.playback.Player", paced_player_class())
    window, app = _start(qapp, qtbot, tmp_path, folder=long_track, output_device="studio, ALSA")
    try:
        qtbot.waitUntil(lambda: app.library.model.rowCount() == 1 and app.player is not None, timeout=30_000)
        assert app.player.output_name == "default"  # the chosen one is not connected: the default plays
        app.playback.play_ids([app.library.first_id()])
        qtbot.waitUntil(lambda: app.playback.state == "playing" and app.player.position > 1.0, timeout=10_000)
        dlg = _open_preferences(qtbot, window, app)
        assert dlg.device_combo.currentText() == "studio, ALSA (not connected)"

        plugged = tmp_path / "asoundrc-plugged"  # the studio monitors are plugged in
        plugged.write_text(DEVICES + 'pcm.studio { type null hint { show on description "Studio monitors" } }\n')
        monkeypatch.setenv("ALSA_CONFIG_PATH", str(plugged))
        before, old = app.player.position, app.player
        qtbot.mouseClick(dlg.rescan_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dlg.rescan_button.isEnabled(), timeout=15_000)
        labels = [dlg.device_combo.itemText(i) for i in range(dlg.device_combo.count())]
        assert "studio (ALSA)" in labels and not any("not connected" in t for t in labels)
        assert dlg.device_combo.currentData() == "studio, ALSA" and not dlg.apply_button.isEnabled()
        # the remembered device is there now: the player went over to it, and the track went on
        assert app.player is not old and app.player.output_name == "studio"
        qtbot.waitUntil(lambda: app.playback.state == "playing" and app.player.position > 0, timeout=10_000)
        assert app.player.position >= before - 0.5 and app.playback.current.title == "Long Tone"
        dlg.reject()
    finally:
        _close(window, app)


def test_a_device_that_goes_away_mid_track_stops_with_a_message_and_stays_chosen(qapp, qtbot, tmp_path, long_track):
    from core.playback import NullOutput, Player

    class Unpluggable(NullOutput):
        """A fake device that can be unplugged: its stream stops and it is no longer there."""

        unplugged = False

        def open(self, rate, callback, on_lost):
            def cb(*args):
                if self.unplugged:
                    raise self.abort()
                return callback(*args)

            super().open(rate, cb, on_lost)

        def present(self):
            return not self.unplugged

    out = Unpluggable(speed=1.0)
    window, app = _start(qapp, qtbot, tmp_path, folder=long_track, output_device="headphones, ALSA",
                         player=Player(output=out))
    try:
        qtbot.waitUntil(lambda: app.library.model.rowCount() == 1, timeout=30_000)
        app.playback.play_ids([app.library.first_id()])
        qtbot.waitUntil(lambda: app.playback.state == "playing", timeout=10_000)
        out.unplugged = True
        qtbot.waitUntil(lambda: app.playback.state != "playing", timeout=10_000)
        qtbot.waitUntil(lambda: "player" in window.notices(), timeout=5000)
        assert "No sound" in window.notices()["player"] and window.banner.isVisible()
        assert f"“{app.player.output_name}”" in window.notices()["player"]  # which device went silent
        assert app.player.position == 0.0 or app.playback.state in ("stopped", "no_device")
        assert app.settings.output_device == "headphones, ALSA"  # the choice stays for when it is back
    finally:
        _close(window, app)


def test_the_analysis_waits_while_music_plays_when_asked(qapp, qtbot, tmp_path, music_folder):
    from desktop.app import App
    from desktop.mainwindow import MainWindow
    from desktop.settings import Settings
    from tests.desktop.test_analysis_wiring import FakeService

    settings = Settings.at(tmp_path / "settings.ini")
    window = MainWindow(settings)
    app = App(window, settings, data_dir=tmp_path / "data", folder=str(music_folder), open_player=False,
              analysis_factory=FakeService)
    app.analysis.ANALYSIS_DELAY_MS = 0
    try:
        app.start()
        qtbot.waitUntil(lambda: app.analysis.service is not None and app.analysis.service.state == "running",
                        timeout=30_000)
        service = app.analysis.service
        app.playback.stateChanged.emit("playing")  # without the option: one worker, no pause
        assert "pause" not in service.calls
        app.analysis.set_pause_while_playing(True)
        assert service.calls[-1] == "pause" and settings.pause_analysis_while_playing
        app.playback.stateChanged.emit("stopped")
        assert service.calls[-1] == "resume"
        # a pause the user asked for is theirs: the end of a track does not undo it
        window.analysis_pause_button.click()
        qtbot.waitUntil(lambda: service.state == "paused", timeout=3000)
        since = len(service.calls)
        app.playback.stateChanged.emit("playing")
        app.playback.stateChanged.emit("stopped")
        assert "resume" not in service.calls[since:] and service.state == "paused"
    finally:
        app.shutdown()
        window.close()
        window.deleteLater()


def test_about_names_the_version_the_model_and_the_credits(qtbot, window):
    from core import __version__
    from models.card import model_problem, model_version

    window.about_action.trigger()
    qtbot.waitUntil(lambda: _about(window) is not None, timeout=3000)
    dlg = _about(window)
    text = dlg.summary.text()
    assert f"Melograph {__version__}" in text
    assert (model_version() in text) if model_problem() is None else ("No genre model" in text)
    assert "Kevin MacLeod" in dlg.credits.toPlainText() and "GTZAN" in dlg.credits.toPlainText()
    dlg.reject()


def _about(window):
    from desktop.about import AboutDialog

    found = [d for d in window.findChildren(AboutDialog) if d.isVisible()]
    return found[0] if found else None


def test_volume_levelling_plays_a_tagged_track_at_its_replaygain(qapp, qtbot, tmp_path):
    """Preferences ▸ Playback ▸ Volume levelling: a file tagged 12 dB too loud plays 12 dB
    quieter once Track levelling is applied, and the choice is kept."""
    import mutagen
    import numpy as np

    from core.playback import NullOutput, Player
    from tests import media

    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is needed to generate fixture media")
    song = media.make(tmp_path / "lib" / "loud.flac", kind="noise", seconds=3.0, tags={"title": "Loud"})
    m = mutagen.File(song)
    m["REPLAYGAIN_TRACK_GAIN"], m["REPLAYGAIN_TRACK_PEAK"] = "-12.00 dB", "0.95"
    m.save()
    levels: list[float] = []
    player = Player(output=NullOutput(speed=4.0), tap=lambda b: levels.append(float(np.sqrt(np.mean(b * b)))))
    window, app = _start(qapp, qtbot, tmp_path, folder=song.parent, player=player)

    tips: list[str] = []

    def level_of_a_play() -> float:
        app.playback.play_ids([app.library.first_id()])
        qtbot.waitUntil(lambda: app.playback.state == "playing", timeout=10_000)
        levels.clear()
        qtbot.waitUntil(lambda: len(levels) > 60, timeout=10_000)  # ~0.7 s of audio
        tips.append(window.transport.volume_slider.toolTip())
        app.player.stop()
        qtbot.waitUntil(lambda: app.playback.state == "stopped", timeout=10_000)
        return float(np.median(levels[10:]))

    try:
        qtbot.waitUntil(lambda: app.library.model.rowCount() == 1, timeout=30_000)
        as_it_is = level_of_a_play()
        dlg = _open_preferences(qtbot, window, app)
        dlg.tabs.setCurrentIndex(1)
        assert dlg.levelling_combo.currentData() == "off" and not dlg.preamp_spin.isEnabled()
        _choose(dlg.levelling_combo, "Track: every track equally loud")
        assert dlg.apply_button.isEnabled() and dlg.preamp_spin.isEnabled()
        dlg.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
        qtbot.waitUntil(lambda: app.preferences is None, timeout=3000)
        assert app.settings.levelling.mode == "track" and app.player.levelling.mode == "track"
        levelled = level_of_a_play()
        assert levelled / as_it_is == pytest.approx(10 ** (-12 / 20), rel=0.05)
        assert "levelling off" in tips[0]
        assert "Levelled −12.0 dB (track gain from its ReplayGain tags)" in tips[1]  # why it is quieter
        dlg = _open_preferences(qtbot, window, app)
        assert dlg.levelling_combo.currentData() == "track"
        dlg.reject()
    finally:
        _close(window, app)


@pytest.mark.parametrize("key, value", [("player/levelling", "loudest"), ("player/levelling_preamp_db", "abc"),
                                        ("player/levelling_untagged_db", "99")])
def test_a_levelling_setting_edited_by_hand_into_nonsense_reads_as_off(qapp, tmp_path, key, value):
    from core.playback.levelling import Levelling
    from desktop.settings import Settings

    s = Settings.at(tmp_path / "settings.ini")
    s.levelling = Levelling("album", preamp_db=3.0)
    assert Settings.at(tmp_path / "settings.ini").levelling == Levelling("album", preamp_db=3.0)
    s.q.setValue(key, value)
    assert s.levelling == Levelling()
