"""Decoding: any supported audio file to float32 at a requested rate and channel count.

The entry points, all raising the file-boundary taxonomy of :mod:`core.errors`:

- :func:`probe` ``(path) -> AudioInfo``: duration, native rate, channels, codec, without decoding.
- :func:`read` ``(path, *, sr=None, mono=False, start=0.0, duration=None) -> (y, sr)``: a whole
  file or an excerpt in memory; ``y`` is float32 ``(n,)`` when ``mono`` else ``(n, channels)``.
- :func:`open_stream` / :func:`stream`: the same audio as float32 ``(frames, channels)`` blocks,
  for long files and for the player, never holding more than a few blocks in memory.
- :func:`consume_mono` ``(path, consume, *, sr, ...)``: what :func:`read` would return in mono,
  handed to ``consume`` block by block (for measuring hours-long files).
- :func:`mono_stream` ``(path, *, sr)``: a whole file as mono float32 blocks at ``sr``, the
  cheapest way there is (the analysis): an MP3 decodes through libmpg123 straight at the
  analysis rate, mono (its synthesis filterbank runs at half the rate); :func:`read` takes the
  same path for a whole MP3 wanted in mono at such a rate, so every caller gets the same audio.

The back ends (libsndfile, then PyAV/FFmpeg) live in :mod:`core.audio.backends`, the libmpg123
path in :mod:`core.audio.mpg123`.  Excerpts seek instead of decoding what lies before them.
Resampling is libsoxr at "HQ" quality (``soxr.resample`` in one go for :func:`read`, a
``soxr.ResampleStream`` for streams, so a stream's blocks join without seams).

A file that fails part-way: :func:`stream` yields what decoded, then raises
:class:`~core.errors.DecodeFailed`; :func:`read` raises it (the decoded part is on the
exception as ``partial``, a ``(y, sr)`` tuple, for callers that want it).
"""
from __future__ import annotations

import os
from typing import Callable, Iterator, TypeVar

import numpy as np

from core.audio import mpg123
from core.audio.backends import AudioInfo, Source, extension, identify, open_source
from core.errors import DecodeFailed, TooShort

T = TypeVar("T")

RESAMPLE_QUALITY = "HQ"  #: libsoxr quality recipe for every rate change
DEFAULT_BLOCK_FRAMES = 8192

#: A decode that ends this much before the length the header announced is a truncated file.
_SHORTFALL_TOLERANCE_S = 0.25
_SHORTFALL_TOLERANCE_FRAC = 0.01


def probe(path: str | os.PathLike) -> AudioInfo:
    """Duration, native rate, channels and codec of ``path``, from its headers.

    Raises :class:`UnreadableFile` (missing, folder, no permission) or :class:`UnsupportedFile`
    (not audio we can read).
    """
    src = open_source(path)
    try:
        return src.info
    finally:
        src.close()


def remix(y: np.ndarray, channels: int) -> np.ndarray:
    """``y`` ``(n, ch)`` to ``(n, channels)``: mean for mono, copies of mono, a 5.1-style fold-down
    (centre and surrounds at -3 dB, LFE dropped, normalised to avoid clipping) for more channels."""
    ch = y.shape[1]
    if ch == channels:
        return y
    if channels == 1:  # column sums: numpy's mean over a short axis is ~10x slower, BLAS threads stall
        acc = y[:, 0] * np.float32(1.0 / ch)
        for c in range(1, ch):
            acc += y[:, c] * np.float32(1.0 / ch)
        return acc[:, None]
    if ch == 1:
        return np.repeat(y, channels, axis=1)
    m = np.zeros((ch, channels), np.float32)
    if channels == 2:
        g = 0.70710677
        for i in range(ch):
            if i == 0:
                m[i, 0] = 1
            elif i == 1:
                m[i, 1] = 1
            elif i == 2:
                m[i, :] = g  # centre
            elif i == 3 and ch >= 6:
                continue  # LFE
            else:
                m[i, (i % 2)] = g if ch >= 6 else 1  # surrounds / extra channels alternate L, R
        m /= m.sum(axis=0, keepdims=True)
    else:
        for i in range(ch):
            m[i, i % channels] = 1
        m /= np.maximum(m.sum(axis=0, keepdims=True), 1)
    return (y @ m).astype(np.float32, copy=False)


