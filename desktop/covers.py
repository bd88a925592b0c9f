"""Cover thumbnails: found by :mod:`core.audio.covers`, scaled once, kept as files in the data
directory and as pixmaps in memory.

    covers = CoverCache(data_dir)                 # the App holds one: app.covers
    covers.ready.connect(on_cover)                # (audio_path, size) when a pixmap is there
    pixmap = covers.pixmap(path, 64)              # GUI thread: the pixmap, or None for now

``thumbnail_path(audio_path, size)`` (blocking, any thread) finds the track's picture, decodes
it with ``QImage`` (safe off the GUI thread), scales it to fit ``size`` x ``size`` and writes it
to ``<data dir>/covers/<hash of the picture's bytes>-<size>.jpg`` (``.png`` when it has
transparency) -- so the tracks of one album share one file, and a later run finds it there
instead of decoding again.  The catalog holds no pictures.  A run touches each file it uses
once; ``prune()`` (in the background at start) deletes those no run has used for
``UNUSED_DAYS`` days, and pieces left by a crash mid-write.

``pixmap(audio_path, size)`` never touches the disk on the GUI thread: it answers from memory,
and when the track is not known yet it starts the work on a background thread (``TaskRunner``)
and returns None; ``ready(audio_path, size)`` follows when it is done, whether a cover was found
or not (``pixmap()`` then gives it, or None for a track without one; ``has_answer`` tells the
two "None" apart).
"""
from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPainterPath, QPixmap

from desktop.tasks import TaskRunner

log = logging.getLogger(__name__)

#: the size of the thumbnail files that smaller pixmaps are scaled from
THUMBNAIL_SIZE = 256
#: pixmaps kept in memory (least recently used go first)
MEMORY_ENTRIES = 600
JPEG_QUALITY = 88
#: thumbnail files no run has used for this long are deleted (:meth:`CoverCache.prune`)
UNUSED_DAYS = 90


def decode_image(data: bytes, size: int) -> QImage | None:
    """``data`` decoded and scaled (never enlarged) to fit ``size`` x ``size``; None when Qt
    cannot decode it."""
    image = QImage.fromData(data)
    if image.isNull():
        return None
    if image.width() > size or image.height() > size:
        image = image.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
    return image


