"""Decoding: any supported audio file to float32 at a requested rate and channel count.

Three entry points, all raising the file-boundary taxonomy of :mod:`core.errors`:

- :func:`probe` ``(path) -> AudioInfo``: duration, native rate, channels, codec, without decoding.
- :func:`read` ``(path, *, sr=None, mono=False, start=0.0, duration=None) -> (y, sr)``: a whole
  file or an excerpt in memory; ``y`` is float32 ``(n,)`` when ``mono`` else ``(n, channels)``.
- :func:`open_stream` / :func:`stream`: the same audio as float32 ``(frames, channels)`` blocks,
  for long files and for the player, never holding more than a few blocks in memory.
- :func:`mono_stream` ``(path, *, sr)``: a whole file as mono float32 blocks at ``sr``, the
  cheapest way there is (the analysis): an MP3 decodes through libmpg123 straight at the
  analysis rate, mono (its synthesis filterbank runs at half the rate); :func:`read` takes the
  same path for a whole MP3 wanted in mono at such a rate, so every caller gets the same audio.

Back ends: libsndfile (python-soundfile) for what it decodes (wav, flac, ogg vorbis/opus, aiff,
mp3 with libsndfile >= 1.1; it is the fastest mp3 path here, see bench/bench_audio.py), PyAV
(FFmpeg) for the rest (m4a/aac, wma, ...) and as a fall-back when libsndfile refuses a file.
Excerpts seek (``SoundFile.seek``, ``container.seek``) instead of decoding what lies before them.
Resampling is libsoxr at "HQ" quality (``soxr.resample`` in one go for :func:`read`, a
``soxr.ResampleStream`` for streams, so a stream's blocks join without seams).

A file that fails part-way: :func:`stream` yields what decoded, then raises
:class:`~core.errors.DecodeFailed`; :func:`read` raises it (the decoded part is on the
exception as ``partial``, a ``(y, sr)`` tuple, for callers that want it).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from core.errors import DecodeFailed, FileError, TooShort, UnreadableFile, UnsupportedFile

#: Extensions libsndfile is tried first for (anything else goes straight to PyAV).
SOUNDFILE_EXTENSIONS = frozenset(
    {"wav", "wave", "flac", "ogg", "oga", "opus", "aif", "aiff", "aifc", "mp3", "w64", "rf64", "caf", "au", "snd"}
)
#: Extensions the app offers to play/scan (the union of both back ends' usual formats).
AUDIO_EXTENSIONS = frozenset(SOUNDFILE_EXTENSIONS | {"m4a", "mp4", "aac", "wma", "asf", "webm", "mka", "ape", "wv", "alac"})

RESAMPLE_QUALITY = "HQ"  #: libsoxr quality recipe for every rate change
DEFAULT_BLOCK_FRAMES = 8192

#: A decode that ends this much before the length the header announced is a truncated file.
_SHORTFALL_TOLERANCE_S = 0.25
_SHORTFALL_TOLERANCE_FRAC = 0.01


@dataclass(frozen=True)
class AudioInfo:
    """What :func:`probe` learns from a file's headers (no decoding).

    ``duration`` in seconds (0.0 when unknown), ``sr`` the native rate in Hz, ``frames`` the
    native sample frames (``None`` when the container does not say), ``codec`` a short codec
    name (``"mp3"``, ``"flac"``, ``"vorbis"``, ``"opus"``, ``"aac"``, ``"wmav2"``, ``"pcm_16"``...),
    ``container`` the format name, ``backend`` ``"soundfile"`` or ``"av"``.
    """

    path: str
    duration: float
    sr: int
    channels: int
    frames: int | None
    codec: str
    container: str
    backend: str

    def as_dict(self) -> dict:
        return dict(self.__dict__)


# --------------------------------------------------------------------------------------------
# errors at the boundary


def _check_readable(path: str) -> None:
    try:
        st = os.stat(path)
    except FileNotFoundError as exc:
        raise UnreadableFile(path, "file not found") from exc
    except PermissionError as exc:
        raise UnreadableFile(path, "permission denied") from exc
    except OSError as exc:
        raise UnreadableFile(path, f"cannot stat the file ({exc.strerror or exc})") from exc
    import stat

    if stat.S_ISDIR(st.st_mode):
        raise UnreadableFile(path, "is a folder, not a file")
    if not os.access(path, os.R_OK):
        raise UnreadableFile(path, "permission denied")
    if st.st_size == 0:
        raise UnsupportedFile(path, "empty file (0 bytes)")


def _sniff(path: str) -> str | None:
    """The audio container a file's first bytes announce (``None`` when they announce none)."""
    try:
        with open(path, "rb") as f:
            head = f.read(64)
    except OSError:
        return None
    if head[:4] == b"OggS":
        return "ogg"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "aiff"
    if head[4:8] == b"ftyp":
        return "mp4"
    if head[:16] == bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c"):
        return "asf"
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0):
        return "mpeg"
    if head[:4] == b"\x1aE\xdf\xa3":
        return "matroska"
    return None


