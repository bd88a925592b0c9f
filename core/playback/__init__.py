"""Playback: the player (engine.py: decoder thread, audio callback, state), its play queue
(queue.py), the events it sends (events.py), where its audio goes (output.py: a PortAudio device
or a null output, plus the fake devices tests and benchmarks play to), its ring buffer and volume
levelling from ReplayGain tags (levelling.py)."""
from core.playback.engine import Player
from core.playback.levelling import Levelling
from core.playback.events import (
    NO_DEVICE,
    PAUSED,
    PLAYING,
    STOPPED,
    Event,
    PlaybackError,
    Position,
    QueueChanged,
    StateChanged,
    TrackEnded,
    TrackStarted,
)
from core.playback.output import (
    NO_DEVICE_REASON,
    NullOutput,
    SoundDeviceOutput,
    jack_dummy,
    output_devices,
    reinitialize,
    use_alsa_config,
)
from core.playback.queue import PlayQueue, ViewSource

__all__ = [
    "NO_DEVICE",
    "NO_DEVICE_REASON",
    "PAUSED",
    "PLAYING",
    "STOPPED",
    "Event",
    "Levelling",
    "NullOutput",
    "PlaybackError",
    "PlayQueue",
    "Player",
    "Position",
    "QueueChanged",
    "SoundDeviceOutput",
    "StateChanged",
    "TrackEnded",
    "TrackStarted",
    "jack_dummy",
    "output_devices",
    "reinitialize",
    "ViewSource",
    "use_alsa_config",
]
