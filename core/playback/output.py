"""Output-device discovery, and the fake devices tests and benchmarks play to.

- :func:`output_devices`: the PortAudio outputs (name, host API, channels, default rate).
- :func:`use_alsa_config`: point ALSA at another configuration (the test one,
  ``tests/data/asoundrc``, makes the default device ALSA's ``null`` PCM, which discards audio
  as fast as the callback delivers it: it does *not* pace in real time).  PortAudio reads the
  ALSA configuration when it initialises, which sounddevice does at import: this sets the
  environment and re-initialises PortAudio if sounddevice is already loaded.
- :func:`jack_dummy`: a JACK server on the ``dummy`` driver (Debian package ``jackd2``), a fake
  device that *does* run in real time, for benchmarks.  None when jackd is not installed.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time


def use_alsa_config(path: str | os.PathLike) -> None:
    """Make ALSA (hence PortAudio, hence sounddevice) use the configuration file ``path``."""
    os.environ["ALSA_CONFIG_PATH"] = os.fspath(path)
    os.environ.setdefault("JACK_NO_START_SERVER", "1")  # never let PortAudio start a JACK server
    reinitialize()


def reinitialize() -> None:
    """Re-scan devices: re-initialise PortAudio if sounddevice is loaded (no stream may be open)."""
    sd = sys.modules.get("sounddevice")
    if sd is not None:
        sd._terminate()
        sd._initialize()


def output_devices() -> list[dict]:
    """``[{index, name, hostapi, channels, default_samplerate, default}]`` for every output."""
    try:
        import sounddevice as sd
    except (OSError, ImportError):
        return []
    try:
        default = sd.default.device[1]
        if default is None or default < 0:
            default = sd.query_devices(kind="output")["index"]
    except Exception:
        default = -1
    apis = sd.query_hostapis()
    out = []
    for d in sd.query_devices():
        if d["max_output_channels"] > 0:
            out.append(
                {
                    "index": d["index"],
                    "name": d["name"],
                    "hostapi": apis[d["hostapi"]]["name"],
                    "channels": d["max_output_channels"],
                    "default_samplerate": d["default_samplerate"],
                    "default": d["index"] == default,
                }
            )
    return out


@contextlib.contextmanager
def jack_dummy(*, rate: int = 44100, period: int = 512, name: str = "melograph-bench"):
    """Run ``jackd -d dummy`` (real-time pacing, no hardware) for the ``with`` block; yields the
    server name (or None when jackd is not installed or does not start).  PortAudio is
    re-initialised so its JACK host API sees the server."""
    jackd = shutil.which("jackd")
    if jackd is None:
        yield None
        return
    env = dict(os.environ, JACK_DEFAULT_SERVER=name, JACK_NO_AUDIO_RESERVATION="1")
    proc = subprocess.Popen(
        [jackd, "--no-realtime", "-n", name, "-d", "dummy", "-r", str(rate), "-p", str(period)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    old = {k: os.environ.get(k) for k in ("JACK_DEFAULT_SERVER", "JACK_NO_START_SERVER")}
    os.environ["JACK_DEFAULT_SERVER"] = name
    os.environ["JACK_NO_START_SERVER"] = "1"
    try:
        ok = False
        for _ in range(50):
            time.sleep(0.1)
            if proc.poll() is not None:
                break
            reinitialize()
            if any(d["hostapi"].startswith("JACK") for d in output_devices()):
                ok = True
                break
        yield name if ok else None
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        sd = sys.modules.get("sounddevice")
        if sd is not None:  # leave JACK while the server is up (PortAudio asserts otherwise)
            with contextlib.suppress(Exception):
                sd._terminate()
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
        if sd is not None:
            with contextlib.suppress(Exception):
                sd._initialize()
