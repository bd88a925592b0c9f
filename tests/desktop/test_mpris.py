"""MPRIS and "show in folder" against a real D-Bus daemon that the tests start themselves
(``dbus-daemon --session``, Debian package ``dbus-daemon``), with the real app playing real files
on the fake output device, driven by a D-Bus client in another thread as a desktop shell would."""
from __future__ import annotations

import concurrent.futures
import os
import shutil
import subprocess
import threading
import time

import pytest
from jeepney import DBusAddress, HeaderFields, MessageType, new_method_call
from jeepney.io.blocking import open_dbus_connection

MPRIS = "org.mpris.MediaPlayer2.melograph"
PATH = "/org/mpris/MediaPlayer2"
PLAYER = "org.mpris.MediaPlayer2.Player"
ROOT = "org.mpris.MediaPlayer2"
PROPS = "org.freedesktop.DBus.Properties"


@pytest.fixture(scope="module")
def bus_address():
    """A private session bus for this module's tests; the daemon is killed at the end."""
    exe = shutil.which("dbus-daemon")
    if exe is None:
        pytest.skip("dbus-daemon is not installed (scripts/dev.sh installs the Debian package dbus-daemon)")
    import signal

    from core.childproc import _set_parent_death_signal

    # the kernel kills the daemon when the test process ends, even by a crash
    proc = subprocess.Popen([exe, "--session", "--nofork", "--nopidfile", "--print-address=1"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            preexec_fn=lambda: _set_parent_death_signal(signal.SIGKILL))
    address = proc.stdout.readline().strip()
    assert address.startswith("unix:"), address
    old = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    os.environ["DBUS_SESSION_BUS_ADDRESS"] = address
    try:
        yield address
    finally:
        if old is None:
            os.environ.pop("DBUS_SESSION_BUS_ADDRESS", None)
        else:
            os.environ["DBUS_SESSION_BUS_ADDRESS"] = old
        proc.kill()
        proc.wait(5)


class Client:
    """A D-Bus client on its own thread (the app answers on the GUI thread, which the test keeps
    turning with ``qtbot.waitUntil`` while it waits), plus a second connection that records the
    player's signals."""

    def __init__(self, qtbot, dest: str = MPRIS):
        self.qtbot = qtbot
        self.dest = dest
        self.pool = concurrent.futures.ThreadPoolExecutor(1)
        self.conn = self._run(open_dbus_connection, "SESSION")
        self.signals: list[tuple[str, tuple]] = []
        self._stop = threading.Event()
        self._watcher = open_dbus_connection("SESSION")
        bus = DBusAddress("/org/freedesktop/DBus", bus_name="org.freedesktop.DBus", interface="org.freedesktop.DBus")
        self._watcher.send_and_get_reply(new_method_call(bus, "AddMatch", "s", (f"type='signal',path='{PATH}'",)))
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _run(self, fn, *args, **kwargs):
        fut = self.pool.submit(fn, *args, **kwargs)
        self.qtbot.waitUntil(fut.done, timeout=10_000)
        return fut.result()

    def _watch(self):
        while not self._stop.is_set():
            try:
                msg = self._watcher.receive(timeout=0.1)
            except TimeoutError:
                continue
            except OSError:
                return
            if msg.header.message_type is MessageType.signal:
                self.signals.append((msg.header.fields[HeaderFields.member], msg.body))

    def call(self, iface: str, member: str, sig: str | None = None, body: tuple = ()):
        """The reply's body; a D-Bus error comes back as ``("error", name, text)``."""
        msg = new_method_call(DBusAddress(PATH, bus_name=self.dest, interface=iface), member, sig, body)
        reply = self._run(self.conn.send_and_get_reply, msg, timeout=5)
        if reply.header.message_type is MessageType.error:
            return ("error", reply.header.fields[HeaderFields.error_name], reply.body[0] if reply.body else "")
        return reply.body

    def get(self, name: str, iface: str = PLAYER):
        """``(dbus type, value)`` of a property."""
        return self.call(PROPS, "Get", "ss", (iface, name))[0]

    def set(self, name: str, sig: str, value, iface: str = PLAYER):
        return self.call(PROPS, "Set", "ssv", (iface, name, (sig, value)))

    def changed(self, name: str) -> list:
        """Every value of ``name`` that a PropertiesChanged signal announced, in order."""
        return [body[1][name] for member, body in list(self.signals)
                if member == "PropertiesChanged" and body[0] == PLAYER and name in body[1]]

    def close(self):
        self._stop.set()
        self._thread.join(2)
        self._watcher.close()
        self._run(self.conn.close)
        self.pool.shutdown()


@pytest.fixture
def library_folder(qapp, tmp_path):
    """Three 20 s tagged tones and the album's cover.png beside them."""
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed (scripts/dev.sh installs it); fixture media cannot be made")
    from tests import media

    folder = tmp_path / "music"
    for name, title, freq in (("a.flac", "First Light", 330.0), ("b.flac", "Second Wind", 440.0),
                              ("c.flac", "Third Rail", 550.0)):
        media.make(folder / name, seconds=20, kind="tone", freq=freq, sr=22050, channels=1,
                   tags=dict(title=title, artist="Delta", album="Three Tones", genre="Jazz"))
    from PySide6.QtGui import QColor, QImage

    cover = QImage(64, 64, QImage.Format.Format_RGB32)
    cover.fill(QColor("darkorange"))
    assert cover.save(str(folder / "cover.png"))
    return folder


def _paced_player():
    """The fake (ALSA null) device plays as fast as it is fed: the tap sleeps each block's
    duration, so the player runs at real time."""
    from core.playback import Player

    holder = {}
    holder["p"] = Player(tap=lambda b: time.sleep(len(b) / (holder["p"].stream_rate or 22050)))
    return holder["p"]


@pytest.fixture
def running(qapp, qtbot, tmp_path, bus_address, library_folder):
    from desktop.app import build

    _q, window, app = build(["--data-dir", str(tmp_path / "data"), str(library_folder)], app=qapp)
    window.show()
    app.player = _paced_player()
    try:
        app.start()
        qtbot.waitUntil(lambda: app.library.model.rowCount() == 3 and not app.library.scanning, timeout=30_000)
        if not app.player.available:
            pytest.skip(f"no output device, not even the null one: {app.player.unavailable_reason}")
        client = Client(qtbot)
    except BaseException:
        app.shutdown()  # off the bus, whatever happened
        raise
    yield window, app, client
    client.close()
    _close(window, app)


def _close(window, app):
    """Shut the app down before its window goes (the presenters save the table's layout)."""
    app.shutdown()
    window.close()
    window.deleteLater()


def _id_of(app, title):
    model = app.library.model
    return next(model.row_data(r).id for r in range(model.rowCount()) if model.row_data(r).title == title)


def test_the_desktop_controls_playback_over_mpris(running, qtbot, library_folder):
    window, app, client = running
    assert app.mpris is not None and app.mpris.name == MPRIS

    root = dict(client.call(PROPS, "GetAll", "s", (ROOT,))[0])
    assert root["Identity"] == ("s", "Melograph")
    assert root["DesktopEntry"] == ("s", "melograph")
    assert root["CanQuit"] == ("b", True) and root["CanRaise"] == ("b", True)
    assert root["HasTrackList"] == ("b", False)
    assert root["SupportedUriSchemes"] == ("as", ["file"])
    assert "audio/flac" in root["SupportedMimeTypes"][1]
    xml = client.call("org.freedesktop.DBus.Introspectable", "Introspect")[0]
    assert '<interface name="org.mpris.MediaPlayer2.Player">' in xml

    assert client.get("PlaybackStatus") == ("s", "Stopped")
    assert client.get("CanPlay") == ("b", True)

    # Play: nothing was playing, so the first track shown starts
    app.library.window.library_view.clearSelection()
    assert client.call(PLAYER, "Play") == ()
    qtbot.waitUntil(lambda: app.playback.state == "playing", timeout=10_000)
    qtbot.waitUntil(lambda: client.changed("PlaybackStatus")[-1:] == [("s", "Playing")], timeout=5000)
    current = app.playback.current
    md = dict(client.get("Metadata")[1])
    assert md["mpris:trackid"] == ("o", f"/org/melograph/track/{current.id}")
    assert md["xesam:title"] == ("s", current.title)
    assert md["xesam:artist"] == ("as", ["Delta"])
    assert md["xesam:album"] == ("s", "Three Tones")
    assert md["mpris:length"][0] == "x" and md["mpris:length"][1] == pytest.approx(20_000_000, abs=200_000)
    assert client.changed("Metadata")[-1][1]["mpris:trackid"] == ("o", f"/org/melograph/track/{current.id}")
    qtbot.waitUntil(lambda: client.get("Position")[1] > 300_000, timeout=10_000)  # it moves
    assert client.get("Position")[0] == "x"
    assert not client.changed("Position")  # never announced, as the specification asks
    # the cover thumbnail, once it is made
    qtbot.waitUntil(lambda: "mpris:artUrl" in client.get("Metadata")[1], timeout=10_000)
    art = client.get("Metadata")[1]["mpris:artUrl"]
    assert art[0] == "s" and art[1].startswith("file://")
    from urllib.parse import unquote, urlparse

    from PySide6.QtGui import QImage

    thumb = QImage(unquote(urlparse(art[1]).path))
    assert not thumb.isNull()
    middle = thumb.pixelColor(32, 32)  # dark orange, give or take the JPEG's rounding
    assert middle.red() > 245 and 130 < middle.green() < 150 and middle.blue() < 10
    # the analysis finds the track's genre: the metadata gains it
    app.library.set_predictions({current.id: ("jazz", 0.8)})
    app.analysis.tracksAnalysed.emit([current.id])
    qtbot.waitUntil(lambda: client.changed("Metadata")[-1][1].get("xesam:genre") == ("as", ["jazz"]), timeout=5000)
    assert client.get("Metadata")[1]["xesam:genre"] == ("as", ["jazz"])

    # Pause, then PlayPause resumes
    client.call(PLAYER, "Pause")
    qtbot.waitUntil(lambda: app.playback.state == "paused", timeout=5000)
    assert client.get("PlaybackStatus") == ("s", "Paused")
    qtbot.waitUntil(lambda: client.changed("PlaybackStatus")[-1:] == [("s", "Paused")], timeout=5000)
    client.call(PLAYER, "PlayPause")
    qtbot.waitUntil(lambda: app.playback.state == "playing", timeout=5000)

    # Seek 10 s forward: the player moves, and Seeked says where to
    before = app.playback.position
    client.call(PLAYER, "Seek", "x", (10_000_000,))
    qtbot.waitUntil(lambda: any(m == "Seeked" for m, _b in client.signals), timeout=5000)
    seeked = next(b for m, b in client.signals if m == "Seeked")[0]
    assert seeked == pytest.approx((before + 10) * 1e6, abs=1_000_000)
    qtbot.waitUntil(lambda: app.playback.position >= before + 9.0, timeout=5000)
    # SetPosition to 2 s of this track; a stale track id is ignored
    client.call(PLAYER, "SetPosition", "ox", (f"/org/melograph/track/{current.id}", 2_000_000))
    qtbot.waitUntil(lambda: app.playback.position < 6.0, timeout=5000)
    client.call(PLAYER, "SetPosition", "ox", ("/org/melograph/track/999999", 15_000_000))
    time.sleep(0.3)
    assert app.playback.position < 8.0

    # Next: another track, new metadata announced
    client.call(PLAYER, "Next")
    qtbot.waitUntil(lambda: app.playback.current is not None and app.playback.current.id != current.id, timeout=5000)
    nxt = app.playback.current
    qtbot.waitUntil(lambda: client.get("Metadata")[1]["xesam:title"] == ("s", nxt.title), timeout=5000)
    qtbot.waitUntil(lambda: client.changed("Metadata")[-1][1]["xesam:title"] == ("s", nxt.title), timeout=5000)

    # writable properties: shuffle, repeat, volume — and the window shows them
    assert client.set("Shuffle", "b", True) == ()
    assert app.playback.shuffle and app.player.shuffle and window.transport.shuffle()
    assert app.settings.shuffle is True
    qtbot.waitUntil(lambda: client.changed("Shuffle")[-1:] == [("b", True)], timeout=5000)
    assert client.set("LoopStatus", "s", "Track") == ()
    assert app.playback.repeat == "one" and window.transport.repeat() == "one"
    assert client.get("LoopStatus") == ("s", "Track")
    client.set("LoopStatus", "s", "Playlist")
    assert app.playback.repeat == "all"
    error = client.set("LoopStatus", "s", "Sometimes")
    assert error[0] == "error" and "None, Track, Playlist" in error[2]
    assert app.playback.repeat == "all"
    assert client.set("Volume", "d", 0.25) == ()
    assert window.transport.volume() == 25 and app.player.volume == pytest.approx(0.25)
    assert client.get("Volume") == ("d", 0.25)
    window.transport.set_volume(60)  # the user moves the slider: the desktop hears of it
    qtbot.waitUntil(lambda: client.changed("Volume")[-1:] == [("d", 0.6)], timeout=5000)
    assert client.set("Rate", "d", 2.0)[0] == "error"
    ro = client.set("PlaybackStatus", "s", "Playing")
    assert ro[0] == "error" and "read-only" in ro[2]

    # OpenUri of a file in the library plays it; anything else is refused in one line
    third = library_folder / "c.flac"
    client.call(PLAYER, "OpenUri", "s", (third.as_uri(),))
    qtbot.waitUntil(lambda: app.playback.current is not None and app.playback.current.title == "Third Rail",
                    timeout=5000)
    refused = client.call(PLAYER, "OpenUri", "s", ("https://example.org/x.mp3",))
    assert refused[0] == "error" and "file://" in refused[2]

    client.call(PLAYER, "Stop")
    qtbot.waitUntil(lambda: app.playback.state == "stopped", timeout=5000)
    assert client.get("PlaybackStatus") == ("s", "Stopped")
    qtbot.waitUntil(lambda: client.changed("PlaybackStatus")[-1:] == [("s", "Stopped")], timeout=5000)

    assert client.call(ROOT, "Raise") == ()
    assert window.isVisible()
    client.call(ROOT, "Quit")
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=5000)


