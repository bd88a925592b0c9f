"""Playlists in the catalog (core/catalog/playlists.py): names unique regardless of case, ordered
entries that are added, moved, removed and replaced, and entries that follow their song to a new
file exactly as likes do -- never dropped when the file goes."""
from __future__ import annotations

import pytest

from core.catalog import MIGRATIONS, Catalog, CatalogError


def _track(path, fp, **kw):
    return {"path": path, "size": 100, "mtime_ns": 1, "fingerprint": fp, **kw}


def _ids(catalog, playlist):
    return [e.track_id for e in catalog.playlist_entries(playlist)]


@pytest.fixture
def three(catalog):
    return [catalog.add_track(_track(f"/m/{n}.mp3", f"fp-{n}", artist="A", title=n.upper(), duration=60.0 + i))
            for i, n in enumerate("abc")]


def test_names_are_unique_regardless_of_case_even_non_ascii(catalog):
    p = catalog.create_playlist("  Été 2024 ")
    assert p.name == "Été 2024"
    for clash in ("été 2024", "ÉTÉ 2024"):
        with pytest.raises(CatalogError, match="already exists"):
            catalog.create_playlist(clash)
    assert catalog.playlist("ÉTÉ 2024").id == p.id
    assert catalog.rename_playlist(p.id, "ÉTÉ 2024").name == "ÉTÉ 2024"  # a change of case is a rename
    other = catalog.create_playlist("Night")
    with pytest.raises(CatalogError, match="already exists"):
        catalog.rename_playlist(other.id, "été 2024")
    for bad in ("", "   ", "a\nb", "x" * 201):
        with pytest.raises(CatalogError):
            catalog.create_playlist(bad)
    assert [q.name for q in catalog.playlists()] == ["Night", "ÉTÉ 2024"]


def test_an_unknown_playlist_is_one_sentence_naming_the_ones_there_are(catalog):
    catalog.create_playlist("Road trip")
    with pytest.raises(CatalogError) as err:
        catalog.playlist_entries("Roadtrip")
    assert str(err.value) == "no playlist named 'Roadtrip' (playlists: 'Road trip')"
    with pytest.raises(CatalogError, match="no playlist 99"):
        catalog.add_to_playlist(99, [])


def test_add_append_or_at_a_position_move_remove_and_replace(catalog, three):
    a, b, c = three
    p = catalog.create_playlist("Mix").id
    catalog.add_to_playlist(p, [a, b])
    catalog.add_to_playlist(p, [c], position=1)
    assert _ids(catalog, p) == [a, c, b]
    catalog.add_to_playlist(p, [a])  # the same song twice is allowed
    entries = catalog.playlist_entries(p)
    assert [e.position for e in entries] == [0, 1, 2, 3]
    assert [e.track.title for e in entries] == ["A", "C", "B", "A"]
    # drag the first two below the third (a drop before the row now at 3)
    catalog.move_playlist_entries(p, [entries[0].id, entries[1].id], 3)
    assert _ids(catalog, p) == [b, a, c, a]
    catalog.move_playlist_entries(p, [entries[3].id], 0)
    assert _ids(catalog, p) == [a, b, a, c]
    assert catalog.remove_playlist_entries(p, [entries[0].id, entries[3].id]) == 2
    assert _ids(catalog, p) == [b, c]
    assert [e.position for e in catalog.playlist_entries(p)] == [0, 1]
    with pytest.raises(CatalogError, match="no track 999"):
        catalog.replace_playlist_entries(p, [a, 999])
    assert _ids(catalog, p) == [b, c], "a failed replace leaves the playlist as it was"
    catalog.replace_playlist_entries(p, [c, c, a])
    assert _ids(catalog, p) == [c, c, a]
    assert catalog.playlist(p).entries == 3


def test_delete_takes_the_entries_but_never_the_tracks(catalog, three):
    p = catalog.create_playlist("Gone").id
    catalog.add_to_playlist(p, three)
    assert catalog.delete_playlist("gone") == 3
    assert catalog.playlists() == [] and catalog.track_count() == 3
    assert catalog.fetchone("SELECT COUNT(*) FROM playlist_entries")[0] == 0


def test_a_moved_file_keeps_its_entries_and_a_retagged_one_updates_their_copy(catalog, three):
    a = three[0]
    p = catalog.create_playlist("P").id
    catalog.add_to_playlist(p, [a])
    catalog.move_track(a, "/m/elsewhere/a.mp3", {"title": "A (edited)"})
    [e] = catalog.playlist_entries(p)
    assert (e.track_id, e.path, e.title, e.missing) == (a, "/m/elsewhere/a.mp3", "A (edited)", False)


