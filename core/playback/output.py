"""Where the player's audio goes: an output device and the one stream open on it.

- :class:`SoundDeviceOutput`: a PortAudio device through sounddevice.  The device is looked up
  when the output is made; ``unavailable_reason`` says why there is none to play to.
- :class:`NullOutput`: the same interface with no device: a thread calls the callback block
  after block and drops the audio, at real time or faster.  For tests of the player's logic where
  the device is not the subject.

Both call ``callback(outdata, frames, time_info, status)`` as sounddevice does (``outdata`` a
``(frames, channels)`` float32 array to fill, ``time_info.outputBufferDacTime`` and
``.currentTime`` on the stream clock :attr:`time`, ``status.output_underflow``).  A callback
ends the stream by raising one of ``stops`` (``abort``: at once); then ``on_lost`` is called, as
it is when the device fails on its own, but never after :meth:`close`.

The fake devices tests and benchmarks play to:

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
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from typing import Any, Callable, Collection, NamedTuple

import numpy as np

log = logging.getLogger(__name__)

NO_DEVICE_REASON = "cannot play: no output device"


class SoundDeviceOutput:
    """An output device of PortAudio (``device``: a sounddevice index or name; None = the default
    output) and at most one stream open on it.  ``channels``: the stream's channels (default:
    up to 2, as the device has).  ``latency`` and ``blocksize`` go to sounddevice's stream
    (``"high"`` latency is robust on a busy machine; blocksize 0 lets PortAudio choose)."""

    def __init__(self, device: Any = None, *, channels: int | None = None, latency: Any = "high", blocksize: int = 0):
        self.device = device
        self.latency = latency
        self.blocksize = int(blocksize)
        self.unavailable_reason: str | None = None
        self.name: str | None = None
        self.channels = 2
        self.default_rate = 44100
        self.rate = 0  #: the open stream's rate (0: none open)
        self.stops: tuple[type[BaseException], ...] = (CallbackAbort,)
        self.abort: type[BaseException] = CallbackAbort
        self._stream = None
        self._token: object | None = None
        self._rate_ok: dict[int, bool] = {}
        try:
            import sounddevice as sd
        except (OSError, ImportError) as exc:  # PortAudio missing
            self._sd = None
            self.unavailable_reason = f"cannot play: the PortAudio library is missing ({exc})"
            return
        self._sd = sd
        self.stops, self.abort = (sd.CallbackAbort, sd.CallbackStop), sd.CallbackAbort
        try:
            dev = sd.query_devices(device, kind="output")
        except (sd.PortAudioError, ValueError) as exc:
            log.info("no output device: %s", exc)
            dev = None
        if not dev or int(dev.get("max_output_channels", 0)) < 1:
            self.unavailable_reason = NO_DEVICE_REASON
            return
        self.name = dev.get("name", "?")
        self.channels = int(channels or min(2, int(dev["max_output_channels"])))
        self.default_rate = int(dev.get("default_samplerate") or 44100)

    def supports(self, rate: int) -> bool:
        """Whether the device takes a stream at ``rate`` Hz (asked once per rate)."""
        ok = self._rate_ok.get(rate)
        if ok is None:
            try:
                self._sd.check_output_settings(device=self.device, samplerate=rate, channels=self.channels, dtype="float32")
                ok = True
            except Exception:
                ok = False
            self._rate_ok[rate] = ok
        return ok

    def present(self) -> bool:
        """Whether the device is still there (asked after a stream failed)."""
        try:
            self._sd.query_devices(self.device, kind="output")
            return True
        except Exception:
            return False

    def open(self, rate: int, callback: Callable, on_lost: Callable[[], None]) -> None:
        """Open a float32 stream at ``rate`` Hz calling ``callback``, not started yet (raises
        what PortAudio raises when the device refuses)."""
        self.close(abort=True)
        token = self._token = object()

        def finished():  # PortAudio's thread, once the stream has stopped
            if self._token is token:
                on_lost()

        self._stream = self._sd.OutputStream(
            samplerate=rate,
            channels=self.channels,
            dtype="float32",
            device=self.device,
            latency=self.latency,
            blocksize=self.blocksize,
            callback=callback,
            finished_callback=finished,
        )
        self.rate = rate

    def start(self) -> None:
        self._stream.start()

    def close(self, *, abort: bool) -> None:
        """Close the stream (if one is open): at once with ``abort``, else after the device has
        played what it holds."""
        st = self._stream
        if st is None:
            return
        self._token = None
        with contextlib.suppress(Exception):
            if abort:
                st.abort()
            else:
                st.stop()
        with contextlib.suppress(Exception):
            st.close()
        self._stream = None
        self.rate = 0

    @property
    def is_open(self) -> bool:
        return self._stream is not None

    @property
    def active(self) -> bool:
        """Whether the open stream is running (its callback is being called)."""
        st = self._stream
        return st is not None and st.active

    @property
    def time(self) -> float:
        """The stream's clock, seconds (raises when no stream is open)."""
        return self._stream.time