def _check_shortfall(src: Source, start_frame: int, want: int | None, got: int) -> None:
    info = src.info
    if info.frames is None:
        return
    expected = info.frames - start_frame if want is None else min(want, info.frames - start_frame)
    missing = expected - got
    tol = max(_SHORTFALL_TOLERANCE_S * info.sr, _SHORTFALL_TOLERANCE_FRAC * expected)
    if missing > tol:
        raise DecodeFailed(
            info.path,
            f"file ends early: decoded {(start_frame + got) / info.sr:.1f} s of {info.duration:.1f} s "
            "(truncated or corrupt)",
        )


def read(
    path: str | os.PathLike,
    *,
    sr: int | None = None,
    mono: bool = False,
    start: float = 0.0,
    duration: float | None = None,
) -> tuple[np.ndarray, int]:
    """Decode ``path`` (or the excerpt ``[start, start + duration)`` in seconds) into memory.

    Returns ``(y, sr)``: float32 ``(n,)`` when ``mono`` else ``(n, channels)``, at ``sr`` Hz
    (the native rate when ``sr`` is None; libsoxr HQ resampling otherwise).  Mono is the mean
    of the channels, taken before resampling.  A whole MP3 wanted in mono at a lower rate
    decodes through libmpg123 straight at that rate (:func:`mono_stream`, as the analysis does).
    The excerpt seeks; it never decodes what lies before ``start``.  Raises :class:`UnreadableFile`, :class:`UnsupportedFile`,
    :class:`DecodeFailed` (with ``partial=(y, sr)`` of what decoded) or :class:`TooShort` (``start``
    beyond the end).
    """
    if mono and sr and not start and duration is None and _is_mp3(os.fspath(path)):
        y = _read_mono_mp3(os.fspath(path), int(sr))
        if y is not None:
            return y, int(sr)
    src = open_source(path)
    try:
        info = src.info
        start_frame = max(0, int(round(start * info.sr)))
        if info.frames is not None and start_frame >= info.frames and start_frame > 0:
            raise TooShort(info.path, f"excerpt starts at {start:.1f} s but the file lasts {info.duration:.1f} s")
        want = None if duration is None else max(0, int(round(duration * info.sr)))
        failure: DecodeFailed | None = None
        y = np.zeros((0, info.channels), np.float32)
        try:
            y = src.read_all(start_frame, want)
            _check_shortfall(src, start_frame, want, len(y))
        except DecodeFailed as exc:
            failure = exc
            if getattr(exc, "_partial_native", None) is not None:
                y = exc._partial_native
    finally:
        src.close()
    out_sr = int(sr) if sr else info.sr
    y = _finish(y, info.sr, out_sr, 1 if mono else None)
    if mono:
        y = y[:, 0]
    if failure is not None:
        failure.partial = (y, out_sr)
        raise failure
    return y, out_sr


def _finish(y: np.ndarray, in_sr: int, out_sr: int, channels: int | None) -> np.ndarray:
    if channels is not None:
        y = remix(y, channels)
    if out_sr != in_sr and len(y):
        import soxr

        src = y[:, 0] if y.shape[1] == 1 else y
        r = soxr.resample(src, in_sr, out_sr, quality=RESAMPLE_QUALITY)
        y = r.reshape(len(r), -1)
    return np.ascontiguousarray(y, dtype=np.float32)


