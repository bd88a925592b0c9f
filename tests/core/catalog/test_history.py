"""Listening history in the catalog: plays and skips per profile and song, following the song."""
from __future__ import annotations

import pytest

from core.catalog import MIGRATIONS, Catalog, CatalogError


def _add(cat, path, **fields):
    base = {"path": path, "size": 100, "mtime_ns": 1, "fingerprint": f"fp-{path}", "title": "Song",
            "artist": "Band", "duration": 200.0}
    return cat.add_track(base | fields)


def test_plays_and_skips_are_counted_with_their_times(catalog):
    a = _add(catalog, "/m/a.flac")
    b = _add(catalog, "/m/b.flac", title="Other")
    catalog.record_listen(a, "play", now=100.0)
    catalog.record_listen(a, "play", now=200.0)
    catalog.record_listen(a, "skip", now=250.0)
    s = catalog.record_listen(b, "skip", now=300.0)
    assert (s.plays, s.skips, s.last_played_at, s.last_skipped_at) == (0, 1, None, 300.0)
    stats = catalog.play_stats()
    assert (stats[a].plays, stats[a].skips, stats[a].last_played_at, stats[a].last_skipped_at) == (2, 1, 200.0, 250.0)
    # "recently played" lists played tracks only, newest first
    assert [r.track.id for r in catalog.recently_played()] == [a]
    catalog.record_listen(b, "play", now=400.0)
    assert [r.track.id for r in catalog.recently_played()] == [b, a]
    assert catalog.recently_played()[1].stats.plays == 2


def test_history_is_per_profile_and_goes_with_its_profile(catalog):
    a = _add(catalog, "/m/a.flac")
    catalog.add_profile("Sam")
    catalog.record_listen(a, "play")
    catalog.record_listen(a, "play", profile="Sam")
    catalog.record_listen(a, "play", profile="Sam")
    assert catalog.play_stats_of(a).plays == 1
    assert catalog.play_stats_of(a, profile="Sam").plays == 2
    catalog.remove_profile("Sam")
    assert catalog.play_stats_of(a, profile="Sam").plays == 0
    assert catalog.play_stats_of(a).plays == 1


def test_bad_listens_are_refused_in_one_line(catalog):
    a = _add(catalog, "/m/a.flac")
    with pytest.raises(CatalogError, match="'play' or 'skip'"):
        catalog.record_listen(a, "pause")
    with pytest.raises(CatalogError, match="no track 999"):
        catalog.record_listen(999, "play")
    with pytest.raises(CatalogError, match="no profile"):
        catalog.record_listen(a, "play", profile="Nobody")
    assert catalog.play_stats() == {}


def test_a_moved_file_keeps_its_history(catalog):
    a = _add(catalog, "/m/a.flac")
    catalog.record_listen(a, "play", now=10.0)
    catalog.move_track(a, "/elsewhere/a.flac", {"size": 100, "mtime_ns": 2})
    assert catalog.get_track(a).path == "/elsewhere/a.flac"
    assert catalog.play_stats_of(a).plays == 1


def test_history_follows_its_song_to_a_new_file(catalog):
    """A re-encode (another fingerprint, same tags): the old row goes missing and is purged,
    the new file takes the history, and what both had is added up."""
    old = _add(catalog, "/m/a.mp3")
    catalog.record_listen(old, "play", now=10.0)
    catalog.record_listen(old, "skip", now=20.0)
    catalog.set_rating(old, 1)
    catalog.mark_missing([old])
    catalog.purge_missing()
    new = _add(catalog, "/m/a.flac", duration=200.4)  # picks up the like and the history
    assert catalog.rating(new) == 1
    s = catalog.play_stats_of(new)
    assert (s.plays, s.skips, s.last_played_at) == (1, 1, 10.0)

    # the song is re-encoded again while the new file already has history of its own: merged
    catalog.record_listen(new, "play", now=30.0)
    catalog.mark_missing([new])
    newer = _add(catalog, "/m/a.opus", duration=199.8)
    s = catalog.play_stats_of(newer)
    assert (s.plays, s.skips, s.last_played_at, s.last_skipped_at) == (2, 1, 30.0, 20.0)
    catalog.record_listen(newer, "play", now=40.0)
    catalog.update_track(new, {"size": 100})  # the old file is back: the history stays where it went
    catalog.follow_ratings()
    assert catalog.play_stats_of(newer).plays == 3
    assert catalog.play_stats_of(new).plays == 0


def test_another_song_does_not_take_the_history(catalog):
    a = _add(catalog, "/m/a.flac")
    catalog.record_listen(a, "play")
    catalog.mark_missing([a])
    b = _add(catalog, "/m/b.flac", title="Another Song")
    c = _add(catalog, "/m/c.flac", duration=230.0)  # same tags, another length: another recording
    assert catalog.play_stats_of(b).plays == 0 and catalog.play_stats_of(c).plays == 0


def test_migration_from_the_previous_version_keeps_the_likes(tmp_path):
    before = [m.name for m in MIGRATIONS].index("_play_history")
    path = tmp_path / "c.sqlite3"
    old = Catalog(path, target_version=before)
    a = old.add_track({"path": "/m/a.flac", "size": 1, "mtime_ns": 1, "fingerprint": "fa", "title": "A",
                       "artist": "X", "duration": 100.0})
    b = old.add_track({"path": "/m/b.flac", "size": 1, "mtime_ns": 1, "fingerprint": "fb", "title": "B",
                       "artist": "X", "duration": 90.0})
    old.add_profile("Sam")
    old.set_rating(a, 1)
    old.set_rating(b, -1, profile="Sam")
    old.close()

    cat = Catalog(path)
    try:
        assert cat.schema_version == len(MIGRATIONS)
        assert cat.rating(a) == 1 and cat.rating(b, profile="Sam") == -1
        assert cat.profile_names() == ["default", "Sam"]
        assert cat.play_stats() == {}
        cat.record_listen(a, "play")
        assert cat.play_stats_of(a).plays == 1
    finally:
        cat.close()


def test_a_restore_from_an_older_backup_keeps_the_listening_history_made_since(tmp_path):
    from core.catalog.recovery import restore_catalog

    path = tmp_path / "c.sqlite3"
    cat = Catalog(path)
    a = _add(cat, "/m/a.flac")
    b = _add(cat, "/m/b.flac", title="Other")
    cat.add_profile("Sam")
    cat.record_listen(a, "play", now=100.0)
    cat.backup()
    cat.record_listen(a, "play", now=200.0)  # after the backup
    cat.record_listen(a, "play", now=300.0)
    cat.record_listen(b, "skip", now=310.0, profile="Sam")  # a profile made before, history after
    late = _add(cat, "/m/late.flac", title="Late")  # a track the backup does not have
    cat.record_listen(late, "play", now=400.0)
    cat.close()

    report = restore_catalog(path)
    assert report["history"] == {"read": 3, "carried_over": 3, "error": None}
    with Catalog(path) as back:
        s = back.play_stats_of(a)
        assert (s.plays, s.last_played_at) == (3, 300.0)  # not 1 + 3: the replaced file's count already holds the backup's
        assert back.play_stats_of(b, profile="Sam").skips == 1
        assert back.play_stats_of(b).skips == 0
        again = _add(back, "/m/late.flac", title="Late")  # the next scan finds it: its plays come back
        back.follow_ratings([again])
        assert back.play_stats_of(again).plays == 1
