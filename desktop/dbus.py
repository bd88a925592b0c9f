"""The D-Bus session bus on the GUI thread: jeepney speaks the protocol, a ``QSocketNotifier``
tells the event loop when messages arrive.

Qt's own module (``PySide6.QtDBus``) cannot be given the D-Bus type of a value from Python: a
Python ``int`` below 2³¹ always goes out as ``int32`` (``i``) and ``QDBusArgument << int`` writes
a ``uint16``, while MPRIS requires ``int64`` (``x``) for positions and lengths.  jeepney takes
an explicit signature for every message (``("x", 5)`` is an ``int64`` in a variant).

:meth:`SessionBus.open` connects (``None`` when there is no session bus);
then :meth:`export` serves an object path, :meth:`request_name` takes a well-known name,
:meth:`call` calls a method without waiting (the reply comes back as a callback on the GUI
thread), :meth:`send` sends a reply or a signal.
"""
from __future__ import annotations

import logging
from typing import Callable

from jeepney import DBusAddress, HeaderFields, Message, MessageType, new_error, new_method_call
from PySide6.QtCore import QObject, QSocketNotifier, QTimer

log = logging.getLogger(__name__)

#: D-Bus's own error names, for replies to calls that cannot be served
UNKNOWN_METHOD = "org.freedesktop.DBus.Error.UnknownMethod"
UNKNOWN_OBJECT = "org.freedesktop.DBus.Error.UnknownObject"
INVALID_ARGS = "org.freedesktop.DBus.Error.InvalidArgs"
FAILED = "org.freedesktop.DBus.Error.Failed"

_BUS = DBusAddress("/org/freedesktop/DBus", bus_name="org.freedesktop.DBus", interface="org.freedesktop.DBus")


class CallError(Exception):
    """A method call answered with a D-Bus error (``name``), or not answered in time."""

    def __init__(self, name: str, message: str = ""):
        super().__init__(f"{name}: {message}" if message else name)
        self.name = name


