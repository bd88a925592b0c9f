"""The catalog: schema and migrations, transactions, threads, errors, tracks, ratings that outlive rows."""
from __future__ import annotations

import threading
import time

import pytest

from core import catalog as catalog_mod
from core.catalog import MIGRATIONS, TRACK_FIELDS, Catalog, CatalogError, Migration


def _track(path="/music/a.mp3", fp="fp-a", **kw):
    return {"path": path, "size": 100, "mtime_ns": 1, "fingerprint": fp, **kw}


def _schema(cat: Catalog) -> list[tuple]:
    return sorted(cat.fetchall("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"))


# -- opening, pragmas, migrations --------------------------------------------------------------


def test_fresh_catalog_is_wal_with_foreign_keys_and_latest_schema(catalog):
    assert catalog.fetchone("PRAGMA journal_mode")[0] == "wal"
    assert catalog.fetchone("PRAGMA foreign_keys")[0] == 1
    assert catalog.fetchone("PRAGMA busy_timeout")[0] >= 1000
    assert catalog.schema_version == len(MIGRATIONS) >= 1
    tables = {r[0] for r in catalog.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"tracks", "ratings", "scan_failures", "libraries", "profiles", "analysis", "analysis_queue",
            "playlists", "playlist_entries", "play_history"} == tables


@pytest.mark.parametrize("start", range(len(MIGRATIONS)))
def test_each_migration_from_version_k_reaches_the_fresh_schema(tmp_path, start):
    fresh = Catalog(tmp_path / "fresh.sqlite3")
    want = _schema(fresh)
    fresh.close()
    old = Catalog(tmp_path / "old.sqlite3", target_version=start)
    assert old.schema_version == start
    old.close()
    upgraded = Catalog(tmp_path / "old.sqlite3")
    assert upgraded.schema_version == len(MIGRATIONS)
    assert _schema(upgraded) == want
    # and it works: a track with a like goes in and comes out
    tid = upgraded.add_track(_track(title="T"))
    upgraded.set_rating(tid, 1)
    assert upgraded.get_track(tid).rating == 1
    upgraded.close()


def _fake_migrations():
    steps: list[Migration] = []

    @catalog_mod.migration(into=steps)
    def v1(db):
        db.execute("CREATE TABLE t(x INTEGER)")

    @catalog_mod.migration(into=steps, rewrites_data=True)
    def v2(db):
        db.execute("UPDATE t SET x = x * 10")

    return steps


def test_migration_that_rewrites_data_takes_a_backup_first(tmp_path):
    steps = _fake_migrations()
    cat = Catalog(tmp_path / "c.sqlite3", migrations=steps, target_version=1)
    cat.execute("INSERT INTO t(x) VALUES (7)")
    cat.close()
    cat = Catalog(tmp_path / "c.sqlite3", migrations=steps)
    assert cat.schema_version == 2
    assert cat.fetchall("SELECT x FROM t") == [(70,)]
    cat.close()
    backups = list(tmp_path.glob("c.sqlite3.bak-v1-*"))
    assert len(backups) == 1
    old = Catalog(backups[0], migrations=steps, target_version=1)
    assert old.schema_version == 1 and old.fetchall("SELECT x FROM t") == [(7,)]
    old.close()


def test_a_failing_migration_rolls_back_and_keeps_the_old_version(tmp_path):
    steps = _fake_migrations()
    cat = Catalog(tmp_path / "c.sqlite3", migrations=steps, target_version=1)
    cat.execute("INSERT INTO t(x) VALUES (1)")
    cat.close()

    @catalog_mod.migration(into=steps)
    def v3_broken(db):
        db.execute("CREATE TABLE half_done(y)")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        Catalog(tmp_path / "c.sqlite3", migrations=steps)
    cat = Catalog(tmp_path / "c.sqlite3", migrations=steps[:2])
    assert cat.schema_version == 2  # v2 committed, v3 rolled back entirely
    assert cat.fetchone("SELECT name FROM sqlite_master WHERE name = 'half_done'") is None
    cat.close()


def test_a_catalog_from_a_newer_melograph_is_refused_clearly(tmp_path):
    cat = Catalog(tmp_path / "c.sqlite3")
    cat.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    cat.close()
    with pytest.raises(CatalogError, match="newer than this Melograph knows"):
        Catalog(tmp_path / "c.sqlite3")