def test_a_second_melograph_takes_its_own_name(qapp, qtbot, tmp_path, bus_address):
    from desktop.app import build

    apps = []
    for i in range(2):
        _q, window, app = build(["--data-dir", str(tmp_path / f"data{i}")], app=qapp)
        qtbot.addWidget(window)
        app._open_player = False
        app.start()
        apps.append(app)
    try:
        assert apps[0].mpris.name == MPRIS
        assert apps[1].mpris.name == f"{MPRIS}.instance{os.getpid()}"
        client = Client(qtbot, dest=apps[1].mpris.name)
        assert client.get("Identity", ROOT) == ("s", "Melograph")
        client.close()
    finally:
        for app in apps:
            app.shutdown()
    # gone from the bus with the app
    client = Client(qtbot)
    err = client.call(PROPS, "Get", "ss", (ROOT, "Identity"))
    assert err[0] == "error" and err[1] == "org.freedesktop.DBus.Error.ServiceUnknown"
    client.close()


def test_without_a_session_bus_the_app_says_nothing_and_works(qapp, qtbot, tmp_path, monkeypatch, library_folder):
    from desktop.app import build

    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path}/no-bus-here")
    _q, window, app = build(["--data-dir", str(tmp_path / "data"), str(library_folder)], app=qapp)
    qtbot.addWidget(window)
    app._open_player = False
    app.start()
    try:
        qtbot.waitUntil(lambda: app.library.model.rowCount() == 3 and not app.library.scanning, timeout=30_000)
        assert app.bus is None and app.mpris is None
        assert window.notices() == {}
        assert "D-Bus" not in window.statusBar().currentMessage()
    finally:
        app.shutdown()


