"""The catalog's rolling backups (SQLite's online backup API): none for a new catalog, one a day at
most, one before a migration, the newest three kept; and damage found at open."""
from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import pytest

from core.catalog import MIGRATIONS, Catalog, CatalogDamaged, CatalogError

DAY = 86400.0


def _backups(path: Path) -> list[Path]:
    return sorted(path.parent.glob(path.name + ".bak-*"), key=lambda p: p.stat().st_mtime)


def _age(files, days: float) -> None:
    for f in files:
        t = f.stat().st_mtime - days * DAY
        os.utime(f, (t, t))


def _track(i: int) -> dict:
    return {"path": f"/m/{i}.mp3", "size": 1, "mtime_ns": i, "fingerprint": f"fp{i}", "title": f"T{i}"}


def test_a_new_catalog_takes_no_backup_of_nothing(tmp_path):
    Catalog(tmp_path / "c.sqlite3").close()
    assert list(tmp_path.iterdir()) == [tmp_path / "c.sqlite3"]


def test_one_backup_a_day_at_most_and_the_newest_three_are_kept(tmp_path):
    path = tmp_path / "c.sqlite3"
    with Catalog(path) as cat:
        cat.set_rating(cat.add_track(_track(0)), 1)
    Catalog(path).close()  # an existing catalog without a backup: one now
    Catalog(path).close()  # and not again the same day
    assert len(_backups(path)) == 1
    for i in range(1, 5):
        with Catalog(path) as cat:
            cat.add_track(_track(i))
        _age(_backups(path), 1.1)  # a day later
        Catalog(path).close()
    kept = _backups(path)
    assert len(kept) == 3
    with sqlite3.connect(kept[-1]) as newest:  # the newest has every track
        assert newest.execute("SELECT COUNT(*) FROM tracks").fetchone()[0] == 5
    newest.close()
    with sqlite3.connect(kept[0]) as oldest:
        assert oldest.execute("SELECT COUNT(*) FROM tracks").fetchone()[0] == 3
        assert oldest.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one self-contained file
    oldest.close()


def test_a_migration_takes_a_backup_first_even_when_one_was_taken_today(tmp_path):
    path = tmp_path / "c.sqlite3"
    with Catalog(path, target_version=len(MIGRATIONS) - 1) as old:
        old.execute("INSERT INTO tracks(path, size, mtime_ns, fingerprint, added_at, updated_at, last_seen_at) "
                    "VALUES ('/m/a.mp3', 1, 1, 'fpA', 0, 0, 0)")
    Catalog(path, target_version=len(MIGRATIONS) - 1).close()  # today's backup
    assert len(_backups(path)) == 1
    Catalog(path).close()
    backups = _backups(path)
    assert len(backups) == 2
    assert f".bak-v{len(MIGRATIONS) - 1}-" in backups[-1].name
    with sqlite3.connect(backups[-1]) as b:
        assert b.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) - 1


def test_an_explicit_backup_and_the_rotation_leave_other_files_alone(tmp_path):
    path = tmp_path / "c.sqlite3"
    Catalog(path).close()
    stranger = tmp_path / "c.sqlite3.bak-mine"
    stranger.write_text("mine")
    with Catalog(path) as cat:
        made = [cat.backup() for _ in range(5)]
    assert all(p.exists() for p in made[-3:]) and not any(p.exists() for p in made[:2])
    assert stranger.read_text() == "mine"


def test_damage_found_at_open_is_refused_in_one_line_naming_the_way_back(tmp_path):
    path = tmp_path / "c.sqlite3"
    with Catalog(path) as cat:
        for i in range(200):
            cat.add_track({**_track(i), "path": f"/m/{i:04d} a long enough name to need several pages.mp3"})
        backup = cat.backup()
    with sqlite3.connect(path) as con:
        pages = [r[0] for r in con.execute("SELECT pageno FROM dbstat WHERE name = 'tracks' AND pagetype = 'leaf'")]
    con.close()
    with open(path, "r+b") as f:
        f.seek((pages[1] - 1) * 4096)
        f.write(os.urandom(4096))
    before = path.read_bytes()
    t0 = time.perf_counter()
    with pytest.raises(CatalogDamaged) as err:
        Catalog(path)
    assert time.perf_counter() - t0 < 5
    text = str(err.value)
    assert "\n" not in text and str(path) in text and "damaged" in text and "catalog restore" in text
    assert isinstance(err.value, CatalogError) and err.value.problems
    assert path.read_bytes() == before
    assert _backups(path) == [backup]
