"""The library watcher on real folders with a real watchdog observer (inotify on Linux): files
added, renamed, changed and deleted reach the catalog through ``scanner.scan_paths``; a folder
that cannot be watched is polled; a library folder that goes away is unavailable and nothing of
it leaves the catalog."""
from __future__ import annotations

import contextlib
import errno
import os
import shutil
import threading
import time

import pytest
from watchdog.observers import Observer

from core import scanner
from core.watcher import POLLED, UNAVAILABLE, WATCHED, LibraryWatcher, coalesce, filesystem_type
from tests import media

pytestmark = pytest.mark.usefixtures("ffmpeg")


def wait_until(cond, timeout=15.0, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class Follower:
    """Watcher callbacks that do what the app does: scan what changed into the catalog."""

    def __init__(self, catalog):
        self.catalog = catalog
        self.changes: list[tuple[str, list[str]]] = []
        self.statuses = []
        self.scans = 0
        self.lock = threading.Lock()

    def on_changes(self, root, paths):
        with self.lock:
            self.changes.append((root, paths))
        if paths == [root]:
            scanner.scan(self.catalog, root)
        else:
            scanner.scan_paths(self.catalog, paths)
        with self.lock:
            self.scans += 1

    def on_status(self, status):
        with self.lock:
            self.statuses.append(status)

    def state(self, root):
        with self.lock:
            mine = [s for s in self.statuses if s.root == str(root)]
        return mine[-1] if mine else None


@pytest.fixture
def lib(tmp_path):
    root = tmp_path / "music"
    media.make(root / "a" / "one.mp3", tags={"title": "One", "artist": "Ann"})
    media.make(root / "two.flac", freq=660.0, tags={"title": "Two", "artist": "Bo"})
    return root


def make_watcher(follower, **kwargs):
    kwargs.setdefault("debounce_s", 0.4)
    kwargs.setdefault("check_interval_s", 0.3)
    return LibraryWatcher(follower.on_changes, follower.on_status, **kwargs)


@contextlib.contextmanager
def watching(catalog, lib):
    """``lib`` scanned into ``catalog``, then watched (the follower scans what changes); closed after."""
    scanner.scan(catalog, lib)
    f = Follower(catalog)
    w = make_watcher(f)
    try:
        w.set_roots([lib])
        wait_until(lambda: f.state(lib) is not None and f.state(lib).state == WATCHED, what="watched")
        yield f
    finally:
        w.close()


def titles(catalog):
    return sorted(t.title for t in catalog.tracks())


def test_added_renamed_changed_and_deleted_files_reach_the_catalog(catalog, lib, tmp_path):
    with watching(catalog, lib) as f:
        # a file copied in (made elsewhere, then copied: as a user would)
        src = media.make(tmp_path / "elsewhere" / "three.ogg", kind="noise", tags={"title": "Three", "artist": "Cy"})
        shutil.copy(src, lib / "a" / "three.ogg")
        wait_until(lambda: titles(catalog) == ["One", "Three", "Two"], what="the new file in the catalog")
        three = catalog.track_by_path(lib / "a" / "three.ogg")
        catalog.set_rating(three.id, 1)

        # renamed: same row, same like
        os.rename(lib / "a" / "three.ogg", lib / "three renamed.ogg")
        wait_until(lambda: catalog.track_by_path(lib / "three renamed.ogg") is not None, what="the rename")
        moved = catalog.track_by_path(lib / "three renamed.ogg")
        assert moved.id == three.id and moved.rating == 1 and not moved.missing
        assert catalog.track_count() == 3

        # changed in place (new tags): the row follows
        before = catalog.track_by_path(lib / "two.flac")
        new = media.make(tmp_path / "elsewhere" / "two.flac", freq=660.0,
                         tags={"title": "Two (remaster)", "artist": "Bo"})
        shutil.copyfile(new, lib / "two.flac")
        wait_until(lambda: catalog.track_by_path(lib / "two.flac").title == "Two (remaster)", what="the new tags")
        assert catalog.track_by_path(lib / "two.flac").id == before.id

        # deleted: flagged missing, the like stays
        os.remove(lib / "three renamed.ogg")
        wait_until(lambda: catalog.track_by_path(lib / "three renamed.ogg").missing, what="the deletion")
        assert titles(catalog) == ["One", "Two (remaster)"]
        assert catalog.rating(three.id) == 1

        # only what changed was scanned, never the whole folder
        assert all(paths != [str(lib)] for _root, paths in f.changes)


def test_a_folder_copied_in_appears_with_its_files(catalog, lib, tmp_path):
    with watching(catalog, lib) as f:
        album = tmp_path / "album"
        media.make(album / "cd1" / "x.wav", tags={"title": "Ex", "artist": "Dee"})
        media.make(album / "cd1" / "y.m4a", freq=330.0, tags={"title": "Why", "artist": "Dee"})
        shutil.copytree(album, lib / "New album")
        wait_until(lambda: titles(catalog) == ["Ex", "One", "Two", "Why"], what="the album's files")


class LimitReachedObserver(Observer):
    """An observer on a system out of inotify watches: every schedule fails as inotify's does."""

    def schedule(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "inotify watch limit reached")


def test_a_folder_that_cannot_be_watched_is_polled(catalog, lib):
    scanner.scan(catalog, lib)
    f = Follower(catalog)
    w = make_watcher(f, poll_interval_s=0.8, observer_factory=LimitReachedObserver)
    try:
        w.set_roots([lib])
        wait_until(lambda: f.state(lib) is not None, what="a status")
        status = f.state(lib)
        assert status.state == POLLED and "max_user_watches" in status.reason
        assert w.statuses()[str(lib)].state == POLLED
        media.make(lib / "late.opus", tags={"title": "Late", "artist": "Eve"})
        wait_until(lambda: "Late" in titles(catalog), what="the polled rescan")
        assert all(paths == [str(lib)] for _root, paths in f.changes)  # whole-folder rescans
        assert [s.state for s in f.statuses] == [POLLED]  # said once
    finally:
        w.close()


def test_a_deleted_library_folder_is_unavailable_and_nothing_is_purged(catalog, lib, tmp_path):
    scanner.scan(catalog, lib)
    ids = {t.path: t.id for t in catalog.tracks()}
    one = catalog.track_by_path(lib / "a" / "one.mp3")
    catalog.set_rating(one.id, 1)
    keep = tmp_path / "kept copy"
    shutil.copytree(lib, keep)
    f = Follower(catalog)
    w = make_watcher(f)
    try:
        w.set_roots([lib])
        wait_until(lambda: f.state(lib) is not None and f.state(lib).state == WATCHED, what="watched")
        shutil.rmtree(lib)
        wait_until(lambda: f.state(lib).state == UNAVAILABLE, what="unavailable")
        assert "not there" in f.state(lib).reason
        time.sleep(1.0)  # what the deletion events could have done, they would have done now
        assert f.scans == 0
        assert catalog.track_count() == 2 and catalog.missing_count() == 0
        assert catalog.rating(one.id) == 1

        # the folder comes back: watched again, rescanned, the same rows
        shutil.copytree(keep, lib)
        wait_until(lambda: f.state(lib).state == WATCHED, what="watched again")
        wait_until(lambda: f.scans >= 1, what="the rescan")
        assert {t.path: t.id for t in catalog.tracks()} == ids
        assert catalog.rating(one.id) == 1
    finally:
        w.close()


def test_a_folder_missing_at_start_is_unavailable_until_it_appears(catalog, tmp_path):
    root = tmp_path / "not yet"
    f = Follower(catalog)
    w = make_watcher(f)
    try:
        w.set_roots([root])
        wait_until(lambda: f.state(root) is not None, what="a status")
        assert f.state(root).state == UNAVAILABLE
        media.make(tmp_path / "staging" / "z.mp3", tags={"title": "Zed", "artist": "Fay"})
        os.rename(tmp_path / "staging", root)
        wait_until(lambda: titles(catalog) == ["Zed"], what="the folder's file")
        assert f.state(root).state == WATCHED
    finally:
        w.close()


def test_a_cover_image_is_reported_and_other_files_are_not(catalog, lib):
    with watching(catalog, lib) as f:
        (lib / "a" / "notes.txt").write_text("liner notes")
        (lib / "a" / "Cover.JPG").write_bytes(b"\xff\xd8 not really a picture")
        wait_until(lambda: f.scans >= 1, what="a report")
        time.sleep(0.6)  # anything else would have been reported by now
        reported = [p for _root, paths in f.changes for p in paths]
        assert reported == [str(lib / "a" / "Cover.JPG")]
        assert titles(catalog) == ["One", "Two"] and catalog.failures() == []  # nothing read as audio


def test_scan_paths_reads_only_the_paths_given(catalog, lib, tmp_path):
    scanner.scan(catalog, lib)
    # two changes on disk; only one is handed to scan_paths
    new = media.make(tmp_path / "x" / "two.flac", freq=660.0, tags={"title": "Two v2", "artist": "Bo"})
    shutil.copyfile(new, lib / "two.flac")
    media.make(lib / "a" / "four.wav", tags={"title": "Four", "artist": "Gus"})
    result = scanner.scan_paths(catalog, [lib / "a" / "four.wav"])
    assert result.added == 1 and result.updated == 0
    assert titles(catalog) == ["Four", "One", "Two"]
    # a folder given: walked; a path that is gone: its row flagged missing
    os.remove(lib / "a" / "one.mp3")
    result = scanner.scan_paths(catalog, [lib / "a" / "one.mp3", lib])
    assert result.newly_missing == 1 and result.updated == 1
    assert titles(catalog) == ["Four", "Two v2"]


def test_coalesce_and_filesystem_type(tmp_path):
    assert coalesce(["/m/a/x.mp3", "/m/a", "/m/ab.mp3", "/m/a/b/c.mp3"]) == ["/m/a", "/m/ab.mp3"]
    mounts = tmp_path / "mounts"
    mounts.write_text("/dev/sda1 / ext4 rw 0 0\n"
                      "server:/music /mnt/nas\\040music nfs4 rw 0 0\n")
    assert filesystem_type("/mnt/nas music/jazz", mounts_file=str(mounts)) == "nfs4"
    assert filesystem_type("/home/me/Music", mounts_file=str(mounts)) == "ext4"
    assert filesystem_type("/x", mounts_file=str(tmp_path / "none")) is None