def test_a_file_that_is_not_a_database_is_refused_clearly(tmp_path):
    bad = tmp_path / "c.sqlite3"
    bad.write_text("hello, I am not SQLite " * 100)
    with pytest.raises(CatalogError, match="cannot open the catalog") as err:
        Catalog(bad)
    assert str(bad) in str(err.value) and "move it aside" in str(err.value) and "\n" not in str(err.value)


def test_a_write_that_waits_too_long_for_the_lock_fails_in_one_line_with_advice(catalog):
    tid = catalog.add_track(_track())
    impatient = Catalog(catalog.path, timeout=0.1)  # another process, with a short busy timeout
    try:
        with catalog.transaction():
            catalog.execute("UPDATE tracks SET title = 'busy' WHERE id = ?", (tid,))
            with pytest.raises(CatalogError, match="another program is writing to the catalog") as err:
                impatient.set_rating(tid, 1)
    finally:
        impatient.close()
    assert str(catalog.path) in str(err.value) and "\n" not in str(err.value)
    assert catalog.rating(tid) == 0 and catalog.get_track(tid).title == "busy"


# -- transactions and concurrency ---------------------------------------------------------------


def test_transaction_is_all_or_nothing(catalog):
    with pytest.raises(ZeroDivisionError):
        with catalog.transaction():
            catalog.add_track(_track("/m/1.mp3", "f1"))
            with catalog.transaction():  # nested: joins the outer one
                catalog.add_track(_track("/m/2.mp3", "f2"))
            1 / 0
    assert catalog.track_count(include_missing=True) == 0
    with catalog.transaction():
        catalog.add_track(_track("/m/1.mp3", "f1"))
    assert catalog.track_count() == 1


def test_ui_thread_reads_while_a_scan_thread_writes(catalog):
    errors, counts = [], []

    def writer():
        try:
            for i in range(20):
                with catalog.transaction():
                    for j in range(25):
                        catalog.add_track(_track(f"/m/{i}/{j}.mp3", f"f{i}-{j}"))
        except Exception as exc:  # pragma: no cover - the assertion below shows it
            errors.append(exc)

    t = threading.Thread(target=writer)
    t.start()
    while t.is_alive():
        counts.append(catalog.track_count())  # the "UI thread": its own connection
    t.join()
    assert not errors
    assert counts == sorted(counts)  # readers see whole batches, never a half
    assert all(c % 25 == 0 for c in counts)
    assert catalog.track_count() == 500


def test_short_lived_threads_can_release_their_connection(catalog):
    def work(i):
        catalog.add_track(_track(f"/m/{i}.mp3", f"f{i}"))
        catalog.release_thread()

    for i in range(20):
        t = threading.Thread(target=work, args=(i,))
        t.start()
        t.join()
    assert catalog.track_count() == 20
    assert len(catalog._all) == 1  # only this thread's connection is still open


def test_a_second_process_waits_for_the_lock_instead_of_failing(catalog):
    other = Catalog(catalog.path)  # its own connections: like another process
    tid = catalog.add_track(_track())
    ready = threading.Event()

    def hold_lock():
        with other.transaction():
            other.execute("UPDATE tracks SET title = 'busy' WHERE id = ?", (tid,))
            ready.set()
            time.sleep(0.4)

    t = threading.Thread(target=hold_lock)
    t.start()
    ready.wait(5)
    catalog.set_rating(tid, 1)  # blocks until the other writer commits, then succeeds
    t.join()
    other.close()
    assert catalog.get_track(tid).rating == 1
    assert catalog.get_track(tid).title == "busy"