def mono_stream(path: str | os.PathLike, *, sr: int, block_frames: int = 1 << 16, info: dict | None = None) -> Iterator[np.ndarray]:
    """Mono float32 ``(n,)`` blocks of a whole file at ``sr`` Hz, the cheapest way there is: MP3s
    decode through libmpg123 straight at (about) ``sr`` (:mod:`core.audio.mpg123`), everything else through
    :func:`open_stream`.  Block lengths vary.  Raises the :mod:`core.errors` taxonomy like
    :func:`stream` (an MP3 that fails part-way ends early instead, ``info["damaged"]`` set).
    ``info`` (optional dict) gets ``decoder``: ``"mpg123"`` or ``"core.audio.decode"``."""
    path = os.fspath(path)
    info = info if info is not None else {}
    if _is_mp3(path):
        gen = mpg123.mono_blocks(path, sr=int(sr), quality=RESAMPLE_QUALITY, info=info)
        try:
            first = next(gen)
        except (mpg123.NoFastPath, StopIteration):
            pass
        else:
            info["decoder"] = "mpg123"
            yield first
            yield from gen
            return
    info["decoder"] = "core.audio.decode"
    with open_stream(path, sr=sr, channels=1, block_frames=block_frames) as s:
        for b in s:
            yield b[:, 0]


def _is_mp3(path: str) -> bool:
    """Is ``path`` an MP3 by its name and its content (the libmpg123 path)?  Checks the file first
    (:func:`core.audio.backends.identify`: the file-boundary errors are raised here)."""
    return extension(path) == "mp3" and identify(path)[0] == "mp3"


def _short(n: int, info: dict, sr: int) -> bool:
    """Did the libmpg123 path decode less than it should: damage, nothing, or well short of the
    length the stream announces?  (The general path then decodes it again and names the problem.)"""
    want = info.get("expected", -1)
    return bool(info.get("damaged") or not n
                or (want > 0 and want - n > max(_SHORTFALL_TOLERANCE_S * sr, _SHORTFALL_TOLERANCE_FRAC * want)))


def consume_mono(
    path: str | os.PathLike,
    consume: Callable[[Iterator[np.ndarray]], T],
    *,
    sr: int,
    start: float = 0.0,
    duration: float | None = None,
) -> T:
    """``consume(blocks)`` over the audio ``read(path, sr=sr, mono=True, start=start,
    duration=duration)`` returns, handed over as mono float32 ``(n,)`` blocks, so an hours-long
    file never sits in memory; returns what ``consume`` returns.

    The same decoders and errors as :func:`read`: a whole MP3 goes through libmpg123; when that
    turns out damaged or short, ``consume`` is called a second time with the general path's
    blocks (which end in :class:`~core.errors.DecodeFailed` if the file is damaged), and its
    second result counts -- ``consume`` must start afresh on each call."""
    path = os.fspath(path)
    sr = int(sr)
    if not start and duration is None and _is_mp3(path):
        info: dict = {}
        n = 0

        def blocks() -> Iterator[np.ndarray]:
            nonlocal n
            for y in mpg123.mono_blocks(path, sr=sr, quality=RESAMPLE_QUALITY, info=info):
                n += len(y)
                yield y

        try:
            result = consume(blocks())
        except mpg123.NoFastPath:
            pass
        else:
            if not _short(n, info, sr):
                return result
    with open_stream(path, sr=sr, channels=1, start=start, duration=duration, block_frames=1 << 16) as s:
        return consume(b[:, 0] for b in s)


def _read_mono_mp3(path: str, sr: int) -> np.ndarray | None:
    """A whole MP3 through :func:`mono_stream`'s libmpg123 path, or None when the general path
    must do it (no libmpg123, a file it cannot take, damage or a length short of what the file
    announces: the general path then raises the right error)."""
    info: dict = {}
    try:
        parts = list(mpg123.mono_blocks(path, sr=sr, quality=RESAMPLE_QUALITY, info=info))
    except mpg123.NoFastPath:
        return None
    if _short(sum(len(p) for p in parts), info, sr):
        return None
    return np.concatenate(parts) if len(parts) > 1 else parts[0]


