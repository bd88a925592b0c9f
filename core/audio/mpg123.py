"""MP3 straight at the analysis rate: libmpg123 through ctypes.

libmpg123 can mix the channels down inside the decoder (before its synthesis filterbank) and run
the synthesis at 1/2 or 1/4 of the stream's rate, keeping only the subbands below the new Nyquist
frequency (MPG123_DOWN_SAMPLE): a 44.1 kHz MP3 decodes straight to 22050 Hz mono -- no stereo
synthesis of the upper half of the spectrum that the front end throws away, no float
conversion or down-mix in numpy, no resampler.  A remaining rate change (48 kHz -> 24 kHz ->
22050 Hz) goes through libsoxr, at the quality the caller names (:mod:`core.audio.decode` uses
the one it uses everywhere).

Measured on the 89 GTZAN clips (22050 Hz originals) encoded as 44.1 kHz stereo MP3s, as
bench/bench_analyze.py's library is: the log-mel of this path is *closer* to the original's than
44.1 kHz decoding + libsoxr HQ (mean absolute error 0.024 vs 0.026 dB, top four mel bands 0.06
vs 0.09 dB; the shipped model's probabilities move by at most 0.06 vs 0.28 from the original's):
soxr's anti-aliasing filter dulls the top mel bands (10-11 kHz), the subband cut does not.
It also costs about 16 % less CPU (a 4-minute 192 kbit/s track here: 189 vs 225 ms, median; the
2:1 synthesis runs libmpg123's generic C code, not its AVX code, which is why not 50 %).

Setting ``$MELOGRAPH_NO_MPG123`` turns this path off (everything then decodes through
:mod:`core.audio.backends`).
"""
from __future__ import annotations

import ctypes
import os
from typing import Iterator

import numpy as np

MPG123_MONO_MIX, MPG123_FORCE_FLOAT, MPG123_QUIET = 0x4, 0x400, 0x20
_MPG123_ADD_FLAGS, _MPG123_DOWN_SAMPLE = 2, 4
_MPG123_OK, _MPG123_NEW_FORMAT, _MPG123_DONE = 0, -11, -12
_MPG123_ENC_FLOAT_32 = 0x200

_lib = None  # the loaded library; False when it cannot be loaded


class NoFastPath(Exception):
    """This path cannot take the file (the general path decodes it, or names the problem)."""


def _load():
    """libmpg123 with its functions' signatures declared, or False when it is not installed."""
    import ctypes.util

    try:
        lib = ctypes.CDLL(ctypes.util.find_library("mpg123") or "libmpg123.so.0")
        V, I, L = ctypes.c_void_p, ctypes.c_int, ctypes.c_long
        lib.mpg123_init.restype = I
        lib.mpg123_new.restype = V
        lib.mpg123_new.argtypes = [ctypes.c_char_p, ctypes.POINTER(I)]
        lib.mpg123_param.restype = I
        lib.mpg123_param.argtypes = [V, I, L, ctypes.c_double]
        lib.mpg123_open.restype = I
        lib.mpg123_open.argtypes = [V, ctypes.c_char_p]
        lib.mpg123_getformat.restype = I
        lib.mpg123_getformat.argtypes = [V, ctypes.POINTER(L), ctypes.POINTER(I), ctypes.POINTER(I)]
        lib.mpg123_read.restype = I
        lib.mpg123_read.argtypes = [V, V, ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]
        lib.mpg123_length.restype = L  # off_t: 64-bit on the platforms this runs on
        lib.mpg123_length.argtypes = [V]
        lib.mpg123_close.argtypes = [V]
        lib.mpg123_delete.argtypes = [V]
        if lib.mpg123_init() != 0:
            return False
        return lib
    except (OSError, AttributeError):
        return False