class CallbackAbort(Exception):
    """Raised by a :class:`NullOutput` callback to stop its stream."""


class _TimeInfo(NamedTuple):
    outputBufferDacTime: float  # noqa: N815 (sounddevice's names)
    currentTime: float  # noqa: N815


class _Status(NamedTuple):
    output_underflow: bool = False


class NullOutput:
    """An output with no device (the interface of :class:`SoundDeviceOutput`): once started, a
    thread calls the callback with ``blocksize``-frame blocks and drops them, ``speed`` times
    faster than real time.  ``rates``: the rates it takes (None: any); ``default_rate`` is the
    one a player resamples other rates to."""

    name = "null"
    unavailable_reason = None
    stops = (CallbackAbort,)
    abort = CallbackAbort

    def __init__(
        self,
        *,
        channels: int = 2,
        blocksize: int = 512,
        speed: float = 1.0,
        rates: Collection[int] | None = None,
        default_rate: int = 44100,
    ):
        self.channels = int(channels)
        self.blocksize = int(blocksize)
        self.speed = float(speed)
        self.rates = None if rates is None else frozenset(rates)
        self.default_rate = int(default_rate)
        self.rate = 0
        self._stream: tuple | None = None  # (token, rate, callback, on_lost) of the open stream
        self._thread: threading.Thread | None = None
        self._t0 = time.monotonic()

    def supports(self, rate: int) -> bool:
        return self.rates is None or rate in self.rates

    def present(self) -> bool:
        return True

    def open(self, rate: int, callback: Callable, on_lost: Callable[[], None]) -> None:
        self.close(abort=True)
        self._stream = (object(), rate, callback, on_lost)
        self.rate = rate

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, args=self._stream, name="melograph-null-output", daemon=True)
        self._thread.start()

    def close(self, *, abort: bool) -> None:
        if self._stream is None:
            return
        self._stream = None
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(2.0)
        self._thread = None
        self.rate = 0

    @property
    def is_open(self) -> bool:
        return self._stream is not None

    @property
    def active(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def time(self) -> float:
        if self._stream is None:
            raise RuntimeError("no stream is open")
        return self._clock()

    def _clock(self) -> float:
        return (time.monotonic() - self._t0) * self.speed

    def _open_is(self, token: object) -> bool:
        st = self._stream
        return st is not None and st[0] is token

    def _run(self, token: object, rate: int, callback: Callable, on_lost: Callable[[], None]) -> None:
        frames = self.blocksize
        out = np.zeros((frames, self.channels), np.float32)
        period = frames / rate / self.speed
        due = time.monotonic()
        while self._open_is(token):
            now = self._clock()
            try:
                callback(out, frames, _TimeInfo(now, now), _Status())
            except self.stops:
                if self._open_is(token):
                    on_lost()
                return
            due += period
            time.sleep(max(0.0, due - time.monotonic()))

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
