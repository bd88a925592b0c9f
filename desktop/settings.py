"""Typed access to the persisted settings (QSettings): the window's layout (saved by the main
window), and each feature's own (saved by its presenter): the last library and its table's columns
and sort, the volume and its levelling (ReplayGain), the play queue (track ids) and where playback left off, the number of analysis workers, the current
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
    def play_these(self) -> str:
        """What "Play these" does to a queue that is not empty: "ask", "replace" or "append"
        (the answer given with "don't ask again")."""
        v = str(self.q.value("player/play_these", "ask") or "ask")
        return v if v in ("ask", "replace", "append") else "ask"

    @play_these.setter
    def play_these(self, choice: str) -> None:
        self.q.setValue("player/play_these", str(choice))

    @property
    def browser_group_by(self) -> str:
        """How the artist / album browser groups the library: "artist" or "genre"."""
        v = str(self.q.value("library/browser_group_by", "artist") or "artist")
        return v if v in ("artist", "genre") else "artist"

    @browser_group_by.setter
    def browser_group_by(self, key: str) -> None:
        self.q.setValue("library/browser_group_by", str(key))

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

    @property
    def resume(self) -> tuple[int, float] | None:
        """Where the last session left off: ``(track id, seconds into it)``, or None."""
        parts = str(self.q.value("player/resume", "") or "").split(",")
        try:
            track_id, position = int(parts[0]), float(parts[1])
        except (IndexError, ValueError):
            return None
        return (track_id, max(0.0, position)) if position == position else None  # (NaN: none)

    @resume.setter
    def resume(self, value: tuple[int, float] | None) -> None:
        if value is None:
            self.q.remove("player/resume")
            self.q.remove("player/resume_label")
        else:
            self.q.setValue("player/resume", f"{int(value[0])},{float(value[1]):.3f}")

    @property
    def resume_label(self) -> str | None:
        """The resumed track's "title — artist", to name it when its row is gone from the table."""
        return str(self.q.value("player/resume_label", "") or "") or None

    @resume_label.setter
    def resume_label(self, value: str | None) -> None:
        self.q.setValue("player/resume_label", value or "")

    @property
    def history_columns(self) -> bool:
        """Whether the table shows the Plays, Last played and Skips columns (hidden by default)."""
        return str(self.q.value("library/history_columns", "false")).lower() in ("true", "1")

    @history_columns.setter
    def history_columns(self, on: bool) -> None:
        self.q.setValue("library/history_columns", bool(on))

    @property
    def library_folders_adopted(self) -> bool:
        """Whether the library is the catalog's set of folders already (a settings file from
        before that names one folder, ``library_folder``, as the library shown)."""
        return str(self.q.value("library/folders_adopted", "false")).lower() in ("true", "1")

    @library_folders_adopted.setter
    def library_folders_adopted(self, on: bool) -> None:
        self.q.setValue("library/folders_adopted", bool(on))

    @property
    def output_device(self) -> str | None:
        """The chosen output device as sounddevice finds it (``"<name>, <host API>"``), or None
        for the system's default.  Kept while the device is away."""
        v = self.q.value("player/output_device", "")
        return str(v) if v else None

    @output_device.setter
    def output_device(self, device: str | None) -> None:
        if device:
            self.q.setValue("player/output_device", str(device))
        else:
            self.q.remove("player/output_device")

    @property
    def levelling(self):
        """Volume levelling (``core.playback.levelling.Levelling``); a stored value that does not
        make one (edited by hand) reads as the default, off."""
        from core.playback.levelling import Levelling

        q = self.q
        try:
            return Levelling(mode=str(q.value("player/levelling", "off")),
                             preamp_db=float(q.value("player/levelling_preamp_db", 0.0)),
                             untagged_db=float(q.value("player/levelling_untagged_db", 0.0)),
                             prevent_clipping=str(q.value("player/levelling_prevent_clipping", "true")).lower()
                             in ("true", "1"))
        except (TypeError, ValueError):
            return Levelling()

    @levelling.setter
    def levelling(self, value) -> None:
        self.q.setValue("player/levelling", value.mode)
        self.q.setValue("player/levelling_preamp_db", float(value.preamp_db))
        self.q.setValue("player/levelling_untagged_db", float(value.untagged_db))
        self.q.setValue("player/levelling_prevent_clipping", bool(value.prevent_clipping))

    @property
    def pause_analysis_while_playing(self) -> bool:
        """Whether the genre analysis waits while music plays (else it goes on with one worker)."""
        return str(self.q.value("analysis/pause_while_playing", "false")).lower() in ("true", "1")

    @pause_analysis_while_playing.setter
    def pause_analysis_while_playing(self, on: bool) -> None:
        self.q.setValue("analysis/pause_while_playing", bool(on))

    def sync(self) -> None:
        self.q.sync()
