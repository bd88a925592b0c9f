"""The output device the user chose (Edit ▸ Preferences ▸ Playback), and the player opened on it.

A device is remembered as sounddevice finds it, ``"<name>, <host API>"`` (an exact match of
that string wins over a partial one), not by its index, which changes as devices come and go.
A remembered device that is not connected when the player opens is left for the system's
default, and kept in the settings for when it is back.
"""
from __future__ import annotations


def device_id(device: dict) -> str:
    """What the settings keep of one entry of ``core.playback.output_devices()``."""
    return f"{device['name']}, {device['hostapi']}"


def output_choices() -> list[tuple[str, str | None]]:
    """``(label, device id)`` of every output device PortAudio offers, the system's default
    first (id None)."""
    from core.playback import output_devices

    return [("System default", None)] + [(f"{d['name']} ({d['hostapi']})", device_id(d)) for d in output_devices()]


def open_player(device: str | None):
    """``(player, missing)``: a ``Player`` on ``device``, or on the default output when
    ``device`` is not there (then ``missing`` is ``device``).  Blocking: PortAudio looks the
    device up (run it off the GUI thread)."""
    from core.playback import Player

    if device:
        player = Player(device=device)
        if player.available:
            return player, None
        player.close()
        return Player(), device
    return Player(), None


def missing_device_message(device: str) -> str:
    return (f"The output device “{device}” is not connected: playing on the system's default. "
            "It stays chosen: Melograph plays on it again at a start when it is connected.")