def library():
    """libmpg123 through ctypes (loaded once), or None: not installed, or ``$MELOGRAPH_NO_MPG123`` set."""
    global _lib
    if os.environ.get("MELOGRAPH_NO_MPG123"):
        return None
    if _lib is None:
        _lib = _load()
    return _lib or None


def _open(lib, path: str, down: int):
    err = ctypes.c_int()
    h = lib.mpg123_new(None, ctypes.byref(err))
    if not h:
        raise NoFastPath
    lib.mpg123_param(h, _MPG123_ADD_FLAGS, MPG123_MONO_MIX | MPG123_FORCE_FLOAT | MPG123_QUIET, 0.0)
    if down:
        lib.mpg123_param(h, _MPG123_DOWN_SAMPLE, down, 0.0)
    if lib.mpg123_open(h, os.fsencode(path)) != _MPG123_OK:
        lib.mpg123_delete(h)
        raise NoFastPath
    return h


def mono_blocks(path: str, *, sr: int, quality: str, info: dict | None = None) -> Iterator[np.ndarray]:
    """Mono float32 blocks of an MP3 at ``sr`` Hz, the synthesis run at the stream's rate / 2**k
    (the largest k <= 2 that stays at or above ``sr``), the rest of the way by libsoxr at
    ``quality``.  Raises :class:`NoFastPath` before yielding anything when this path cannot take
    the file.  A file that fails part-way ends where it failed (``info["damaged"] = True``).
    ``info`` also gets ``expected``, the length at ``sr`` that the stream announces (-1 when
    unknown)."""
    lib = library()
    if not lib:
        raise NoFastPath
    rate, channels, enc = ctypes.c_long(), ctypes.c_int(), ctypes.c_int()
    h = _open(lib, path, 0)
    try:
        if lib.mpg123_getformat(h, ctypes.byref(rate), ctypes.byref(channels), ctypes.byref(enc)) != _MPG123_OK:
            raise NoFastPath
        native = int(rate.value)
    finally:
        lib.mpg123_close(h)
        lib.mpg123_delete(h)
    down = 0
    while down < 2 and native >> (down + 1) >= sr and native % (1 << (down + 1)) == 0:
        down += 1
    h = _open(lib, path, down)
    try:
        buf = np.empty(1 << 16, np.float32)
        got = ctypes.c_size_t()
        rs = None  # None: format not seen yet; False: no resampling needed
        out_rate = 0
        emitted = False
        info = info if info is not None else {}
        info.update(damaged=False, expected=-1)
        while True:
            rc = lib.mpg123_read(h, buf.ctypes.data, buf.nbytes, ctypes.byref(got))
            if rc == _MPG123_NEW_FORMAT:
                lib.mpg123_getformat(h, ctypes.byref(rate), ctypes.byref(channels), ctypes.byref(enc))
                if channels.value != 1 or enc.value != _MPG123_ENC_FLOAT_32 or (rs is not None and out_rate != rate.value):
                    raise NoFastPath  # not mono float, or the rate changes mid-file: the general path
                if rs is None:
                    out_rate = int(rate.value)
                    rs = False
                    if out_rate != sr:
                        import soxr

                        rs = soxr.ResampleStream(out_rate, sr, 1, dtype="float32", quality=quality)
                    n_out = int(lib.mpg123_length(h))
                    info["expected"] = -1 if n_out <= 0 else int(round(n_out * sr / out_rate))
                continue
            n = got.value // 4
            last = rc != _MPG123_OK
            if rc not in (_MPG123_OK, _MPG123_DONE):
                if not emitted:
                    raise NoFastPath  # let the general path name the problem
                info["damaged"] = True
                last = True  # a damaged tail: keep what decoded (a player would play that much)
            if rs is None and n:
                raise NoFastPath
            y = buf[:n]
            y = rs.resample_chunk(y, last=last) if rs else y.copy()
            if len(y):
                emitted = True
                yield y
            if last:
                return
    finally:
        lib.mpg123_close(h)
        lib.mpg123_delete(h)