# --- show in folder -----------------------------------------------------------------------------

class FakeFileManager:
    """An ``org.freedesktop.FileManager1`` on the test bus, on its own thread: it records the
    ``ShowItems`` calls and answers them."""

    def __init__(self):
        self.calls: list[tuple] = []
        self.conn = open_dbus_connection("SESSION")
        bus = DBusAddress("/org/freedesktop/DBus", bus_name="org.freedesktop.DBus", interface="org.freedesktop.DBus")
        reply = self.conn.send_and_get_reply(new_method_call(bus, "RequestName", "su", ("org.freedesktop.FileManager1", 4)))
        assert reply.body == (1,)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        from jeepney import new_method_return

        while not self._stop.is_set():
            try:
                msg = self.conn.receive(timeout=0.1)
            except TimeoutError:
                continue
            except OSError:
                return
            if msg.header.message_type is MessageType.method_call:
                self.calls.append((msg.header.fields[HeaderFields.member], msg.body))
                self.conn.send(new_method_return(msg))

    def close(self):
        self._stop.set()
        self._thread.join(2)
        self.conn.close()


@pytest.fixture
def library_app(qapp, qtbot, tmp_path, bus_address, library_folder):
    from desktop.app import build

    _q, window, app = build(["--data-dir", str(tmp_path / "data"), str(library_folder)], app=qapp)
    app._open_player = False
    try:
        app.start()
        qtbot.waitUntil(lambda: app.library.model.rowCount() == 3 and not app.library.scanning, timeout=30_000)
    except BaseException:
        app.shutdown()
        raise
    yield window, app
    _close(window, app)