def _ext(path: str) -> str:
    return os.path.splitext(path)[1].lstrip(".").lower()


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or exc.__class__.__name__
    return text if len(text) <= 160 else text[:157] + "..."


# --------------------------------------------------------------------------------------------
# back ends: a Source yields native-rate float32 (frames, channels) blocks from a start frame


class _Source:
    info: AudioInfo

    def blocks(self, start_frame: int, block_frames: int) -> Iterator[np.ndarray]:  # pragma: no cover
        raise NotImplementedError

    def read_all(self, start_frame: int, n_frames: int | None) -> np.ndarray:
        parts = []
        got = 0
        try:
            for b in self.blocks(start_frame, 1 << 16):
                if n_frames is not None and got + len(b) >= n_frames:
                    parts.append(b[: n_frames - got])
                    got = n_frames
                    break
                parts.append(b)
                got += len(b)
        except DecodeFailed as exc:
            exc._partial_native = np.concatenate(parts) if parts else None
            raise
        if not parts:
            return np.zeros((0, self.info.channels), np.float32)
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    def close(self) -> None:  # pragma: no cover
        pass


class _SfSource(_Source):
    def __init__(self, path: str):
        import soundfile as sf

        self.path = path
        self.f = sf.SoundFile(path)  # raises on anything libsndfile cannot open
        frames = int(self.f.frames) if self.f.frames and self.f.frames > 0 else None
        sr = int(self.f.samplerate)
        codec = {
            "MPEG_LAYER_III": "mp3", "MPEG_LAYER_II": "mp2", "MPEG_LAYER_I": "mp1", "VORBIS": "vorbis",
            "OPUS": "opus", "PCM_16": "pcm_16", "PCM_24": "pcm_24", "PCM_32": "pcm_32", "FLOAT": "pcm_f32",
        }.get(self.f.subtype, self.f.subtype.lower())
        if self.f.format == "FLAC":
            codec = "flac"
        self._readable_frames = frames
        if self.f.format in ("WAV", "WAVEX", "AIFF", "RF64", "W64") and frames:
            frames = self._declared_frames(frames)
        self.info = AudioInfo(
            path=path, duration=(frames or 0) / sr if sr else 0.0, sr=sr, channels=int(self.f.channels),
            frames=frames, codec=codec, container=self.f.format.lower(), backend="soundfile",
        )

    def _declared_frames(self, frames: int) -> int:
        """A truncated WAV/AIFF: libsndfile reads what is there; its header says how much there
        should have been ("data : 352800 (should be 141073)").  Trust a plausible header."""
        import re

        try:
            extra = self.f.extra_info
        except Exception:
            return frames
        m = re.search(r"(?:data|SSND)\s*:\s*(\d+)\s*\(should be (\d+)\)", extra)
        if not m:
            return frames
        declared, actual = int(m.group(1)), int(m.group(2))
        if declared in (0, 0xFFFFFFFF, 0x7FFFFFFF, 0xFFFFFFFF - 8) or declared <= actual:
            return frames
        bytes_per_frame = max(1, actual // max(frames, 1)) if frames else 1
        return max(frames, declared // bytes_per_frame)

    def blocks(self, start_frame, block_frames):
        f = self.f
        try:
            if start_frame:
                f.seek(min(start_frame, self._readable_frames or start_frame))
            elif f.tell() != 0:
                f.seek(0)
        except Exception as exc:
            raise DecodeFailed(self.path, f"cannot seek to frame {start_frame}: {_one_line(exc)}") from exc
        while True:
            try:
                b = f.read(block_frames, dtype="float32", always_2d=True)
            except Exception as exc:
                raise DecodeFailed(self.path, f"decoding failed part-way: {_one_line(exc)}") from exc
            if len(b) == 0:
                return
            yield b
            if len(b) < block_frames:
                return

    def read_all(self, start_frame, n_frames):
        f = self.f
        total = self._readable_frames
        if total is None:
            return super().read_all(start_frame, n_frames)
        start_frame = min(start_frame, total)
        n = total - start_frame if n_frames is None else min(int(n_frames), total - start_frame)
        out = np.empty((n, self.info.channels), np.float32)
        got = 0
        try:
            if start_frame:
                f.seek(start_frame)
            while got < n:
                step = min(1 << 17, n - got)
                k = f.read(step, dtype="float32", always_2d=True, out=out[got : got + step])
                if len(k) == 0:
                    break
                got += len(k)
        except Exception as exc:
            err = DecodeFailed(self.path, f"decoding failed part-way: {_one_line(exc)}")
            err._partial_native = out[:got]
            raise err from exc
        return out[:got]

    def close(self):
        self.f.close()


class _AvSource(_Source):
    def __init__(self, path: str):
        import av

        self.path = path
        self.av = av
        self.c = av.open(path, metadata_errors="ignore")
        try:
            if not self.c.streams.audio:
                raise UnsupportedFile(path, f"no audio stream in this {self.c.format.name} file")
            self.s = s = self.c.streams.audio[0]
            cc = s.codec_context
            sr = int(cc.sample_rate or s.rate or 0)
            channels = int(cc.channels or 0)
            if sr <= 0 or channels <= 0:
                raise UnsupportedFile(path, "audio stream without a sample rate or channel count")
            if s.duration is not None and s.time_base is not None:
                duration = float(s.duration * s.time_base)
            elif self.c.duration is not None:
                duration = self.c.duration / 1_000_000
            else:
                duration = 0.0
            frames = int(round(duration * sr)) if duration > 0 else None
            self.info = AudioInfo(
                path=path, duration=duration, sr=sr, channels=channels, frames=frames,
                codec=cc.name, container=self.c.format.name.split(",")[0], backend="av",
            )
            # MP4 states the exact length (edit list); FFmpeg still hands out the encoder's
            # padding at the end, so cut there.  Elsewhere the header's length is only a hint.
            self._trim_to = frames if self.info.container == "mov" else None
        except BaseException:
            self.c.close()
            raise

    def _to_float(self, frame) -> np.ndarray:
        a = frame.to_ndarray()
        fmt = frame.format
        if fmt.is_planar:
            a = a.T  # (ch, n) -> (n, ch)
        else:
            a = a.reshape(-1, len(frame.layout.channels))
        kind = a.dtype
        if kind == np.float32:
            return np.ascontiguousarray(a)
        if kind == np.float64:
            return a.astype(np.float32)
        if kind == np.int16:
            return a.astype(np.float32) * np.float32(1 / 32768)
        if kind == np.int32:
            return a.astype(np.float32) * np.float32(1 / 2147483648)
        if kind == np.uint8:
            return (a.astype(np.float32) - 128) * np.float32(1 / 128)
        if kind == np.int64:
            return (a.astype(np.float64) / 9223372036854775808).astype(np.float32)
        raise DecodeFailed(self.path, f"unexpected sample format {fmt.name}")

    def blocks(self, start_frame, block_frames):
        av = self.av
        s = self.s
        sr = self.info.sr
        skip = int(start_frame)
        emitted = 0
        pos = 0  # frames of the stream before the next decoded frame (when pts is unknown)
        if start_frame > 0:
            try:
                tb = s.time_base
                self.c.seek(int(start_frame / sr / tb), stream=s, backward=True, any_frame=False)
                pos = None  # learn it from the first frame's pts
            except Exception:
                self.c.close()
                self.c = av.open(self.path, metadata_errors="ignore")
                self.s = s = self.c.streams.audio[0]
                pos = 0
        else:
            pos = 0
        try:
            for frame in self.c.decode(s):
                if pos is None:
                    if frame.pts is None or frame.time_base is None:
                        pos = 0  # cannot place it: assume the seek failed to move (rare)
                    else:
                        pos = int(round(float(frame.pts * frame.time_base) * sr))
                    skip = max(0, int(start_frame) - pos)
                a = self._to_float(frame)
                pos += len(a)
                if skip:
                    if skip >= len(a):
                        skip -= len(a)
                        continue
                    a = a[skip:]
                    skip = 0
                if self._trim_to is not None:
                    room = self._trim_to - int(start_frame) - emitted
                    if room <= 0:
                        return
                    a = a[:room]
                if len(a):
                    emitted += len(a)
                    yield a
        except av.error.FFmpegError as exc:
            raise DecodeFailed(self.path, f"decoding failed part-way: {_one_line(exc)}") from exc

    def close(self):
        self.c.close()


def _open_source(path: str | os.PathLike) -> _Source:
    path = os.fspath(path)
    _check_readable(path)
    first_error: BaseException | None = None
    # libsndfile's MP3 reader prints "Note: Illegal Audio-MPEG-Header ..." lines on stderr for a
    # file that only says .mp3; such a file goes to FFmpeg, which fails quietly
    if _ext(path) in SOUNDFILE_EXTENSIONS and not (_ext(path) == "mp3" and _sniff(path) is None):
        try:
            return _SfSource(path)
        except Exception as exc:  # libsndfile cannot: give FFmpeg a chance
            first_error = exc
    try:
        return _AvSource(path)
    except FileError:
        raise
    except PermissionError as exc:
        raise UnreadableFile(path, "permission denied") from exc
    except FileNotFoundError as exc:
        raise UnreadableFile(path, "file vanished while opening") from exc
    except Exception as exc:
        kind = _sniff(path)
        if kind is not None:  # it says it is audio: a damaged file, not a foreign one
            raise DecodeFailed(path, f"looks like {kind} audio but cannot be decoded (truncated or corrupt)") from exc
        raise UnsupportedFile(path, "not an audio file, or a format we cannot read") from exc


# --------------------------------------------------------------------------------------------
# public API


def probe(path: str | os.PathLike) -> AudioInfo:
    """Duration, native rate, channels and codec of ``path``, from its headers.

    Raises :class:`UnreadableFile` (missing, folder, no permission) or :class:`UnsupportedFile`
    (not audio we can read).
    """
    src = _open_source(path)
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


def _check_shortfall(src: _Source, start_frame: int, want: int | None, got: int) -> None:
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
    decodes through libmpg123 straight at that rate (:func:`mono_stream`, as the analysis does).  The excerpt seeks; it never decodes what lies
    before ``start``.  Raises :class:`UnreadableFile`, :class:`UnsupportedFile`,
    :class:`DecodeFailed` (with ``partial=(y, sr)`` of what decoded) or :class:`TooShort` (``start``
    beyond the end).
    """
    if mono and sr and not start and duration is None and _ext(os.fspath(path)) == "mp3":
        _check_readable(os.fspath(path))
        y = _read_mono_mp3(os.fspath(path), int(sr))
        if y is not None:
            return y, int(sr)
    src = _open_source(path)
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


# --------------------------------------------------------------------------------------------
# MP3 straight at the analysis rate: libmpg123 through ctypes
#
# libmpg123 can mix the channels down inside the decoder (before its synthesis filterbank) and run
# the synthesis at 1/2 or 1/4 of the stream's rate, keeping only the subbands below the new Nyquist
# frequency (MPG123_DOWN_SAMPLE): a 44.1 kHz MP3 decodes straight to 22050 Hz mono -- no stereo
# synthesis of the upper half of the spectrum that the front end throws away, no float
# conversion or down-mix in numpy, no resampler.  A remaining rate change (48 kHz -> 24 kHz ->
# 22050 Hz) goes through the same libsoxr HQ resampler as everything else.
#
# Measured on the 89 GTZAN clips (22050 Hz originals) encoded as 44.1 kHz stereo MP3s, as
# bench/bench_analyze.py's library is: the log-mel of this path is *closer* to the original's than
# 44.1 kHz decoding + libsoxr HQ (mean absolute error 0.024 vs 0.026 dB, top four mel bands 0.06
# vs 0.09 dB; the shipped model's probabilities move by at most 0.06 vs 0.28 from the original's):
# soxr's anti-aliasing filter dulls the top mel bands (10-11 kHz), the subband cut does not.
# It also costs about 16 % less CPU (a 4-minute 192 kbit/s track here: 189 vs 225 ms, median; the
# 2:1 synthesis runs libmpg123's generic C code, not its AVX code, which is why not 50 %).

MPG123_MONO_MIX, MPG123_FORCE_FLOAT, MPG123_QUIET = 0x4, 0x400, 0x20
_MPG123_ADD_FLAGS, _MPG123_DOWN_SAMPLE = 2, 4
_MPG123_OK, _MPG123_NEW_FORMAT, _MPG123_DONE = 0, -11, -12
_MPG123_ENC_FLOAT_32 = 0x200

_MPG123 = None  # the loaded library; False when unavailable


class _NoFastPath(Exception):
    """The libmpg123 path cannot take this file (the general path decodes it, or names the problem)."""


def _mpg123():
    """libmpg123 through ctypes, or False (not installed, or ``$MELOGRAPH_NO_MPG123`` set)."""
    global _MPG123
    if _MPG123 is None:
        _MPG123 = False
        if os.environ.get("MELOGRAPH_NO_MPG123"):
            return False
        try:
            import ctypes
            import ctypes.util

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
            _MPG123 = lib
        except (OSError, AttributeError):
            _MPG123 = False
    return _MPG123


def _mpg123_open(lib, path: str, down: int):
    import ctypes

    err = ctypes.c_int()
    h = lib.mpg123_new(None, ctypes.byref(err))
    if not h:
        raise _NoFastPath
    lib.mpg123_param(h, _MPG123_ADD_FLAGS, MPG123_MONO_MIX | MPG123_FORCE_FLOAT | MPG123_QUIET, 0.0)
    if down:
        lib.mpg123_param(h, _MPG123_DOWN_SAMPLE, down, 0.0)
    if lib.mpg123_open(h, os.fsencode(path)) != _MPG123_OK:
        lib.mpg123_delete(h)
        raise _NoFastPath
    return h


def _mpg123_mono(path: str, sr: int, info: dict | None = None) -> Iterator[np.ndarray]:
    """Mono float32 blocks of an MP3 at ``sr`` Hz, the synthesis run at the stream's rate / 2**k
    (the largest k <= 2 that stays at or above ``sr``).  Raises :class:`_NoFastPath` before
    yielding anything when this path cannot take the file.  A file that fails part-way ends
    where it failed (``info["damaged"] = True``).  ``info`` also gets ``expected``, the length at
    ``sr`` that the stream announces (-1 when unknown)."""
    import ctypes

    lib = _mpg123()
    if not lib:
        raise _NoFastPath
    rate, channels, enc = ctypes.c_long(), ctypes.c_int(), ctypes.c_int()
    h = _mpg123_open(lib, path, 0)
    try:
        if lib.mpg123_getformat(h, ctypes.byref(rate), ctypes.byref(channels), ctypes.byref(enc)) != _MPG123_OK:
            raise _NoFastPath
        native = int(rate.value)
    finally:
        lib.mpg123_close(h)
        lib.mpg123_delete(h)
    down = 0
    while down < 2 and native >> (down + 1) >= sr and native % (1 << (down + 1)) == 0:
        down += 1
    h = _mpg123_open(lib, path, down)
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
                    raise _NoFastPath  # not mono float, or the rate changes mid-file: the general path
                if rs is None:
                    out_rate = int(rate.value)
                    rs = False
                    if out_rate != sr:
                        import soxr

                        rs = soxr.ResampleStream(out_rate, sr, 1, dtype="float32", quality=RESAMPLE_QUALITY)
                    n_out = int(lib.mpg123_length(h))
                    info["expected"] = -1 if n_out <= 0 else int(round(n_out * sr / out_rate))
                continue
            n = got.value // 4
            last = rc != _MPG123_OK
            if rc not in (_MPG123_OK, _MPG123_DONE):
                if not emitted:
                    raise _NoFastPath  # let the general path name the problem
                info["damaged"] = True
                last = True  # a damaged tail: keep what decoded (a player would play that much)
            if rs is None and n:
                raise _NoFastPath
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


def mono_stream(path: str | os.PathLike, *, sr: int, block_frames: int = 1 << 16, info: dict | None = None) -> Iterator[np.ndarray]:
    """Mono float32 ``(n,)`` blocks of a whole file at ``sr`` Hz, the cheapest way there is: MP3s
    decode through libmpg123 straight at (about) ``sr`` (see above), everything else through
    :func:`open_stream`.  Block lengths vary.  Raises the :mod:`core.errors` taxonomy like
    :func:`stream` (an MP3 that fails part-way ends early instead, ``info["damaged"]`` set).
    ``info`` (optional dict) gets ``decoder``: ``"mpg123"`` or ``"core.audio.decode"``."""
    path = os.fspath(path)
    info = info if info is not None else {}
    if _ext(path) == "mp3":
        gen = _mpg123_mono(path, int(sr), info)
        try:
            first = next(gen)
        except (_NoFastPath, StopIteration):
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


def _read_mono_mp3(path: str, sr: int) -> np.ndarray | None:
    """A whole MP3 through :func:`mono_stream`'s libmpg123 path, or None when the general path
    must do it (no libmpg123, a file it cannot take, damage or a length short of what the file
    announces: the general path then raises the right error)."""
    info: dict = {}
    try:
        parts = list(_mpg123_mono(path, sr, info))
    except _NoFastPath:
        return None
    n = sum(len(p) for p in parts)
    want = info.get("expected", -1)
    if info.get("damaged") or not n or (want > 0 and want - n > max(_SHORTFALL_TOLERANCE_S * sr, _SHORTFALL_TOLERANCE_FRAC * want)):
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
        self._src = _open_source(path)
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
