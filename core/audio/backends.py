"""The two decoding back ends behind one small interface, and the checks before either opens a file.

A :class:`Source` is an open file: ``info`` (:class:`AudioInfo`, what its headers say) and
``blocks(start_frame, block_frames)``, native-rate float32 ``(frames, channels)`` blocks from a
start frame.  :func:`open_source` checks the path and names the content (:func:`identify`: only a
regular file, and content that is surely not audio is refused before a decoder sees it), picks
the back end and turns what goes wrong into the :mod:`core.errors` taxonomy:

- :class:`SoundfileSource`, libsndfile (python-soundfile), for what it decodes (wav, flac, ogg
  vorbis/opus, aiff, mp3 with libsndfile >= 1.1; it is the fastest mp3 path here, see
  bench/bench_audio.py);
- :class:`AvSource`, PyAV (FFmpeg), for the rest (m4a/aac, wma, ...) and as a fall-back when
  libsndfile refuses a file.

Both seek (``SoundFile.seek``, ``container.seek``) instead of decoding what lies before a start
frame.  A decode error part-way raises :class:`~core.errors.DecodeFailed` with what decoded
before it on the exception as ``_partial_native``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from core.audio.files import check_readable, open_readable
from core.audio.sniff import describe_non_audio, find_mpeg_stream, sniff
from core.errors import DecodeFailed, FileError, UnreadableFile, UnsupportedFile

#: Extensions libsndfile is tried first for (anything else goes straight to PyAV).
SOUNDFILE_EXTENSIONS = frozenset(
    {"wav", "wave", "flac", "ogg", "oga", "opus", "aif", "aiff", "aifc", "mp3", "w64", "rf64", "caf", "au", "snd"}
)


@dataclass(frozen=True)
class AudioInfo:
    """What a file's headers say (no decoding; :func:`core.audio.decode.probe`).

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


#: what :func:`describe_non_audio` says of content that is surely not audio (no decoder is tried)
NOT_AUDIO = frozenset({
    "a PNG image", "a JPEG image", "a GIF image", "a PDF document", "a ZIP archive", "a program",
    "a gzip archive", "only zero bytes", "a text file", "an HTML/XML text file",
})
_HEAD = 4096  # bytes read to name the content (describe_non_audio looks at as many)


def identify(path: str) -> tuple[str | None, int]:
    """``(format, offset)`` of the audio in ``path``, from its content: a :mod:`core.audio.sniff`
    name (``"mp3"`` also for MPEG frames after junk) and the byte where that audio starts (0 but
    for such junk); ``(None, 0)`` for content we cannot name, which FFmpeg may still know.

    Checks the path first (:func:`check_readable`: a regular, readable, non-empty file) and reads
    a few KiB, never more than :data:`core.audio.sniff.MPEG_SEARCH`.  Raises the
    :mod:`core.errors` taxonomy: ``UnsupportedFile`` at once for content that is surely not audio
    (a program, an image, text, only zero bytes ...), as the scan says it."""
    check_readable(path)
    try:
        with open_readable(path) as f:
            head = f.read(_HEAD)
            kind = sniff(head, f)
            if kind is not None:
                return kind, 0
            at = find_mpeg_stream(f)
    except OSError as exc:
        raise UnreadableFile(path, f"read error: {exc.strerror or exc}") from exc
    if at is not None:
        return "mp3", at
    what = describe_non_audio(head)
    if what in NOT_AUDIO:
        raise UnsupportedFile(path, f"not audio: {what}")
    return None, 0


def extension(path: str) -> str:
    """``path``'s extension, lower case, without the dot."""
    return os.path.splitext(path)[1].lstrip(".").lower()


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or exc.__class__.__name__
    return text if len(text) <= 160 else text[:157] + "..."


# --------------------------------------------------------------------------------------------
# back ends


class Source:
    """An open file: ``info``, and native-rate float32 ``(frames, channels)`` blocks from a start frame."""

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


class SoundfileSource(Source):
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


class AvSource(Source):
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
        a = self._samples(frame)
        channels = self.info.channels
        if a.shape[1] != channels:  # the stream changes its channel count part-way: keep the first's
            a = np.repeat(a.mean(axis=1, keepdims=True, dtype=np.float32), channels, axis=1)
        return a

    def _samples(self, frame) -> np.ndarray:
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


def open_source(path: str | os.PathLike) -> Source:
    """``path`` opened by the back end that takes it.  Raises :class:`UnreadableFile`,
    :class:`UnsupportedFile` (not audio) or :class:`DecodeFailed` (audio that cannot be opened)."""
    path = os.fspath(path)
    kind, offset = identify(path)
    ext = extension(path)
    # libsndfile's MP3 reader prints "Note: Illegal Audio-MPEG-Header ..." lines on stderr for a
    # file that only says .mp3 or has junk before its frames; such a file goes to FFmpeg
    if ext in SOUNDFILE_EXTENSIONS and not (ext == "mp3" and (kind is None or offset)):
        try:
            return SoundfileSource(path)
        except Exception:  # libsndfile cannot: give FFmpeg a chance
            pass
    try:
        src = AvSource(path)
    except FileError:
        raise
    except PermissionError as exc:
        raise UnreadableFile(path, "permission denied") from exc
    except FileNotFoundError as exc:
        raise UnreadableFile(path, "file vanished while opening") from exc
    except Exception as exc:
        if kind is not None:  # it says it is audio: a damaged file, not a foreign one
            raise DecodeFailed(path, f"looks like {kind} audio but cannot be decoded (truncated or corrupt)") from exc
        raise UnsupportedFile(path, "not an audio file, or a format we cannot read") from exc
    if kind is None and src.info.codec in ("mp1", "mp2", "mp3"):
        # FFmpeg took a frame sync by chance for MPEG audio; there is no stream of frames
        src.close()
        raise UnsupportedFile(path, "not audio: no MPEG audio frames in a row, only stray frame syncs")
    return src