class SessionBus(QObject):
    """One connection to the session bus, read on the GUI thread.  Handlers exported with
    :meth:`export` get each method call to their path and return the reply (a jeepney
    ``Message``), or ``None`` when they sent it themselves or none is due."""

    def __init__(self, conn, parent: QObject | None = None):
        super().__init__(parent)
        self._conn = conn
        self.unique_name: str = conn.unique_name
        self._objects: dict[str, Callable[[Message], Message | None]] = {}
        self._pending: dict[int, tuple[Callable, Callable, QTimer]] = {}
        self._notifier = QSocketNotifier(conn.sock.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._read)
        self._read()  # what arrived while the connection was set up

    @classmethod
    def open(cls, parent: QObject | None = None) -> "SessionBus | None":
        """Connect to the session bus (``DBUS_SESSION_BUS_ADDRESS``); ``None`` when there is none
        or it does not answer within a second."""
        from jeepney.io.blocking import open_dbus_connection

        try:
            conn = open_dbus_connection(bus="SESSION", auth_timeout=1.0)
        except Exception as exc:  # noqa: BLE001 - no bus, a refused socket, a bad address: no D-Bus
            log.info("no D-Bus session bus: %s", exc)
            return None
        return cls(conn, parent)

    @property
    def connected(self) -> bool:
        return self._conn is not None

    # --- serving ----------------------------------------------------------------------------------
    def export(self, path: str, handler: Callable[[Message], Message | None]) -> None:
        self._objects[path] = handler

    def request_name(self, name: str, *, timeout: float = 1.0) -> bool:
        """Own ``name`` (never queue for it); False when another connection has it."""
        from jeepney.bus_messages import DBusNameFlags

        msg = new_method_call(_BUS, "RequestName", "su", (name, DBusNameFlags.do_not_queue))
        try:
            reply = self._conn.send_and_get_reply(msg, timeout=timeout)
        except Exception as exc:  # noqa: BLE001
            log.warning("D-Bus: cannot request %s: %s", name, exc)
            return False
        finally:
            self._read()  # messages that came in while waiting for the reply
        return reply.header.message_type is MessageType.method_return and reply.body[0] in (1, 4)  # owner / already

    def send(self, msg: Message) -> None:
        if self._conn is None:
            return
        try:
            self._conn.send(msg)
        except OSError as exc:
            log.warning("D-Bus: the connection is lost: %s", exc)
            self.close()

    # --- calling ----------------------------------------------------------------------------------
    def call(self, msg: Message, on_reply: Callable[[tuple], None], on_error: Callable[[CallError], None], *,
             timeout_ms: int = 3000) -> None:
        """Send the method call ``msg``; later, on the GUI thread, ``on_reply(body)`` or
        ``on_error(CallError)`` (also when no reply comes within ``timeout_ms``)."""
        if self._conn is None:
            on_error(CallError(FAILED, "no D-Bus connection"))
            return
        serial = next(self._conn.outgoing_serial)
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.timeout.connect(lambda: self._answer(serial, None, CallError("org.freedesktop.DBus.Error.NoReply",
                                                                            "no reply in time")))
        self._pending[serial] = (on_reply, on_error, timer)
        timer.start(timeout_ms)
        try:
            self._conn.send(msg, serial=serial)
        except OSError as exc:
            self._answer(serial, None, CallError(FAILED, str(exc)))

    def _answer(self, serial: int, body: tuple | None, error: CallError | None) -> None:
        entry = self._pending.pop(serial, None)
        if entry is None:
            return
        on_reply, on_error, timer = entry
        timer.stop()
        timer.deleteLater()
        try:
            if error is not None:
                on_error(error)
            else:
                on_reply(body)
        except Exception:  # noqa: BLE001 - a callback's bug must not stop the bus
            log.exception("D-Bus reply handler")

    # --- reading ----------------------------------------------------------------------------------
    def _read(self) -> None:
        conn = self._conn
        while conn is not None and conn is self._conn:
            try:
                msg = conn.receive(timeout=0)
            except TimeoutError:
                return
            except (OSError, ValueError) as exc:
                log.warning("D-Bus: the connection is lost: %s", exc)
                self.close()
                return
            self._dispatch(msg)

    def _dispatch(self, msg: Message) -> None:
        kind = msg.header.message_type
        fields = msg.header.fields
        if kind in (MessageType.method_return, MessageType.error):
            serial = fields.get(HeaderFields.reply_serial)
            if kind is MessageType.error:
                text = msg.body[0] if msg.body and isinstance(msg.body[0], str) else ""
                self._answer(serial, None, CallError(fields.get(HeaderFields.error_name, FAILED), text))
            else:
                self._answer(serial, msg.body, None)
            return
        if kind is not MessageType.method_call:
            return
        path = fields.get(HeaderFields.path)
        handler = self._objects.get(path)
        if handler is None:
            reply = new_error(msg, UNKNOWN_OBJECT, "s", (f"no object at {path}",))
        else:
            try:
                reply = handler(msg)
            except Exception as exc:  # noqa: BLE001 - answer the caller, keep serving
                log.exception("D-Bus call %s.%s", fields.get(HeaderFields.interface), fields.get(HeaderFields.member))
                reply = new_error(msg, FAILED, "s", (str(exc),))
        if reply is not None and not (msg.header.flags & 1):  # 1: NO_REPLY_EXPECTED
            self.send(reply)

    def close(self) -> None:
        """Leave the bus (the well-known names go with the connection)."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        self._notifier.setEnabled(False)
        for serial in list(self._pending):
            self._answer(serial, None, CallError(FAILED, "the D-Bus connection is closed"))
        try:
            conn.close()
        except OSError:
            pass


def member(msg: Message) -> tuple[str | None, str | None]:
    """``(interface, member)`` of a method call."""
    f = msg.header.fields
    return f.get(HeaderFields.interface), f.get(HeaderFields.member)
