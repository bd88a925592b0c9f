"""MPRIS 2: the desktop's media keys, sound menu and ``playerctl`` control Melograph.

Served on the session bus (:mod:`desktop.dbus`) as ``org.mpris.MediaPlayer2.melograph`` (a second
Melograph running at the same time takes ``…melograph.instance<pid>``, as the specification
says), object ``/org/mpris/MediaPlayer2``, with the interfaces ``org.mpris.MediaPlayer2`` and
``org.mpris.MediaPlayer2.Player`` and their properties through
``org.freedesktop.DBus.Properties``.  Every call is carried out by the playback presenter, as a
click on the transport bar would be; what the presenter reports (track, state, volume, shuffle,
repeat, seeks) goes out as ``PropertiesChanged`` (only the properties that changed; the
position never, as the specification asks) and ``Seeked``.

Repeat maps to ``LoopStatus``: off ↔ ``None``, all ↔ ``Playlist``, this track ↔ ``Track``.
A track's ``mpris:trackid`` is ``/org/melograph/track/<catalog id>``; its ``mpris:artUrl`` the
cover thumbnail (found on a background thread; the metadata changes again once it is there).
"""
from __future__ import annotations

import logging
import os
from urllib.parse import unquote, urlparse

from jeepney import DBusAddress, Message, new_error, new_method_return, new_signal
from PySide6.QtCore import QObject

from desktop.dbus import INVALID_ARGS, UNKNOWN_METHOD, SessionBus, member

log = logging.getLogger(__name__)

BUS_NAME = "org.mpris.MediaPlayer2.melograph"
OBJECT_PATH = "/org/mpris/MediaPlayer2"
ROOT_IFACE = "org.mpris.MediaPlayer2"
PLAYER_IFACE = "org.mpris.MediaPlayer2.Player"
PROPS_IFACE = "org.freedesktop.DBus.Properties"
TRACK_PATH = "/org/melograph/track/"
NO_TRACK = "/org/mpris/MediaPlayer2/TrackList/NoTrack"
ERROR = "org.mpris.MediaPlayer2.melograph.Error"

LOOP_OF_REPEAT = {"off": "None", "one": "Track", "all": "Playlist"}
REPEAT_OF_LOOP = {v: k for k, v in LOOP_OF_REPEAT.items()}
STATUS_OF_STATE = {"playing": "Playing", "paused": "Paused"}  # everything else: "Stopped"

#: what Melograph opens (the scanner's formats)
MIME_TYPES = [
    "audio/mpeg", "audio/flac", "audio/x-flac", "audio/ogg", "audio/x-vorbis+ogg", "audio/opus",
    "audio/mp4", "audio/x-m4a", "audio/aac", "audio/wav", "audio/x-wav", "audio/aiff", "audio/x-aiff",
    "audio/x-ms-wma",
]

INTROSPECTION = """<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">
<node>
  <interface name="org.freedesktop.DBus.Introspectable">
    <method name="Introspect"><arg name="xml_data" type="s" direction="out"/></method>
  </interface>
  <interface name="org.freedesktop.DBus.Peer">
    <method name="Ping"/>
    <method name="GetMachineId"><arg name="machine_uuid" type="s" direction="out"/></method>
  </interface>
  <interface name="org.freedesktop.DBus.Properties">
    <method name="Get">
      <arg name="interface_name" type="s" direction="in"/><arg name="property_name" type="s" direction="in"/>
      <arg name="value" type="v" direction="out"/>
    </method>
    <method name="GetAll">
      <arg name="interface_name" type="s" direction="in"/><arg name="properties" type="a{sv}" direction="out"/>
    </method>
    <method name="Set">
      <arg name="interface_name" type="s" direction="in"/><arg name="property_name" type="s" direction="in"/>
      <arg name="value" type="v" direction="in"/>
    </method>
    <signal name="PropertiesChanged">
      <arg name="interface_name" type="s"/><arg name="changed_properties" type="a{sv}"/>
      <arg name="invalidated_properties" type="as"/>
    </signal>
  </interface>
  <interface name="org.mpris.MediaPlayer2">
    <method name="Raise"/>
    <method name="Quit"/>
    <property name="CanQuit" type="b" access="read"/>
    <property name="CanRaise" type="b" access="read"/>
    <property name="HasTrackList" type="b" access="read"/>
    <property name="Identity" type="s" access="read"/>
    <property name="DesktopEntry" type="s" access="read"/>
    <property name="SupportedUriSchemes" type="as" access="read"/>
    <property name="SupportedMimeTypes" type="as" access="read"/>
  </interface>
  <interface name="org.mpris.MediaPlayer2.Player">
    <method name="Next"/>
    <method name="Previous"/>
    <method name="Pause"/>
    <method name="PlayPause"/>
    <method name="Stop"/>
    <method name="Play"/>
    <method name="Seek"><arg name="Offset" type="x" direction="in"/></method>
    <method name="SetPosition">
      <arg name="TrackId" type="o" direction="in"/><arg name="Position" type="x" direction="in"/>
    </method>
    <method name="OpenUri"><arg name="Uri" type="s" direction="in"/></method>
    <signal name="Seeked"><arg name="Position" type="x"/></signal>
    <property name="PlaybackStatus" type="s" access="read"/>
    <property name="LoopStatus" type="s" access="readwrite"/>
    <property name="Rate" type="d" access="readwrite"/>
    <property name="Shuffle" type="b" access="readwrite"/>
    <property name="Metadata" type="a{sv}" access="read"/>
    <property name="Volume" type="d" access="readwrite"/>
    <property name="Position" type="x" access="read"/>
    <property name="MinimumRate" type="d" access="read"/>
    <property name="MaximumRate" type="d" access="read"/>
    <property name="CanGoNext" type="b" access="read"/>
    <property name="CanGoPrevious" type="b" access="read"/>
    <property name="CanPlay" type="b" access="read"/>
    <property name="CanPause" type="b" access="read"/>
    <property name="CanSeek" type="b" access="read"/>
    <property name="CanControl" type="b" access="read"/>
  </interface>
</node>
"""