def test_another_real_process_writing_at_the_same_time(catalog):
    """Analysis workers are processes: their write transactions make ours wait, not fail."""
    import subprocess
    import sys
    from pathlib import Path

    tid = catalog.add_track(_track())
    code = (
        "import sys, time\n"
        "from core.catalog import Catalog\n"
        "c = Catalog(sys.argv[1])\n"
        "with c.transaction():\n"
        "    c.execute(\"UPDATE tracks SET title = 'from worker' WHERE id = ?\", (int(sys.argv[2]),))\n"
        "    print('locked', flush=True)\n"
        "    time.sleep(0.5)\n"
        "c.close()\n"
    )
    root = Path(__file__).resolve().parents[3]
    p = subprocess.Popen([sys.executable, "-c", code, str(catalog.path), str(tid)], cwd=root,
                         stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "locked"
        catalog.set_rating(tid, -1)  # waits for the worker's commit (busy_timeout), then succeeds
    finally:
        assert p.wait(30) == 0
    t = catalog.get_track(tid)
    assert t.rating == -1 and t.title == "from worker"


# -- tracks ------------------------------------------------------------------------------------


def test_tracks_in_any_script_sorted_by_artist_or_by_id(catalog):
    catalog.add_track(_track("/m/1.flac", "1", title="Straße", artist="Zoë", album="Blue"))
    catalog.add_track(_track("/m/2.flac", "2", title="Ночь", artist="Кино", album="Группа крови"))
    catalog.add_track(_track("/m/3.flac", "3", title="夜に駆ける", artist="YOASOBI", album="THE BOOK"))
    catalog.add_track(_track("/m/4 🎵 untagged.mp3", "4"))
    assert [t.artist for t in catalog.tracks()] == ["YOASOBI", "Zoë", "Кино", None]  # by artist, untagged last
    assert [t.title for t in catalog.tracks(sort="id")] == ["Straße", "Ночь", "夜に駆ける", None]
    assert catalog.tracks(sort="id")[3].display_title == "4 🎵 untagged"
    assert catalog.track_count() == 4
    with pytest.raises(CatalogError, match="unknown sort key"):
        catalog.tracks(sort="nope; DROP TABLE tracks")


def test_missing_tracks_are_hidden_from_queries_but_kept(catalog):
    a = catalog.add_track(_track("/m/a.mp3", "a"))
    catalog.add_track(_track("/m/b.mp3", "b"))
    catalog.set_rating(a, 1)
    assert catalog.mark_missing([a]) == 1
    assert [t.path for t in catalog.tracks()] == ["/m/b.mp3"]
    assert {t.path for t in catalog.tracks(include_missing=True)} == {"/m/a.mp3", "/m/b.mp3"}
    assert catalog.counts()["missing"] == 1 and catalog.counts()["liked"] == 1
    assert catalog.mark_seen([a]) == 1  # back
    assert not catalog.get_track(a).missing


def test_add_requires_identity_and_update_rejects_unknown_fields(catalog):
    with pytest.raises(CatalogError, match="fingerprint is required"):
        catalog.add_track({"path": "/m/x.mp3", "size": 1, "mtime_ns": 1})
    tid = catalog.add_track(_track())
    with pytest.raises(CatalogError, match="unknown fields"):
        catalog.update_track(tid, {"id": 5})
    with pytest.raises(CatalogError, match="no track"):
        catalog.update_track(tid + 1, {"title": "x"})
    with pytest.raises(CatalogError, match="UNIQUE constraint failed: tracks.path"):
        catalog.add_track(_track())  # the same path twice
    assert catalog.track_count() == 1


# -- ratings -----------------------------------------------------------------------------------


def test_like_dislike_unlike(catalog):
    tid = catalog.add_track(_track(artist="A", title="T", duration=200.0))
    catalog.set_rating(tid, 1)
    assert catalog.rating(tid) == 1 and catalog.counts()["liked"] == 1
    catalog.set_rating(tid, -1)
    assert catalog.rating(tid) == -1 and catalog.counts() | {} == catalog.counts()
    assert catalog.counts()["liked"] == 0 and catalog.counts()["disliked"] == 1
    (r,) = catalog.ratings()
    assert (r.track_id, r.rating, r.artist, r.title, r.duration, r.path) == (tid, -1, "A", "T", 200.0, "/music/a.mp3")
    catalog.set_rating(tid, 0)
    assert catalog.rating(tid) == 0 and catalog.ratings() == []
    with pytest.raises(CatalogError):
        catalog.set_rating(tid, 5)
    with pytest.raises(CatalogError, match="no track"):
        catalog.set_rating(9999, 1)


def test_a_like_is_committed_at_once(catalog):
    tid = catalog.add_track(_track())
    catalog.set_rating(tid, 1)
    other = Catalog(catalog.path)  # another process opening the file right now sees it
    assert other.rating(tid) == 1
    other.close()


def test_like_follows_the_fingerprint_when_tags_are_edited(catalog):
    tid = catalog.add_track(_track(fp="old", artist="A", title="T"))
    catalog.set_rating(tid, 1)
    catalog.update_track(tid, {"fingerprint": "new", "size": 101, "title": "T (remaster)"})
    (r,) = catalog.ratings()
    assert (r.track_id, r.fingerprint, r.title) == (tid, "new", "T (remaster)")


def test_a_purged_row_keeps_its_like_which_reattaches_by_fingerprint(catalog):
    tid = catalog.add_track(_track("/m/a.mp3", "fpA", artist="A", title="T", duration=180.0))
    catalog.set_rating(tid, 1)
    catalog.mark_missing([tid])
    assert catalog.purge_missing() == 1
    (r,) = catalog.ratings()
    assert r.track_id is None and r.rating == 1
    assert catalog.counts()["detached_ratings"] == 1
    new = catalog.add_track(_track("/elsewhere/renamed.mp3", "fpA"))
    assert catalog.get_track(new).rating == 1
    assert catalog.counts()["detached_ratings"] == 0


def test_a_detached_like_reattaches_by_artist_title_and_duration_when_the_bytes_changed(catalog):
    tid = catalog.add_track(_track("/m/a.mp3", "fpA", artist="Nina", title="Sinnerman", duration=600.0))
    catalog.set_rating(tid, -1)
    catalog.mark_missing([tid])
    catalog.purge_missing()
    other = catalog.add_track(_track("/m/b.mp3", "fpB", artist="Nina", title="Sinnerman", duration=300.0))
    assert catalog.get_track(other).rating == 0  # a different recording (duration far off)
    again = catalog.add_track(_track("/m/c.mp3", "fpC", artist="NINA", title="sinnerman", duration=601.0))
    assert catalog.get_track(again).rating == -1


# -- libraries, failures ------------------------------------------------------------------------


def test_libraries_and_scan_failures(catalog, tmp_path):
    lid = catalog.add_library(tmp_path / "music")
    assert catalog.add_library(tmp_path / "music") == lid  # idempotent
    (lib,) = catalog.library_roots()
    assert lib.root == str(tmp_path / "music") and lib.last_scanned_at is None
    catalog.mark_library_scanned(tmp_path / "music", 123.0)
    assert catalog.library_roots()[0].last_scanned_at == 123.0

    catalog.record_failure("/m/x.mp3", "unsupported", "not audio:\n a text file", size=3, mtime_ns=4)
    catalog.record_failure("/m/x.mp3", "unsupported", "not audio: a text file", size=3, mtime_ns=5)
    (f,) = catalog.failures()
    assert (f.path, f.kind, f.reason, f.mtime_ns) == ("/m/x.mp3", "unsupported", "not audio: a text file", 5)
    assert catalog.failures(root="/other") == []
    catalog.clear_failure("/m/x.mp3")
    assert catalog.failures() == []


def test_prefix_queries_do_not_leak_into_sibling_folders(catalog):
    catalog.add_track(_track("/music/a.mp3", "1"))
    catalog.add_track(_track("/music/sub/b.mp3", "2"))
    catalog.add_track(_track("/music2/c.mp3", "3"))
    catalog.add_track(_track("/music-x/d.mp3", "4"))
    assert set(catalog.rows_under("/music")) == {"/music/a.mp3", "/music/sub/b.mp3"}
    assert catalog.track_count(root="/music/") == 2
    assert [t.path for t in catalog.tracks(root="/music", sort="id")] == ["/music/a.mp3", "/music/sub/b.mp3"]
    catalog.mark_missing([catalog.track_by_path("/music2/c.mp3").id, catalog.track_by_path("/music/a.mp3").id])
    assert catalog.missing_count("/music") == 1 and catalog.missing_count() == 2
    assert catalog.purge_missing("/music") == 1 and catalog.missing_count() == 1


# -- profiles (schema v3: ratings per profile) ---------------------------------------------------


def _v2_catalog_with_likes(path):
    """A catalog as Melograph wrote it before profiles: two attached ratings and a detached one."""
    old = Catalog(path, target_version=2)
    # (add_track's look-up of detached ratings needs the v3 ratings table: skipped on a v2 file)
    a = old.add_track(_track("/m/a.mp3", "fpA", artist="A", title="Ta", duration=100.0), reattach=False)
    b = old.add_track(_track("/m/b.mp3", "fpB", artist="B", title="Tb", duration=200.0), reattach=False)
    old.execute("INSERT INTO ratings(track_id, rating, rated_at, fingerprint, artist, title, duration) "
                "VALUES (?, 1, 10.0, 'fpA', 'A', 'Ta', 100.0)", (a,))
    old.execute("INSERT INTO ratings(track_id, rating, rated_at, fingerprint, artist, title, duration) "
                "VALUES (?, -1, 11.0, 'fpB', 'B', 'Tb', 200.0)", (b,))
    old.execute("INSERT INTO ratings(track_id, rating, rated_at, fingerprint, artist, title, duration) "
                "VALUES (NULL, 1, 12.0, 'fpGone', 'Nina', 'Sinnerman', 600.0)")
    old.close()
    return a, b


def test_v3_migration_keeps_every_like_in_the_default_profile_and_backs_up_first(tmp_path):
    path = tmp_path / "c.sqlite3"
    a, b = _v2_catalog_with_likes(path)
    cat = Catalog(path)
    assert cat.schema_version == len(MIGRATIONS) >= 3
    assert list(tmp_path.glob("c.sqlite3.bak-v2-*")), "a backup is taken before ratings are rebuilt"
    assert cat.profile_names() == ["default"]
    got = {(r.track_id, r.rating, r.fingerprint, r.title) for r in cat.ratings(profile="default")}
    assert got == {(a, 1, "fpA", "Ta"), (b, -1, "fpB", "Tb"), (None, 1, "fpGone", "Sinnerman")}
    assert cat.get_track(a).rating == 1 and cat.get_track(b).rating == -1
    assert cat.counts()["liked"] == 2 and cat.counts()["detached_ratings"] == 1
    # the detached like still comes back when its song is added again (by artist + title + duration)
    c = cat.add_track(_track("/m/c.mp3", "fpNew", artist="nina", title="SINNERMAN", duration=601.0))
    assert cat.get_track(c).rating == 1
    assert cat.integrity_problems() == []
    cat.close()
    backup = Catalog(next(tmp_path.glob("c.sqlite3.bak-v2-*")), target_version=2)
    assert backup.fetchone("SELECT COUNT(*) FROM ratings")[0] == 3  # the old file, as it was
    backup.close()


def test_v4_migration_drops_settings_and_search_text_keeping_tracks_and_likes(tmp_path):
    path = tmp_path / "c.sqlite3"
    old = Catalog(path, target_version=3)
    old.add_profile("Anna")
    a = old.add_track(_track("/m/a.mp3", "fpA", artist="A", title="Ta", duration=100.0))
    b = old.add_track(_track("/m/b.mp3", "fpB", artist="B", title="Tb", duration=200.0))
    gone = old.add_track(_track("/m/gone.mp3", "fpGone", artist="Nina", title="Sinnerman", duration=600.0))
    old.set_rating(a, 1)
    old.set_rating(b, -1)
    old.set_rating(a, -1, profile="Anna")
    old.set_rating(gone, 1)
    old.mark_missing([gone])
    old.purge_missing()  # its like stays, detached
    old.execute("UPDATE tracks SET search_text = 'ta a a.mp3' WHERE id = ?", (a,))
    old.execute("INSERT INTO settings(key, value) VALUES ('volume', '0.8')")
    # read with SQL: the Catalog's own queries speak the newest schema
    # (mtime_ns aside: a later migration clears it so that the next scan reads every file's
    # ReplayGain tags; the rg_* columns came later still)
    kept = [f for f in TRACK_FIELDS if f != "mtime_ns" and not f.startswith("rg_")]
    track_sql = f"SELECT id, {', '.join(kept)} FROM tracks ORDER BY id"
    tracks_before = old.fetchall(track_sql)
    ratings_before = {p: old.ratings(profile=p) for p in ("default", "Anna")}
    old.close()

    cat = Catalog(path)
    assert cat.schema_version == len(MIGRATIONS) >= 4
    assert list(tmp_path.glob("c.sqlite3.bak-v3-*")), "a backup is taken before the tracks table is rewritten"
    columns = {r[1] for r in cat.fetchall("PRAGMA table_info(tracks)")}
    assert "search_text" not in columns and set(TRACK_FIELDS) <= columns
    assert cat.fetchone("SELECT name FROM sqlite_master WHERE name = 'settings'") is None
    assert cat.fetchall(track_sql) == tracks_before and len(tracks_before) == 2
    assert {m for (m,) in cat.fetchall("SELECT mtime_ns FROM tracks")} == {-1}
    assert {p: cat.ratings(profile=p) for p in ("default", "Anna")} == ratings_before
    assert len(ratings_before["default"]) == 3 and cat.counts()["detached_ratings"] == 1
    back = cat.add_track(_track("/m/back.mp3", "fpGone"))  # the detached like still re-attaches
    assert cat.get_track(back).rating == 1
    assert cat.integrity_problems() == []
    cat.close()


def test_a_like_in_one_profile_does_not_show_in_another(catalog):
    t1 = catalog.add_track(_track("/m/1.mp3", "fp1"))
    t2 = catalog.add_track(_track("/m/2.mp3", "fp2"))
    catalog.add_profile("Anna")
    catalog.set_rating(t1, 1, profile="Anna")
    catalog.set_rating(t1, -1)  # the default profile dislikes what Anna likes
    catalog.set_rating(t2, 1)
    assert catalog.rating(t1, profile="Anna") == 1 and catalog.rating(t2, profile="anna") == 0
    assert [r.track_id for r in catalog.ratings(profile="Anna")] == [t1]
    assert {r.track_id: r.rating for r in catalog.ratings()} == {t1: -1, t2: 1}
    assert [(t.id, t.rating) for t in catalog.tracks(sort="id")] == [(t1, -1), (t2, 1)]  # the current profile's
    assert catalog.counts(profile="Anna")["liked"] == 1 and catalog.counts()["disliked"] == 1
    catalog.set_rating(t1, 0, profile="Anna")  # clearing Anna's leaves the default profile's
    assert catalog.rating(t1, profile="Anna") == 0 and catalog.rating(t1) == -1
    # the current profile decides what a call without profile= means
    catalog.profile = "Anna"
    assert catalog.get_track(t1).rating == 0 and catalog.tracks(sort="id")[1].rating == 0
    catalog.set_rating(t2, -1)
    assert catalog.get_track(t2).rating == -1 and catalog.rating(t2, profile="default") == 1
    with pytest.raises(CatalogError, match="no profile named"):
        catalog.profile = "Bob"
    with pytest.raises(CatalogError, match="no profile named"):
        catalog.set_rating(t1, 1, profile="Bob")  # refused loudly, never stored somewhere else
    assert catalog.ratings(profile="Bob") == [] and catalog.rating(t1, profile="Bob") == 0


def test_profiles_add_rename_remove(catalog):
    tid = catalog.add_track(_track())
    assert catalog.add_profile(" Anna ") == "Anna"
    with pytest.raises(CatalogError, match="already exists"):
        catalog.add_profile("anna")  # names are unique regardless of case
    assert catalog.add_profile("ANNA", exist_ok=True) == "Anna"
    for bad in ("", "   ", "../x", "a/b", ".hidden", "x" * 65):
        with pytest.raises(CatalogError, match="invalid profile name"):
            catalog.add_profile(bad)
    catalog.set_rating(tid, 1, profile="Anna")
    catalog.profile = "Anna"
    assert catalog.rename_profile("Anna", "Anna B") == "Anna B"
    assert catalog.profile == "Anna B" and catalog.rating(tid) == 1  # the likes followed
    assert [(p.name, p.liked, p.disliked) for p in catalog.profiles()] == [("default", 0, 0), ("Anna B", 1, 0)]
    with pytest.raises(CatalogError, match="cannot be renamed"):
        catalog.rename_profile("default", "x")
    with pytest.raises(CatalogError, match="cannot be removed"):
        catalog.remove_profile("default")
    catalog.add_profile("Cleo")
    with pytest.raises(CatalogError, match="already exists"):
        catalog.rename_profile("Cleo", "anna b")
    assert catalog.remove_profile("Anna B") == 1
    assert catalog.profile == "default" and catalog.profile_names() == ["default", "Cleo"]
    assert catalog.fetchone("SELECT COUNT(*) FROM ratings")[0] == 0


def test_a_purged_track_reattaches_the_likes_of_every_profile(catalog):
    tid = catalog.add_track(_track("/m/a.mp3", "fpA", artist="A", title="T", duration=180.0))
    catalog.add_profile("Anna")
    catalog.add_profile("Bob")
    catalog.set_rating(tid, 1)
    catalog.set_rating(tid, -1, profile="Anna")
    catalog.mark_missing([tid])
    catalog.purge_missing()
    assert catalog.has_detached_ratings()
    new = catalog.add_track(_track("/elsewhere/a.mp3", "fpA"))  # same bytes, moved and renamed
    assert (catalog.rating(new), catalog.rating(new, profile="Anna"), catalog.rating(new, profile="Bob")) == (1, -1, 0)
    assert not catalog.has_detached_ratings()
    # and by artist + title + duration when the bytes changed too
    catalog.mark_missing([new])
    catalog.purge_missing()
    again = catalog.add_track(_track("/m/b.mp3", "fpB", artist="a", title="t", duration=181.0))
    assert (catalog.rating(again), catalog.rating(again, profile="Anna")) == (1, -1)
