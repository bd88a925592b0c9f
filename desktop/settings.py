"""Typed access to the persisted settings (QSettings): the window's layout (saved by the main
window), and each feature's own (saved by its presenter): the last library and its table's columns
and sort, the volume and the play queue (track ids), the number of analysis workers, the current
profile.  The composition root
picks the QSettings backend (an INI file in the data directory), tests pass their own."""
from __future__ import annotations

import os

from PySide6.QtCore import QByteArray, QSettings


def default_workers() -> int:
    return max(1, (os.cpu_count() or 2) - 1)


class Settings:
    GEOMETRY = "window/geometry"
    STATE = "window/state"
    SPLITTER = "window/splitter"
    LIBRARY = "library/folder"
    VOLUME = "player/volume"
    WORKERS = "analysis/workers"
    QUEUE = "player/queue"
    PROFILE = "recommendations/profile"
    TABLE_HEADER = "library/header"
    TABLE_SORT = "library/sort"

    def __init__(self, qsettings: QSettings):
        self.q = qsettings

    @classmethod
    def at(cls, path: str | os.PathLike) -> "Settings":
        return cls(QSettings(os.fspath(path), QSettings.Format.IniFormat))

    def _bytes(self, key: str) -> QByteArray | None:
        v = self.q.value(key)
        return v if isinstance(v, QByteArray) and not v.isEmpty() else None

    def _int(self, key: str, default: int, lo: int, hi: int) -> int:
        try:
            v = int(self.q.value(key, default))
        except (TypeError, ValueError):
            v = default
        return min(max(v, lo), hi)

    # window --------------------------------------------------------------------------------------
    @property
    def geometry(self) -> QByteArray | None:
        return self._bytes(self.GEOMETRY)

    @geometry.setter
    def geometry(self, value: QByteArray) -> None:
        self.q.setValue(self.GEOMETRY, value)

    @property
    def window_state(self) -> QByteArray | None:
        return self._bytes(self.STATE)

    @window_state.setter
    def window_state(self, value: QByteArray) -> None:
        self.q.setValue(self.STATE, value)

    @property
    def splitter_state(self) -> QByteArray | None:
        return self._bytes(self.SPLITTER)

    @splitter_state.setter
    def splitter_state(self, value: QByteArray) -> None:
        self.q.setValue(self.SPLITTER, value)

    # library / player / analysis -------------------------------------------------------------------
    @property
    def library_folder(self) -> str | None:
        v = self.q.value(self.LIBRARY)
        return str(v) if v else None

    @library_folder.setter
    def library_folder(self, value: str | os.PathLike | None) -> None:
        if value:
            self.q.setValue(self.LIBRARY, os.fspath(value))
        else:
            self.q.remove(self.LIBRARY)

    @property
    def volume(self) -> int:
        return self._int(self.VOLUME, 80, 0, 100)

    @volume.setter
    def volume(self, value: int) -> None:
        self.q.setValue(self.VOLUME, int(value))

    @property
    def shuffle(self) -> bool:
        """The play queue's shuffle, as the user last left it."""
        return str(self.q.value("player/shuffle", "false")).lower() in ("true", "1")

    @shuffle.setter
    def shuffle(self, on: bool) -> None:
        self.q.setValue("player/shuffle", bool(on))

    @property
    def repeat(self) -> str:
        """The play queue's repeat mode: "off", "all" or "one"."""
        v = str(self.q.value("player/repeat", "off") or "off")
        return v if v in ("off", "all", "one") else "off"

    @repeat.setter
    def repeat(self, mode: str) -> None:
        self.q.setValue("player/repeat", str(mode))

    @property
    def workers(self) -> int:
        return self._int(self.WORKERS, default_workers(), 1, max(1, os.cpu_count() or 1) * 2)

    @workers.setter
    def workers(self, value: int) -> None:
        self.q.setValue(self.WORKERS, int(value))

    @property
    def queue_ids(self) -> list[int]:
        """The play queue of the last session, as catalog track ids (in order)."""
        v = self.q.value(self.QUEUE, "")
        out = []
        for part in str(v or "").split(","):
            try:
                out.append(int(part))
            except ValueError:
                continue
        return out

    @queue_ids.setter
    def queue_ids(self, ids) -> None:
        ids = [int(i) for i in ids]
        if ids:
            self.q.setValue(self.QUEUE, ",".join(map(str, ids)))
        else:
            self.q.remove(self.QUEUE)

    @property
    def table_header(self) -> QByteArray | None:
        """The library table's columns (widths, order), as ``QHeaderView.saveState`` wrote them."""
        return self._bytes(self.TABLE_HEADER)

    @table_header.setter
    def table_header(self, value: QByteArray) -> None:
        self.q.setValue(self.TABLE_HEADER, value)

    @property
    def table_sort(self) -> tuple[int, bool] | None:
        """The library table's sort: ``(column, descending)``, or ``None`` if never saved."""
        parts = str(self.q.value(self.TABLE_SORT, "") or "").split(",")
        try:
            return int(parts[0]), parts[1] == "desc"
        except (IndexError, ValueError):
            return None

    @table_sort.setter
    def table_sort(self, value: tuple[int, bool]) -> None:
        column, descending = value
        self.q.setValue(self.TABLE_SORT, f"{int(column)},{'desc' if descending else 'asc'}")

    @property
    def profile(self) -> str:
        """The profile of the last session (``default`` until one is chosen)."""
        return str(self.q.value(self.PROFILE, "") or "default")

    @profile.setter
    def profile(self, name: str) -> None:
        self.q.setValue(self.PROFILE, str(name))

    def sync(self) -> None:
        self.q.sync()
