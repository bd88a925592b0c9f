"""Cover thumbnails: one file per picture in the data directory, reused; shown in the now-playing
panel (a placeholder without one) and beside each recommendation."""
from __future__ import annotations

import os
import shutil
from types import SimpleNamespace

import pytest
from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtGui import QColor, QImage

from tests import media

RED, BLUE = QColor(220, 30, 40), QColor(20, 60, 230)


def jpeg(colour: QColor, w: int = 600, h: int = 600) -> bytes:
    image = QImage(w, h, QImage.Format.Format_RGB32)
    image.fill(colour)
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buf, "JPEG", 92)
    return bytes(data)


def with_cover(path, data: bytes, **tags):
    """A FLAC fixture with ``data`` as its front cover."""
    from mutagen.flac import FLAC, Picture

    media.make(path, seconds=1.0, tags=tags or None)
    audio = FLAC(path)
    pic = Picture()
    pic.type, pic.mime, pic.data = 3, "image/jpeg", data
    audio.add_picture(pic)
    audio.save()
    return path


def near(c1: QColor, c2: QColor, tol: int = 30) -> bool:
    return all(abs(a - b) <= tol for a, b in ((c1.red(), c2.red()), (c1.green(), c2.green()), (c1.blue(), c2.blue())))


@pytest.fixture
def album(tmp_path, ffmpeg):
    folder = tmp_path / "music" / "Album"
    red = jpeg(RED)
    a = with_cover(folder / "a.flac", red, title="Red A", artist="X")
    b = with_cover(folder / "b.flac", red, title="Red B", artist="X")
    plain = media.make(tmp_path / "music" / "Plain" / "p.flac", seconds=1.0, tags=dict(title="Plain", artist="Y"))
    return SimpleNamespace(a=str(a), b=str(b), plain=str(plain), root=tmp_path / "music")


def test_a_thumbnail_is_written_once_in_the_data_dir_and_shared_by_the_album(qapp, tmp_path, album):
    from desktop.covers import CoverCache

    data = tmp_path / "data"
    cache = CoverCache(data)
    path = cache.thumbnail_path(album.a, 256)
    assert path is not None and os.path.dirname(path) == str(data / "covers")
    image = QImage(path)
    assert (image.width(), image.height()) == (256, 256)  # scaled down from 600 x 600
    assert near(image.pixelColor(128, 128), RED)
    assert cache.thumbnail_path(album.b, 256) == path  # the same picture: the same file
    assert os.listdir(data / "covers") == [os.path.basename(path)]
    written = os.stat(path).st_ino  # a file made again would be a new file (written aside, then renamed)

    again = CoverCache(data)  # the next run finds the file instead of making it again
    assert again.thumbnail_path(album.a, 256) == path
    assert os.stat(path).st_ino == written and len(os.listdir(data / "covers")) == 1

    shutil.rmtree(data / "covers")  # the user cleared it: made again when asked
    assert again.thumbnail_path(album.a, 256) == path and os.path.isfile(path)


def test_no_cover_no_file(qapp, tmp_path, album):
    from desktop.covers import CoverCache

    cache = CoverCache(tmp_path / "data")
    assert cache.thumbnail_path(album.plain) is None
    assert cache.thumbnail_path(str(tmp_path / "missing.flac")) is None
    assert not (tmp_path / "data" / "covers").exists()


def test_a_cut_picture_gives_no_thumbnail(qapp, tmp_path, ffmpeg):
    from desktop.covers import CoverCache

    track = with_cover(tmp_path / "m" / "cut.flac", jpeg(BLUE)[:2000])
    assert CoverCache(tmp_path / "data").thumbnail_path(str(track)) is None


def test_pixmaps_load_in_the_background(qapp, qtbot, tmp_path, album):
    from desktop.covers import CoverCache

    cache = CoverCache(tmp_path / "data")
    assert cache.pixmap(album.a, 64) is None and not cache.has_answer(album.a, 64)  # not loaded: later
    with qtbot.waitSignal(cache.ready, timeout=10_000) as ready:
        pass
    assert ready.args == [album.a, 64]
    px = cache.pixmap(album.a, 64)
    assert px is not None and (px.width(), px.height()) == (64, 64)
    assert near(px.toImage().pixelColor(32, 32), RED)
    assert cache.pixmap(album.plain, 64) is None
    qtbot.waitUntil(lambda: cache.has_answer(album.plain, 64), timeout=10_000)
    assert cache.pixmap(album.plain, 64) is None  # known to have none: asked once, answered from memory


def _app(qtbot, tmp_path, folder):
    from desktop.app import App
    from desktop.mainwindow import MainWindow
    from desktop.settings import Settings

    settings = Settings.at(tmp_path / "settings.ini")
    window = MainWindow(settings)
    qtbot.addWidget(window)
    window.show()
    app = App(window, settings, data_dir=tmp_path / "data", folder=str(folder), open_player=False)
    return window, app


