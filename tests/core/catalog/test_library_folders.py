"""The library as a set of folders: removing or switching hides a folder's tracks without
deleting anything, adding it again brings them back; the schema step that made it possible
keeps every folder, track and like of an older catalog."""
from __future__ import annotations

import time

from core.catalog import MIGRATIONS, Catalog


def _track(path, fp, **kw):
    return {"path": path, "size": 1, "mtime_ns": 1, "fingerprint": fp, **kw}


def _paths(cat, **kw):
    return sorted(t.path for t in cat.tracks(**kw))


def test_remove_and_switch_hide_tracks_and_adding_back_restores_them(catalog):
    ids = {p: catalog.add_track(_track(p, p)) for p in ("/a/1.mp3", "/a/x/2.mp3", "/b/3.mp3", "/bb/4.mp3")}
    catalog.add_library("/a")
    catalog.add_library("/b")
    catalog.add_library("/bb")
    catalog.set_rating(ids["/a/1.mp3"], 1)
    assert [lib.root for lib in catalog.library_roots()] == ["/a", "/b", "/bb"]

    assert catalog.remove_library("/b") and not catalog.remove_library("/b")
    assert _paths(catalog) == ["/a/1.mp3", "/a/x/2.mp3", "/bb/4.mp3"]  # "/bb" is not inside "/b"
    assert [lib.root for lib in catalog.library_roots()] == ["/a", "/bb"]
    assert [lib.root for lib in catalog.library_roots(include_removed=True) if lib.removed_at] == ["/b"]

    catalog.switch_library("/bb")
    assert _paths(catalog) == ["/bb/4.mp3"]
    assert catalog.track_count() == 1 and catalog.track_count(include_hidden=True) == 4
    assert _paths(catalog, include_hidden=True) == sorted(ids)
    # nothing deleted, nothing flagged missing, the like stays where it was
    assert catalog.missing_count() == 0 and catalog.rating(ids["/a/1.mp3"]) == 1

    catalog.add_library("/a/x")  # a folder inside a removed one
    assert _paths(catalog) == ["/a/x/2.mp3", "/bb/4.mp3"]
    catalog.add_library("/a")
    assert _paths(catalog) == ["/a/1.mp3", "/a/x/2.mp3", "/bb/4.mp3"]
    assert catalog.get_track(ids["/a/1.mp3"]).rating == 1
    # folders that cannot be reached now are left out on request
    assert _paths(catalog, exclude=["/a"]) == ["/bb/4.mp3"]


def test_tracks_in_no_library_folder_stay_visible(catalog):
    catalog.add_track(_track("/loose/1.mp3", "f1"))
    catalog.add_track(_track("/gone/2.mp3", "f2"))
    catalog.add_library("/gone")
    catalog.remove_library("/gone")
    assert _paths(catalog) == ["/loose/1.mp3"]


def test_migration_from_the_previous_version_keeps_folders_tracks_and_likes(tmp_path):
    step = next(i for i, m in enumerate(MIGRATIONS) if m.name == "_library_folders_removed_at")
    path = tmp_path / "c.sqlite3"
    old = Catalog(path, target_version=step)
    for root in ("/music", "/usb/Music"):
        old.execute("INSERT INTO libraries(root, added_at, last_scanned_at) VALUES (?, ?, ?)", (root, time.time(), 5.0))
    a = old.add_track(_track("/music/a.mp3", "fa", title="A"))
    b = old.add_track(_track("/usb/Music/b.mp3", "fb", title="B"))
    old.add_profile("Anna")
    old.set_rating(a, 1)
    old.set_rating(b, -1, profile="Anna")
    ratings_before = {p: old.ratings(profile=p) for p in ("default", "Anna")}
    old.close()

    cat = Catalog(path)
    assert cat.schema_version == len(MIGRATIONS) > step
    libs = cat.library_roots()
    assert [(lib.root, lib.last_scanned_at, lib.removed_at) for lib in libs] == [
        ("/music", 5.0, None), ("/usb/Music", 5.0, None)]
    assert _paths(cat) == ["/music/a.mp3", "/usb/Music/b.mp3"]
    assert {p: cat.ratings(profile=p) for p in ("default", "Anna")} == ratings_before
    cat.close()