def _context_action(menu, name):
    return next(a for a in menu.actions() if a.objectName() == name)


def test_show_in_folder_asks_the_file_manager_to_select_the_file(library_app, qtbot, library_folder):
    window, app = library_app
    fm = FakeFileManager()
    try:
        tid = _id_of(app, "Second Wind")
        _context_action(app.library.build_context_menu([tid]), "ctxShow").trigger()
        qtbot.waitUntil(lambda: bool(fm.calls), timeout=5000)
        assert fm.calls == [("ShowItems", ([(library_folder / "b.flac").as_uri()], ""))]
        assert not window.statusBar().currentMessage().startswith("Cannot show")
    finally:
        fm.close()


def test_show_in_folder_without_a_file_manager_opens_the_folder(library_app, qtbot, library_folder):
    from PySide6.QtCore import QObject, Slot
    from PySide6.QtGui import QDesktopServices

    window, app = library_app

    class Opener(QObject):
        urls: list = []

        @Slot("QUrl")
        def open(self, url):
            self.urls.append(url.toLocalFile())

    opener = Opener()
    QDesktopServices.setUrlHandler("file", opener, "open")
    try:
        app.library.show_in_folder(_id_of(app, "First Light"))
        qtbot.waitUntil(lambda: bool(opener.urls), timeout=5000)  # after the bus said no file manager is there
        assert opener.urls == [str(library_folder)]
    finally:
        QDesktopServices.unsetUrlHandler("file")


def test_show_in_folder_says_so_when_nothing_can_show_it(qtbot, bus_address, library_folder):
    from desktop.dbus import SessionBus
    from desktop.showfile import show_in_folder

    bus = SessionBus.open()
    told = []
    try:
        show_in_folder(str(library_folder / "a.flac"), bus=bus, tell=told.append, open_url=lambda url: False)
        qtbot.waitUntil(lambda: bool(told), timeout=5000)
        assert told[0].startswith(f"Cannot show {library_folder / 'a.flac'}: no file manager answered")
        told.clear()
        show_in_folder(str(library_folder / "gone" / "x.flac"), bus=bus, tell=told.append, open_url=lambda url: True)
        assert told and "is not there" in told[0]
    finally:
        bus.close()