def test_now_playing_shows_the_cover_or_the_placeholder(qapp, qtbot, tmp_path, album):
    window, c = _app(qtbot, tmp_path, album.root)
    try:
        assert not window.cover_shown and not window.cover_label.pixmap().isNull()  # the placeholder
        c.start()
        qtbot.waitUntil(lambda: c.library.model.rowCount() == 3 and not c.library.scanning, timeout=30_000)
        ids = {c.library.model.row_data(r).title: c.library.model.track_id(r) for r in range(3)}
        c.playback.play_ids([ids["Red A"]])
        qtbot.waitUntil(lambda: window.cover_shown, timeout=10_000)
        shown = window.cover_label.pixmap().toImage()
        assert near(shown.pixelColor(shown.width() // 2, shown.height() // 2), RED)
        assert len(os.listdir(tmp_path / "data" / "covers")) == 1  # its thumbnail, in the data dir

        c.playback.play_ids([ids["Plain"]])
        assert window.title_label.text() == "Plain"
        qtbot.waitUntil(lambda: c.covers.has_answer(album.plain, 128), timeout=10_000)
        assert not window.cover_shown
        placeholder = window.cover_label.pixmap().toImage()
        assert not near(placeholder.pixelColor(4, placeholder.height() // 2), RED)

        c.playback.play_ids([ids["Red B"]])  # another file of the album: the same thumbnail file
        qtbot.waitUntil(lambda: window.cover_shown, timeout=10_000)
        assert len(os.listdir(tmp_path / "data" / "covers")) == 1
    finally:
        c.shutdown()


def test_recommendations_show_a_cover_per_row(qapp, qtbot, tmp_path, album):
    window, c = _app(qtbot, tmp_path, album.root)
    try:
        c.start()
        qtbot.waitUntil(lambda: c.library.model.rowCount() == 3 and not c.library.scanning, timeout=30_000)
        ids = {c.library.model.row_data(r).title: c.library.model.track_id(r) for r in range(3)}
        ranking = [SimpleNamespace(track_id=ids[t], nearest_liked=[], genres=[("jazz", 0.5)])
                   for t in ("Plain", "Red A")]
        c.recommendations._on_result((ranking, {"profile": c.profiles.current, "liked": 1, "disliked": 0}))
        panel = window.recommendations
        assert panel.keys() == [ids["Plain"], ids["Red A"]]
        qtbot.waitUntil(lambda: panel.covered_keys() == [ids["Red A"]], timeout=10_000)
        label = panel.list.itemWidget(panel.list.item(1))
        assert label.icon() is not None and near(label.icon().toImage().pixelColor(16, 16), RED)
        assert panel.list.itemWidget(panel.list.item(0)).icon() is not None  # the placeholder tile
    finally:
        c.shutdown()


def test_a_new_cover_image_or_picture_shows_without_a_restart(qapp, qtbot, tmp_path, album):
    """The watcher reports a cover.jpg put in a folder, and a file whose embedded picture changed:
    the now-playing panel shows the new cover within seconds."""
    from mutagen.flac import FLAC, Picture

    window, c = _app(qtbot, tmp_path, album.root)
    try:
        c.start()
        qtbot.waitUntil(lambda: c.library.model.rowCount() == 3 and not c.library.scanning, timeout=30_000)
        ids = {c.library.model.row_data(r).title: c.library.model.track_id(r) for r in range(3)}

        def centre():
            shown = window.cover_label.pixmap().toImage()
            return shown.pixelColor(shown.width() // 2, shown.height() // 2)

        c.playback.play_ids([ids["Plain"]])
        qtbot.waitUntil(lambda: c.covers.has_answer(album.plain, 128), timeout=10_000)
        assert not window.cover_shown
        (album.root / "Plain" / "cover.jpg").write_bytes(jpeg(BLUE))
        qtbot.waitUntil(lambda: window.cover_shown and near(centre(), BLUE), timeout=15_000)

        c.playback.play_ids([ids["Red A"]])
        qtbot.waitUntil(lambda: window.cover_shown and near(centre(), RED), timeout=10_000)
        audio = FLAC(album.a)  # re-tagged with another picture while it plays
        audio.clear_pictures()
        pic = Picture()
        pic.type, pic.mime, pic.data = 3, "image/jpeg", jpeg(BLUE, 500, 500)
        audio.add_picture(pic)
        audio.save()
        qtbot.waitUntil(lambda: near(centre(), BLUE), timeout=15_000)
    finally:
        c.shutdown()


def test_thumbnails_no_run_has_used_for_months_are_pruned(qapp, tmp_path, album):
    import time

    from desktop.covers import UNUSED_DAYS, CoverCache

    cache = CoverCache(tmp_path / "data")
    used = cache.thumbnail_path(album.a)
    folder = tmp_path / "data" / "covers"
    unused = folder / ("0" * 32 + "-256.jpg")
    unused.write_bytes(b"an old thumbnail")
    half = folder / ".x-256.jpg.123.part"
    half.write_bytes(b"half a file")
    long_ago = time.time() - (UNUSED_DAYS + 5) * 86400
    for p in (used, unused, half):
        os.utime(p, (long_ago, long_ago))

    again = CoverCache(tmp_path / "data")  # the next run uses the album's thumbnail, not the other
    assert again.thumbnail_path(album.b) == used
    assert again.prune() == 2
    assert sorted(os.listdir(folder)) == [os.path.basename(used)]
    assert again.prune() == 0
