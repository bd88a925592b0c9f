"""A catalog file with garbage over a few pages past its header: every command refuses it in one
line and writes nothing into it; ``catalog check|backup|restore`` find the damage, keep rolling
backups, and restore the newest good one without losing the likes and profiles made after it.

The fault: random bytes over three leaf pages of the ``tracks`` table (found with SQLite's
``dbstat``), the kind of damage a bad sector or a torn copy leaves.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from core.catalog import Catalog
from tests.faults.catalogs import (
    CATALOG,
    analysed_catalog,
    assert_one_line_error,
    damage_pages,
    digest,
    melograph,
    quick_check,
    table_pages,
)


@pytest.fixture
def data_dir(tmp_path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    analysed_catalog(d)
    return d


def _damage_tracks(path: Path) -> None:
    pages = table_pages(path, "tracks")
    assert len(pages) >= 4, pages
    damage_pages(path, pages[1:4])
    assert quick_check(path) != ["ok"]


@pytest.mark.parametrize("argv", [["status"], ["scan", "{music}"], ["recommend"], ["like", "1"],
                                  ["profiles", "add", "bob"], ["profiles"]], ids=lambda a: a[0] + str(len(a)))
def test_every_command_refuses_a_damaged_catalog_in_one_line_and_writes_nothing(data_dir, tmp_path, argv):
    music = tmp_path / "music"
    music.mkdir()
    (music / "notes.txt").write_text("not music")
    path = data_dir / CATALOG
    _damage_tracks(path)
    before = digest(path)
    p = melograph(*[a.format(music=music) for a in argv], data_dir=data_dir)
    assert_one_line_error(p, str(path), "damaged", "catalog restore")
    assert digest(path) == before, "the damaged file was written to"
    assert not (data_dir / (CATALOG + "-wal")).exists() or (data_dir / (CATALOG + "-wal")).stat().st_size == 0


def _likes(data_dir: Path) -> dict[str, set[str]]:
    with Catalog(data_dir / CATALOG) as cat:
        return {name: {r.fingerprint for r in cat.ratings(profile=name) if r.rating > 0}
                for name in cat.profile_names()}


def test_check_backup_and_restore_keep_the_likes_and_profiles_made_after_the_backup(data_dir):
    path = data_dir / CATALOG
    p = melograph("catalog", "check", "--json", data_dir=data_dir)
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["ok"] is True and doc["problems"] == []

    p = melograph("catalog", "backup", "--json", data_dir=data_dir)
    assert p.returncode == 0, p.stderr
    backup = Path(json.loads(p.stdout)["backup"])
    assert backup.parent == data_dir and backup.name.startswith(CATALOG + ".bak-") and quick_check(backup) == ["ok"]
    at_backup = _likes(data_dir)

    # after the backup: two more likes, and a new profile with a like of its own
    assert melograph("like", "2", "3", data_dir=data_dir).returncode == 0
    assert melograph("profiles", "add", "Late", data_dir=data_dir).returncode == 0
    assert melograph("like", "--profile", "Late", "7", data_dir=data_dir).returncode == 0
    before_damage = _likes(data_dir)
    assert before_damage["default"] - at_backup["default"] == {"fp0001", "fp0002"}

    _damage_tracks(path)
    damaged = digest(path)
    p = melograph("catalog", "check", "--json", data_dir=data_dir)
    assert p.returncode != 0 and "Traceback" not in p.stderr
    doc = json.loads(p.stdout)
    assert doc["ok"] is False and doc["problems"]
    assert [b["path"] for b in doc["backups"] if b["ok"]][0] == str(backup)

    p = melograph("catalog", "restore", "--json", data_dir=data_dir)
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["restored_from"] == str(backup)
    kept = Path(doc["kept_aside"])
    assert kept.exists() and digest(kept) == damaged, "the damaged file is kept, untouched"
    assert doc["ratings"]["carried_over"] == 3 and doc["ratings"]["unreadable"] is False
    assert doc["profiles"]["carried_over"] == ["Late"]

    assert quick_check(path) == ["ok"]
    assert _likes(data_dir) == before_damage
    p = melograph("status", data_dir=data_dir)
    assert p.returncode == 0 and "liked 7" in p.stdout, p.stdout + p.stderr
    p = melograph("catalog", "check", data_dir=data_dir)
    assert p.returncode == 0, p.stderr


def test_restore_says_so_when_the_damaged_files_likes_cannot_be_read(data_dir):
    path = data_dir / CATALOG
    assert melograph("catalog", "backup", data_dir=data_dir).returncode == 0
    assert melograph("like", "2", data_dir=data_dir).returncode == 0
    damage_pages(path, table_pages(path, "ratings") + table_pages(path, "tracks")[1:3])
    p = melograph("catalog", "restore", data_dir=data_dir)
    assert p.returncode == 0, p.stderr
    text = p.stdout.lower()
    assert "could not read" in text and "likes" in text, p.stdout
    p = melograph("catalog", "restore", "--json", data_dir=data_dir)  # again: the restored file is sound
    assert p.returncode == 0 and json.loads(p.stdout)["ratings"]["unreadable"] is False


def test_restore_from_a_named_file_and_refuse_a_damaged_one(data_dir, tmp_path):
    path = data_dir / CATALOG
    p = melograph("catalog", "backup", "--json", data_dir=data_dir)
    backup = Path(json.loads(p.stdout)["backup"])
    bad = tmp_path / "bad-copy.sqlite3"
    bad.write_bytes(backup.read_bytes())
    damage_pages(bad, table_pages(bad, "tracks")[1:4])
    p = melograph("catalog", "restore", "--from", str(bad), data_dir=data_dir)
    assert_one_line_error(p, str(bad), "damaged")
    assert quick_check(path) == ["ok"] and len(list(data_dir.glob(CATALOG + ".before-restore-*"))) == 0

    p = melograph("catalog", "restore", "--from", str(tmp_path / "nope.sqlite3"), data_dir=data_dir)
    assert_one_line_error(p, "nope.sqlite3")

    p = melograph("catalog", "restore", "--from", str(backup), "--json", data_dir=data_dir)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["restored_from"] == str(backup)


def test_a_damaged_catalog_is_never_backed_up_over_the_good_backups(data_dir):
    path = data_dir / CATALOG
    assert melograph("catalog", "backup", data_dir=data_dir).returncode == 0
    backups = sorted(data_dir.glob(CATALOG + ".bak-*"))
    old = {b: os.stat(b).st_mtime for b in backups}
    for b in backups:  # make them all due for the daily backup
        os.utime(b, (old[b] - 3 * 86400, old[b] - 3 * 86400))
    _damage_tracks(path)
    assert_one_line_error(melograph("status", data_dir=data_dir), "damaged")
    assert_one_line_error(melograph("catalog", "backup", data_dir=data_dir), "damaged")
    assert sorted(data_dir.glob(CATALOG + ".bak-*")) == backups


def test_restore_passes_over_a_damaged_backup_to_the_newest_good_one(data_dir):
    first = Path(json.loads(melograph("catalog", "backup", "--json", data_dir=data_dir).stdout)["backup"])
    newest = Path(json.loads(melograph("catalog", "backup", "--json", data_dir=data_dir).stdout)["backup"])
    assert newest != first
    damage_pages(newest, table_pages(newest, "tracks")[1:4])
    _damage_tracks(data_dir / CATALOG)
    p = melograph("catalog", "check", "--json", data_dir=data_dir)
    assert [(b["path"], b["ok"]) for b in json.loads(p.stdout)["backups"]] == [(str(newest), False), (str(first), True)]
    p = melograph("catalog", "restore", "--json", data_dir=data_dir)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["restored_from"] == str(first)
    assert newest.exists(), "a damaged backup is left where it is"


def test_without_a_backup_restore_starts_a_new_catalog_with_the_likes_it_can_read(data_dir):
    path = data_dir / CATALOG
    _damage_tracks(path)
    assert "no backup" in assert_one_line_error(melograph("status", data_dir=data_dir), "damaged")
    p = melograph("catalog", "restore", "--json", data_dir=data_dir)
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["restored_from"] is None and Path(doc["kept_aside"]).exists()
    assert doc["ratings"]["carried_over"] == 5 and doc["ratings"]["waiting_for_their_track"] == 5
    p = melograph("status", data_dir=data_dir)
    assert p.returncode == 0 and "tracks 0" in p.stdout and "5 likes/dislikes wait for their track" in p.stdout
