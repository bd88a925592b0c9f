"""Fixtures for tests/core.

Playback tests run against a real PortAudio stream on a fake device: ALSA's ``null`` PCM as
the default output (tests/data/asoundrc through ALSA_CONFIG_PATH).  PortAudio reads the ALSA
configuration when sounddevice is imported, so this is set when this file is loaded, before any
test module imports sounddevice (and PortAudio is re-initialised if something already did).
"""
from __future__ import annotations

import os
from pathlib import Path

ASOUNDRC = Path(__file__).resolve().parents[1] / "data" / "asoundrc"

if not os.environ.get("MELOGRAPH_REAL_AUDIO"):  # set it to run the player tests on the real default device
    from core.playback.output import use_alsa_config

    use_alsa_config(ASOUNDRC)