def test_an_entry_whose_file_is_gone_is_shown_missing_then_follows_a_reencode(catalog, three):
    a, b, _ = three
    p = catalog.create_playlist("P").id
    catalog.add_to_playlist(p, [b, a, b])
    catalog.mark_missing([a])
    entries = catalog.playlist_entries(p)
    assert [e.missing for e in entries] == [False, True, False]
    assert catalog.playlist(p).missing == 1
    catalog.purge_missing()  # the row goes; the entry stays, detached, with its song's copy
    entries = catalog.playlist_entries(p)
    assert len(entries) == 3 and entries[1].track is None and entries[1].missing
    assert (entries[1].display_artist, entries[1].display_title) == ("A", "A")
    assert catalog.has_detached_playlist_entries()
    stranger = catalog.add_track(_track("/m/other.ogg", "fp-x", artist="Z", title="A", duration=60.0))
    new = catalog.add_track(_track("/m/a.ogg", "fp-ogg", artist="a", title="A (Remastered)", duration=60.4))
    assert _ids(catalog, p) == [b, new, b] and stranger not in _ids(catalog, p)
    assert not catalog.has_detached_playlist_entries() and catalog.playlist(p).missing == 0


def test_entries_and_likes_follow_together_in_one_scan_end(catalog, three):
    a = three[0]
    catalog.set_rating(a, 1)
    p = catalog.create_playlist("P").id
    catalog.add_to_playlist(p, [a])
    catalog.mark_missing([a])
    new = catalog.add_track(_track("/m/a.flac", "fp-flac", artist="A", title="A", duration=60.2), reattach=False)
    assert _ids(catalog, p) == [a]
    assert catalog.follow_ratings() == 1  # what a scan calls at its end
    assert _ids(catalog, p) == [new] and catalog.rating(new) == 1


def test_the_playlists_migration_keeps_likes_and_tracks_of_the_previous_version(tmp_path):
    from core.catalog.migrations import _playlists

    mine = next(i for i, m in enumerate(MIGRATIONS) if m.apply is _playlists)
    path = tmp_path / "c.sqlite3"
    old = Catalog(path, target_version=mine)  # the catalog as it was just before playlists
    assert old.fetchone("SELECT name FROM sqlite_master WHERE name = 'playlists'") is None
    old.add_profile("Anna")
    a = old.add_track(_track("/m/a.mp3", "fpA", artist="A", title="Ta", duration=100.0))
    b = old.add_track(_track("/m/b.mp3", "fpB", artist="B", title="Tb", duration=200.0))
    gone = old.add_track(_track("/m/gone.mp3", "fpGone", artist="Nina", title="Sinnerman", duration=600.0))
    old.set_rating(a, 1)
    old.set_rating(b, -1, profile="Anna")
    old.set_rating(gone, 1)
    old.mark_missing([gone])
    old.purge_missing()
    # every column but mtime_ns, which a later migration clears so that the next scan reads
    # every file's ReplayGain tags
    kept = [r[1] for r in old.fetchall("PRAGMA table_info(tracks)") if r[1] != "mtime_ns"]
    track_sql = f"SELECT {', '.join(kept)} FROM tracks ORDER BY id"
    tracks_before = old.fetchall(track_sql)
    ratings_before = old.fetchall("SELECT * FROM ratings ORDER BY id")
    old.close()

    cat = Catalog(path)
    assert cat.schema_version == len(MIGRATIONS)
    assert cat.fetchall(track_sql) == tracks_before
    assert cat.fetchall("SELECT * FROM ratings ORDER BY id") == ratings_before
    assert cat.playlists() == []
    p = cat.create_playlist("After")
    cat.add_to_playlist(p.id, [a, b])
    assert [e.track.rating for e in cat.playlist_entries(p.id)] == [1, 0]
    back = cat.add_track(_track("/m/back.mp3", "fpGone"))  # the detached like still re-attaches
    assert cat.get_track(back).rating == 1
    assert cat.integrity_problems() == []
    cat.close()


def test_a_restore_from_an_older_backup_keeps_the_playlists_made_since(tmp_path):
    from core.catalog.recovery import restore_catalog

    path = tmp_path / "c.sqlite3"
    cat = Catalog(path)
    a = cat.add_track(_track("/m/a.mp3", "fpA", artist="A", title="Ta", duration=100.0))
    b = cat.add_track(_track("/m/b.mp3", "fpB", artist="B", title="Tb", duration=200.0))
    old = cat.create_playlist("Old")
    cat.add_to_playlist(old.id, [a])
    cat.backup()
    late = cat.add_track(_track("/m/late.mp3", "fpLate", artist="L", title="Late", duration=50.0))
    cat.add_to_playlist(old.id, [b], position=0)  # changed after the backup
    new = cat.create_playlist("Made after the backup")
    cat.add_to_playlist(new.id, [b, late, a])
    cat.close()

    report = restore_catalog(path)
    assert sorted(report["playlists"]["carried_over"]) == ["Made after the backup", "Old"]
    with Catalog(path) as back:
        assert [e.track_id for e in back.playlist_entries("Old")] == [b, a]
        entries = back.playlist_entries("made after the backup")
        assert [(e.track_id, e.title) for e in entries] == [(b, "Tb"), (None, "Late"), (a, "Ta")]
        assert entries[1].missing  # its track is newer than the backup: it comes back with the next scan
        again = back.add_track(_track("/m/late.mp3", "fpLate", artist="L", title="Late", duration=50.0))
        assert [e.track_id for e in back.playlist_entries("made after the backup")] == [b, again, a]