#: each property's D-Bus type (the value goes out as a variant of exactly this type)
TYPES = {
    ROOT_IFACE: {"CanQuit": "b", "CanRaise": "b", "HasTrackList": "b", "Identity": "s", "DesktopEntry": "s",
                 "SupportedUriSchemes": "as", "SupportedMimeTypes": "as"},
    PLAYER_IFACE: {"PlaybackStatus": "s", "LoopStatus": "s", "Rate": "d", "Shuffle": "b", "Metadata": "a{sv}",
                   "Volume": "d", "Position": "x", "MinimumRate": "d", "MaximumRate": "d", "CanGoNext": "b",
                   "CanGoPrevious": "b", "CanPlay": "b", "CanPause": "b", "CanSeek": "b", "CanControl": "b"},
}
WRITABLE = {(PLAYER_IFACE, "LoopStatus"), (PLAYER_IFACE, "Rate"), (PLAYER_IFACE, "Shuffle"),
            (PLAYER_IFACE, "Volume")}


def track_object_path(track_id: int) -> str:
    return f"{TRACK_PATH}{int(track_id)}"


class MprisService(QObject):
    """The MPRIS object over the playback presenter.  ``library``: track ids to rows (album,
    predicted genre) and paths to ids (``OpenUri``); ``covers``: a ``CoverCache`` or None;
    ``reader``: a ``TaskRunner`` for the cover look-ups; ``window``: raised by ``Raise`` and
    closed by ``Quit``."""

    def __init__(self, bus: SessionBus, *, window, playback, library, covers=None, reader=None):
        super().__init__(window)
        self.bus = bus
        self.window = window
        self.playback = playback
        self.library = library
        self.covers = covers
        self.reader = reader
        self.name: str | None = None
        self._emitter = DBusAddress(OBJECT_PATH)
        self._art: tuple[int, str] | None = None  # (track id, file:// URL of its cover)
        self._art_asked: int | None = None
        bus.export(OBJECT_PATH, self._handle)
        self._shown = self._player_props()

        playback.trackChanged.connect(self._on_track)
        playback.stateChanged.connect(self._changed)
        playback.modesChanged.connect(self._changed)
        playback.seeked.connect(self._on_seeked)
        library.rowsShown.connect(self._changed)

    @classmethod
    def start(cls, bus: SessionBus | None, **kwargs) -> "MprisService | None":
        """Serve MPRIS on ``bus``; ``None`` (silently) without a bus or when no name can be had."""
        if bus is None or not bus.connected:
            return None
        service = cls(bus, **kwargs)
        for name in (BUS_NAME, f"{BUS_NAME}.instance{os.getpid()}"):
            if bus.request_name(name):
                service.name = name
                return service
        log.info("MPRIS: no bus name to be had")
        return None

    # --- the properties -------------------------------------------------------------------------
    def _root_props(self) -> dict:
        return {"CanQuit": True, "CanRaise": True, "HasTrackList": False, "Identity": "Melograph",
                "DesktopEntry": "melograph", "SupportedUriSchemes": ["file"], "SupportedMimeTypes": MIME_TYPES}

    def _player_props(self) -> dict:
        pb = self.playback
        available = pb.player is not None and pb.player.available
        current = pb.current
        has_music = current is not None or self.library.first_id() is not None
        return {
            "PlaybackStatus": STATUS_OF_STATE.get(pb.state, "Stopped"),
            "LoopStatus": LOOP_OF_REPEAT.get(pb.repeat, "None"),
            "Rate": 1.0, "MinimumRate": 1.0, "MaximumRate": 1.0,
            "Shuffle": bool(pb.shuffle),
            "Metadata": self._metadata(),
            "Volume": self.window.transport.volume() / 100.0,
            "Position": int(round(pb.position * 1e6)) if current is not None else 0,
            "CanGoNext": available and current is not None,
            "CanGoPrevious": available and current is not None,
            "CanPlay": available and has_music,
            "CanPause": available and has_music,
            "CanSeek": available and current is not None and self._duration() > 0,
            "CanControl": True,
        }

    def _duration(self) -> float:
        cur = self.playback.current
        if cur is None:
            return 0.0
        return float(self._track_duration or cur.duration or 0.0)

    _track_duration = 0.0

    def _metadata(self) -> dict:
        """``{key: (dbus type, value)}`` of the current track."""
        cur = self.playback.current
        if cur is None:
            return {"mpris:trackid": ("o", NO_TRACK)}
        row = self.library.row(cur.id)
        md = {"mpris:trackid": ("o", track_object_path(cur.id)), "xesam:url": ("s", _file_url(cur.path))}
        length = self._duration()
        if length > 0:
            md["mpris:length"] = ("x", int(round(length * 1e6)))
        if cur.title:
            md["xesam:title"] = ("s", cur.title)
        if cur.artist:
            md["xesam:artist"] = ("as", [cur.artist])
        if row is not None and row.album:
            md["xesam:album"] = ("s", row.album)
        if row is not None and row.predicted:
            md["xesam:genre"] = ("as", [row.predicted])
        if self._art is not None and self._art[0] == cur.id:
            md["mpris:artUrl"] = ("s", self._art[1])
        return md

    def _value(self, iface: str, name: str):
        props = self._root_props() if iface == ROOT_IFACE else self._player_props()
        return (TYPES[iface][name], props[name])

    # --- what the presenter tells -----------------------------------------------------------------
    def _on_track(self, item, duration: float) -> None:
        self._track_duration = float(duration or 0.0)
        self._ask_cover(item)
        self._changed()

    def _on_seeked(self, seconds: float) -> None:
        if self.playback.current is None:
            return
        self.bus.send(new_signal(self._emitter_for(PLAYER_IFACE), "Seeked", "x", (int(round(seconds * 1e6)),)))

    def _emitter_for(self, iface: str) -> DBusAddress:
        return DBusAddress(OBJECT_PATH, interface=iface)

    def refresh(self, *_args) -> None:
        """Something the metadata shows changed (the analysis found the track's genre)."""
        self._changed()

    def _changed(self, *_args) -> None:
        """Send ``PropertiesChanged`` for the player's properties that differ from those last sent."""
        now = self._player_props()
        changed = {k: v for k, v in now.items() if k != "Position" and self._shown.get(k) != v}
        self._shown = now
        if not changed:
            return
        body = {k: (TYPES[PLAYER_IFACE][k], v) for k, v in changed.items()}
        self.bus.send(new_signal(self._emitter_for(PROPS_IFACE), "PropertiesChanged", "sa{sv}as",
                                 (PLAYER_IFACE, body, [])))

    def _ask_cover(self, item) -> None:
        if item is None or self.covers is None or self.reader is None or self._art_asked == item.id:
            return
        self._art_asked = item.id
        track_id, path = item.id, item.path

        def found(thumb):
            if thumb:
                self._art = (track_id, _file_url(thumb))
                self._changed()

        self.reader.submit(self.covers.thumbnail_path, path, on_result=found,
                           on_error=lambda exc, tb: log.info("no cover for %s: %s", path, exc))

    # --- the calls ----------------------------------------------------------------------------------
    def _handle(self, msg: Message) -> Message | None:
        iface, name = member(msg)
        args = msg.body
        if iface == "org.freedesktop.DBus.Introspectable" and name == "Introspect":
            return new_method_return(msg, "s", (INTROSPECTION,))
        if iface == "org.freedesktop.DBus.Peer" and name == "Ping":
            return new_method_return(msg)
        if iface == "org.freedesktop.DBus.Peer" and name == "GetMachineId":
            return new_method_return(msg, "s", (_machine_id(),))
        if iface == PROPS_IFACE:
            return self._properties_call(msg, name, args)
        if iface in (ROOT_IFACE, None) and name in ("Raise", "Quit"):
            (self._raise if name == "Raise" else self.window.close)()
            return new_method_return(msg)
        if iface in (PLAYER_IFACE, None):
            handler = getattr(self, f"_do_{name}", None)
            if handler is not None:
                problem = handler(*args)
                if problem:
                    return new_error(msg, ERROR, "s", (problem,))
                return new_method_return(msg)
        return new_error(msg, UNKNOWN_METHOD, "s", (f"no method {iface}.{name}",))

    def _properties_call(self, msg: Message, name: str, args: tuple) -> Message:
        iface = args[0] if args else ""
        if iface not in TYPES:
            return new_error(msg, INVALID_ARGS, "s", (f"no interface {iface}",))
        if name == "GetAll":
            props = self._root_props() if iface == ROOT_IFACE else self._player_props()
            return new_method_return(msg, "a{sv}", ({k: (TYPES[iface][k], v) for k, v in props.items()},))
        prop = args[1] if len(args) > 1 else ""
        if prop not in TYPES[iface]:
            return new_error(msg, INVALID_ARGS, "s", (f"no property {prop}",))
        if name == "Get":
            return new_method_return(msg, "v", (self._value(iface, prop),))
        if name == "Set":
            if (iface, prop) not in WRITABLE:
                return new_error(msg, "org.freedesktop.DBus.Error.PropertyReadOnly", "s", (f"{prop} is read-only",))
            _sig, value = args[2]
            problem = self._set(prop, value)
            if problem:
                return new_error(msg, INVALID_ARGS, "s", (problem,))
            return new_method_return(msg)
        return new_error(msg, UNKNOWN_METHOD, "s", (f"no method {PROPS_IFACE}.{name}",))

    def _set(self, prop: str, value) -> str | None:
        pb = self.playback
        if prop == "LoopStatus":
            if value not in REPEAT_OF_LOOP:
                return f"LoopStatus is one of None, Track, Playlist, not {value!r}"
            pb.set_repeat(REPEAT_OF_LOOP[value])
        elif prop == "Shuffle":
            pb.set_shuffle(bool(value))
        elif prop == "Volume":
            self.window.transport.set_volume(int(round(min(max(float(value), 0.0), 1.0) * 100)))
        elif prop == "Rate":
            if float(value) != 1.0:
                return "Melograph plays at rate 1.0 only"
        return None

    def _raise(self) -> None:
        w = self.window
        if w.isMinimized():
            w.showNormal()
        w.show()
        w.raise_()
        w.activateWindow()

    # each returns None, or a one-line reason for the caller
    def _do_Play(self) -> None:  # noqa: N802
        if self.playback.state != "playing":  # paused: resume; stopped: the selected or first track
            self.playback.play_pause()

    def _do_Pause(self) -> None:  # noqa: N802
        if self.playback.state == "playing":
            self.playback.play_pause()

    def _do_PlayPause(self) -> None:  # noqa: N802
        self.playback.play_pause()

    def _do_Stop(self) -> None:  # noqa: N802
        self.playback.stop()

    def _do_Next(self) -> None:  # noqa: N802
        self.playback.next()

    def _do_Previous(self) -> None:  # noqa: N802
        self.playback.previous()

    def _do_Seek(self, offset_us: int) -> None:  # noqa: N802
        pb = self.playback
        if pb.current is None:
            return
        target = pb.position + offset_us / 1e6
        duration = self._duration()
        if duration > 0 and target > duration:
            pb.next()  # past the end: the next track, as the specification says
            return
        pb.seek(max(0.0, target))

    def _do_SetPosition(self, track: str, position_us: int) -> str | None:  # noqa: N802
        pb = self.playback
        if pb.current is None or track != track_object_path(pb.current.id):
            return None  # a stale track id: ignored, as the specification says
        duration = self._duration()
        if position_us < 0 or (duration > 0 and position_us > duration * 1e6):
            return None
        pb.seek(position_us / 1e6)
        return None

    def _do_OpenUri(self, uri: str) -> str | None:  # noqa: N802
        parsed = urlparse(uri)
        if parsed.scheme != "file":
            return f"Melograph opens file:// URIs only, not {uri}"
        path = os.path.realpath(unquote(parsed.path))
        rows = self.library.model.rowset()
        track_id = next((r.id for r in (rows.rows if rows is not None else ()) if os.path.realpath(r.path) == path), None)
        if track_id is None:
            return f"{path} is not in the library"
        self.playback.play_ids([track_id])
        return None


def _file_url(path: str) -> str:
    from pathlib import Path

    return Path(os.path.abspath(path)).as_uri()


def _machine_id() -> str:
    for path in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            with open(path, encoding="ascii") as f:
                return f.read().strip()
        except OSError:
            continue
    return ""
