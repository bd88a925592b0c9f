"""What a :class:`core.playback.Player` tells its listeners, and the states it can be in.

Events are plain frozen dataclasses, sent from the player's engine thread to the functions given
to ``Player.subscribe``.  The desktop wraps them in queued Qt signals.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.audio.decode import AudioInfo

# the player's states
STOPPED = "stopped"
PLAYING = "playing"
PAUSED = "paused"
NO_DEVICE = "no_device"


@dataclass(frozen=True)
class StateChanged:
    """The player's state changed: ``"stopped"``, ``"playing"``, ``"paused"`` or ``"no_device"``."""

    state: str
    previous: str
    reason: str = ""


@dataclass(frozen=True)
class Position:
    """Periodic (``position_interval``) while playing, and after a seek.  Seconds."""

    track: Any
    position: float
    duration: float


@dataclass(frozen=True)
class TrackStarted:
    """The device started receiving ``track``'s audio (at ``start`` seconds into it), at ``sr`` Hz."""

    track: Any
    info: AudioInfo
    sr: int
    start: float = 0.0


@dataclass(frozen=True)
class TrackEnded:
    """``track`` stopped being played: ``reason`` is ``"finished"`` (its last sample went to the
    device), ``"skipped"`` (next/previous/play), ``"stopped"`` or ``"error"``."""

    track: Any
    reason: str
    position: float


@dataclass(frozen=True)
class PlaybackError:
    """Something the user should hear about.  ``kind``: a :mod:`core.errors` kind
    (``"unreadable"``, ``"unsupported"``, ``"decode_failed"``, ``"too_short"``) for a file,
    ``"device"`` for the audio output.  ``message`` is one line for the UI."""

    track: Any
    kind: str
    message: str


@dataclass(frozen=True)
class QueueChanged:
    """The upcoming tracks, in order (as ``Player.queue`` lists them)."""

    queue: tuple


Event = StateChanged | Position | TrackStarted | TrackEnded | PlaybackError | QueueChanged