class CoverCache(QObject):
    """Cover thumbnails of audio files; see the module's docstring."""

    ready = Signal(str, int)

    def __init__(self, data_dir: str | os.PathLike, parent: QObject | None = None, *, runner: TaskRunner | None = None):
        super().__init__(parent)
        self.folder = Path(data_dir) / "covers"
        self.runner = runner or TaskRunner(self, max_threads=1, nice=5)
        self._lock = threading.Lock()
        self._paths: dict[tuple, str | None] = {}  # (audio path, size, mtime_ns, bytes) -> file
        self._pixmaps: OrderedDict[tuple[str, int], QPixmap | None] = OrderedDict()  # GUI thread only
        self._pending: set[tuple[str, int]] = set()
        self._touched: set[str] = set()  # thumbnail files this run has marked as used

    # --- any thread -----------------------------------------------------------------------------
    def thumbnail_path(self, audio_path: str, size: int = THUMBNAIL_SIZE) -> str | None:
        """The path of ``audio_path``'s cover thumbnail (at most ``size`` pixels a side), made
        now if it does not exist yet; None when the track has no usable picture.  Blocking."""
        from core.audio.covers import embedded_pictures, find_cover

        audio_path = os.fspath(audio_path)
        try:
            st = os.stat(audio_path)
        except OSError:
            return None
        key = (audio_path, int(size), st.st_mtime_ns, st.st_size)
        with self._lock:
            known = self._paths.get(key, "")
        if known is None or (known and os.path.exists(known)):  # (a deleted folder is made again)
            return known
        # a thumbnail made from the file's first picture before (checked then) is used as it is
        pictures = embedded_pictures(audio_path)
        out = self._existing(pictures[0][0], int(size)) if pictures else None
        if out is None:
            cover = find_cover(audio_path)
            out = None if cover is None else self._thumbnail_file(cover.data, int(size), audio_path)
        with self._lock:
            self._paths[key] = out
        return out

    def _existing(self, data: bytes, size: int) -> str | None:
        """The thumbnail file already made from the picture ``data`` at ``size``, if any."""
        digest = hashlib.blake2b(data, digest_size=16).hexdigest()
        for ext in (".jpg", ".png"):
            existing = self.folder / f"{digest}-{size}{ext}"
            if existing.is_file() and existing.stat().st_size > 0:
                self._touch(existing)
                return str(existing)
        return None

    def _touch(self, path: Path) -> None:
        """Mark a thumbnail file as used by this run (its mtime; once a run)."""
        key = str(path)
        with self._lock:
            if key in self._touched:
                return
            self._touched.add(key)
        try:
            os.utime(path)
        except OSError:
            pass

    def prune(self, *, unused_days: float = UNUSED_DAYS) -> int:
        """Delete the thumbnails no run has used for ``unused_days`` days and the pieces of files
        a crash left half-written (older than an hour); returns how many files went.  Blocking
        (the app runs it on the cache's thread at start)."""
        import time

        now = time.time()
        gone = 0
        try:
            entries = list(os.scandir(self.folder))
        except OSError:
            return 0
        for e in entries:
            try:
                if not e.is_file(follow_symlinks=False):
                    continue
                age = now - e.stat(follow_symlinks=False).st_mtime
                stale = (e.name.startswith(".") and e.name.endswith(".part") and age > 3600) or (
                    e.name.endswith((".jpg", ".png")) and not e.name.startswith(".") and age > unused_days * 86400
                    and e.path not in self._touched)
                if stale:
                    os.remove(e.path)
                    gone += 1
            except OSError:
                continue
        if gone:
            log.info("removed %d unused cover thumbnails from %s", gone, self.folder)
        return gone

    def _thumbnail_file(self, data: bytes, size: int, audio_path: str) -> str | None:
        existing = self._existing(data, size)
        if existing is not None:
            return existing
        digest = hashlib.blake2b(data, digest_size=16).hexdigest()
        image = decode_image(data, size)
        if image is None:
            log.debug("%s: Qt cannot decode the cover picture", audio_path)
            return None
        ext, fmt, quality = (".png", "PNG", -1) if image.hasAlphaChannel() else (".jpg", "JPEG", JPEG_QUALITY)
        out = self.folder / f"{digest}-{size}{ext}"
        tmp = out.with_name(f".{out.name}.{threading.get_ident()}.part")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            if not image.save(str(tmp), fmt, quality):
                raise OSError("the image could not be written")
            os.replace(tmp, out)  # whole or not at all: a reader never sees half a file
        except OSError as exc:
            log.warning("cannot write a cover thumbnail in %s: %s", self.folder, exc)
            tmp.unlink(missing_ok=True)
            return None
        return str(out)

    def load_image(self, audio_path: str, size: int) -> QImage | None:
        """The cover of ``audio_path`` as an image ``size`` pixels a side at most (blocking, any
        thread): read from its thumbnail file, scaled down in memory for small sizes."""
        path = self.thumbnail_path(audio_path, max(int(size), THUMBNAIL_SIZE))
        if path is None:
            return None
        image = QImage(path)
        if image.isNull():
            return None
        if image.width() > size or image.height() > size:
            image = image.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
        return image

    # --- GUI thread -----------------------------------------------------------------------------
    def pixmap(self, audio_path: str, size: int) -> QPixmap | None:
        """The cover of ``audio_path`` at ``size`` pixels a side at most, from memory; None when
        it has none, or is not loaded yet -- then it is loaded in the background and ``ready``
        is emitted."""
        key = (os.fspath(audio_path), int(size))
        if key in self._pixmaps:
            self._pixmaps.move_to_end(key)
            return self._pixmaps[key]
        if key not in self._pending:
            self._pending.add(key)
            self.runner.submit(self.load_image, key[0], key[1],
                               on_result=lambda image, k=key: self._loaded(k, image),
                               on_error=lambda exc, tb, k=key: self._failed(k, exc, tb))
        return None

    def has_answer(self, audio_path: str, size: int) -> bool:
        """Whether ``pixmap(audio_path, size)`` answers from memory (a cover, or known to have none)."""
        return (os.fspath(audio_path), int(size)) in self._pixmaps

    def refresh(self, paths) -> None:
        """Look again at the covers of the tracks in ``paths`` (audio files, or folders: every
        track in or below them): what memory holds of them is dropped and what was shown is
        loaded again, so ``ready`` tells every view showing one of them (a new ``cover.jpg``, a
        picture changed with the tags).  GUI thread."""
        files, folders = set(), []
        for p in paths:
            p = os.fspath(p)
            if os.path.isdir(p):
                folders.append(p.rstrip(os.sep) + os.sep)
            else:
                files.add(p)

        def hit(audio_path: str) -> bool:
            return audio_path in files or any(audio_path.startswith(f) for f in folders)

        shown = [k for k in self._pixmaps if hit(k[0])]
        for key in shown:
            del self._pixmaps[key]
        with self._lock:
            for key in [k for k in self._paths if hit(k[0])]:
                del self._paths[key]
        for path, size in shown:
            self.pixmap(path, size)  # loads again in the background, then ``ready``

    def _loaded(self, key: tuple[str, int], image: QImage | None) -> None:
        self._pending.discard(key)
        self._pixmaps[key] = None if image is None else QPixmap.fromImage(image)
        while len(self._pixmaps) > MEMORY_ENTRIES:
            self._pixmaps.popitem(last=False)
        self.ready.emit(*key)

    def _failed(self, key: tuple[str, int], exc: BaseException, tb: str) -> None:
        log.debug("cover of %s failed:\n%s", key[0], tb)
        self._loaded(key, None)

    def shutdown(self) -> None:
        self.runner.cancel_all()
        self.runner.wait(3000)


def placeholder_pixmap(size: int, *, dpr: float = 1.0) -> QPixmap:
    """A neutral square for a track without a cover: a grey tile with a music note."""
    px = QPixmap(int(size * dpr), int(size * dpr))
    px.setDevicePixelRatio(dpr)
    px.fill(Qt.GlobalColor.transparent)
    p = QPainter(px)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    path = QPainterPath()
    path.addRoundedRect(0, 0, size, size, size * 0.08, size * 0.08)
    p.fillPath(path, QColor("#2a2a34"))
    font = QFont()
    font.setPixelSize(max(8, int(size * 0.5)))
    p.setFont(font)
    p.setPen(QColor("#6c6c80"))
    p.drawText(0, 0, size, size, int(Qt.AlignmentFlag.AlignCenter), "♪")
    p.end()
    return px