class AudioStream:
    """An open file decoding as float32 ``(frames, channels)`` blocks at ``sr`` Hz.

    Iterate it (once) for the blocks; ``info`` is the file's :class:`AudioInfo`, ``sr`` and
    ``channels`` what the blocks carry, ``start`` the position of the first block (s).
    Blocks are ``block_frames`` long except the last.  Use as a context manager or call
    :meth:`close`.  Raises :class:`DecodeFailed` after the last good block when the file fails
    part-way (or ends well before the length its header announced).
    """

    def __init__(self, path, *, sr=None, channels=None, block_frames=DEFAULT_BLOCK_FRAMES, start=0.0, duration=None):
        self._src = open_source(path)
        self.info = self._src.info
        self.sr = int(sr) if sr else self.info.sr
        self.channels = int(channels) if channels else self.info.channels
        self.block_frames = int(block_frames)
        self.start = max(0.0, float(start))
        self._start_frame = int(round(self.start * self.info.sr))
        self._want = None if duration is None else max(0, int(round(duration * self.info.sr)))
        if self.info.frames is not None and self._start_frame >= self.info.frames and self._start_frame > 0:
            self._src.close()
            raise TooShort(self.info.path, f"stream starts at {self.start:.1f} s but the file lasts {self.info.duration:.1f} s")
        self._closed = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._src.close()

    def __iter__(self) -> Iterator[np.ndarray]:
        try:
            yield from self._blocks()
        finally:
            self.close()

    def _blocks(self) -> Iterator[np.ndarray]:
        in_sr, out_sr, bf = self.info.sr, self.sr, self.block_frames
        rs = None
        if in_sr != out_sr:
            import soxr

            rs = soxr.ResampleStream(in_sr, out_sr, self.channels, dtype="float32", quality=RESAMPLE_QUALITY)
        pending: list[np.ndarray] = []
        n_pending = 0
        got = 0
        want = self._want
        read_size = max(1024, int(bf * in_sr / out_sr)) if rs is not None else bf
        src_iter = self._src.blocks(self._start_frame, read_size)
        done = False
        while not done:
            try:
                b = next(src_iter)
            except StopIteration:
                b = None
            if b is not None and want is not None and got + len(b) >= want:
                b = b[: want - got]
                done = True
            if b is None:
                done = True
                if rs is None:
                    _check_shortfall(self._src, self._start_frame, want, got)
            if b is not None:
                got += len(b)
                b = remix(b, self.channels)
            if rs is not None:
                x = b if b is not None else np.zeros((0, self.channels), np.float32)
                b = rs.resample_chunk(np.ascontiguousarray(x), last=done)
                b = b.reshape(len(b), self.channels)
            if b is not None and len(b):
                pending.append(b)
                n_pending += len(b)
            while n_pending >= bf:
                cat = np.concatenate(pending) if len(pending) > 1 else pending[0]
                yield np.ascontiguousarray(cat[:bf])
                rest = cat[bf:]
                pending = [rest] if len(rest) else []
                n_pending = len(rest)
            if done and rs is not None:
                _check_shortfall(self._src, self._start_frame, want, got)
        if n_pending:
            yield np.ascontiguousarray(np.concatenate(pending))


def open_stream(
    path: str | os.PathLike,
    *,
    sr: int | None = None,
    channels: int | None = None,
    block_frames: int = DEFAULT_BLOCK_FRAMES,
    start: float = 0.0,
    duration: float | None = None,
) -> AudioStream:
    """Open ``path`` for block-wise decoding (see :class:`AudioStream`).  Opening errors
    (unreadable, unsupported, start beyond the end) are raised here, decoding errors while
    iterating."""
    return AudioStream(path, sr=sr, channels=channels, block_frames=block_frames, start=start, duration=duration)


def stream(
    path: str | os.PathLike,
    *,
    sr: int | None = None,
    channels: int | None = None,
    block_frames: int = DEFAULT_BLOCK_FRAMES,
    start: float = 0.0,
    duration: float | None = None,
) -> Iterator[np.ndarray]:
    """Iterator of float32 ``(frames, channels)`` blocks of ``path`` (see :class:`AudioStream`)."""
    return iter(open_stream(path, sr=sr, channels=channels, block_frames=block_frames, start=start, duration=duration))
