"""A disk that fills up: ``like`` and ``scan`` fail in one line and the catalog keeps what it had;
``recommend`` still ranks when it cannot save its model, and leaves no half-written file.

Two ways to fill a disk: a small tmpfs filled up to its last 40 KB (where this test may mount
one: as root), and otherwise ``RLIMIT_FSIZE`` in the child (SIGXFSZ ignored, so a write past
33,000 bytes fails with EFBIG: the catalog opens, its WAL cannot grow).  A model path that is a
folder is the same failure to save, from another cause.
"""
from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from core.catalog import Catalog
from tests.faults.catalogs import CATALOG, analysed_catalog, assert_one_line_error, melograph, quick_check, write_wav

#: bytes left free on the tmpfs: enough to open the catalog (its 32 KB -shm), not to write to it
FREE_ON_TMPFS = 40 * 1024
#: the file-size limit of the RLIMIT_FSIZE child: the -shm fits, the WAL stops after a few pages
FSIZE_LIMIT = 33_000


def _fsize_limit() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (FSIZE_LIMIT, FSIZE_LIMIT))


class FullDisk:
    """A data directory whose disk is full for the commands run through :meth:`run`."""

    def __init__(self, kind: str, tmp_path: Path):
        self.kind = kind
        self.tmp_path = tmp_path
        self.mount: Path | None = None
        self.data_dir = tmp_path / "data"
        self.data_dir.mkdir()

    def fill(self) -> None:
        """Fill the disk (call once the catalog is set up)."""
        if self.kind != "tmpfs":
            return
        self.mount = self.tmp_path / "disk"
        self.mount.mkdir()
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(self.mount)],
                           capture_output=True, text=True)
        if p.returncode != 0:
            self.mount = None
            pytest.skip(f"cannot mount a tmpfs here ({p.stderr.strip()}); the RLIMIT_FSIZE case covers it")
        moved = self.mount / "data"
        shutil.copytree(self.data_dir, moved)
        shutil.rmtree(self.data_dir)
        self.data_dir = moved
        spacer = self.mount / "spacer"
        spacer.write_bytes(b"\0" * FREE_ON_TMPFS)
        fd = os.open(self.mount / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            while True:
                os.write(fd, b"\0" * 65536)
        except OSError:
            pass
        try:
            while True:
                os.write(fd, b"\0" * 512)
        except OSError:
            pass
        os.close(fd)
        spacer.unlink()

    def run(self, *args: str):
        return melograph(*args, data_dir=self.data_dir, preexec=_fsize_limit if self.kind == "rlimit" else None)

    def free(self) -> None:
        """Make room again (the files stay where they are, to be looked at)."""
        if self.mount is not None:
            (self.mount / "filler").unlink()

    def unmount(self) -> None:
        if self.mount is not None:
            subprocess.run(["umount", "-l", str(self.mount)], check=False)
            self.mount = None


@pytest.fixture(params=["tmpfs", "rlimit"])
def disk(request, tmp_path):
    d = FullDisk(request.param, tmp_path)
    yield d
    d.unmount()


def _left_behind(data_dir: Path) -> list[str]:
    """Half-written files: temporary model files and partial backups."""
    return sorted(str(p.relative_to(data_dir)) for p in data_dir.rglob("*")
                  if p.name.endswith((".tmp", ".part")) or ".tmp" in p.name)


def test_like_on_a_full_disk_fails_in_one_line_and_keeps_the_catalog(disk, tmp_path):
    analysed_catalog(disk.data_dir, n_tracks=30)
    songs = [str(write_wav(tmp_path / "music" / f"new song {i}.wav", freq=300.0 + 20 * i)) for i in range(12)]
    disk.fill()
    p = disk.run("like", *songs)  # one transaction each: the disk fills up at the first or a later one
    assert_one_line_error(p, str(disk.data_dir / CATALOG))
    assert any(w in p.stderr.lower() for w in ("full", "disk")), p.stderr
    assert _left_behind(disk.data_dir) == []
    disk.free()
    assert quick_check(disk.data_dir / CATALOG) == ["ok"]
    with Catalog(disk.data_dir / CATALOG) as cat:
        liked = cat.counts()["liked"]
        assert 5 <= liked < 5 + len(songs) and cat.track_count() == 30 + liked - 5


def test_scan_on_a_full_disk_fails_in_one_line_and_keeps_the_catalog(disk, tmp_path):
    analysed_catalog(disk.data_dir, n_tracks=30)
    music = tmp_path / "music"
    for i in range(40):
        write_wav(music / f"song {i:02d}.wav", freq=200.0 + 10 * i)
    disk.fill()
    p = disk.run("scan", str(music))
    assert_one_line_error(p, str(disk.data_dir / CATALOG))
    assert _left_behind(disk.data_dir) == []
    disk.free()
    assert quick_check(disk.data_dir / CATALOG) == ["ok"]
    with Catalog(disk.data_dir / CATALOG) as cat:
        assert cat.counts()["liked"] == 5


def _assert_ranks_without_saving(p, data_dir: Path) -> None:
    assert p.returncode == 0, p.stderr
    assert "Traceback" not in p.stderr, p.stderr
    assert "  1. " in p.stdout and "because you like" in p.stdout, p.stdout
    warnings = p.stderr.strip().splitlines()
    assert len(warnings) == 1 and "recommender.npz" in warnings[0] and "cannot save" in warnings[0], p.stderr
    assert _left_behind(data_dir) == []


def test_recommend_on_a_full_disk_still_ranks_and_leaves_no_temporary_file(disk):
    analysed_catalog(disk.data_dir)
    disk.fill()
    p = disk.run("recommend", "--top", "5")
    _assert_ranks_without_saving(p, disk.data_dir)
    assert not (disk.data_dir / "profiles" / "default" / "recommender.npz").exists()


def test_recommend_with_a_folder_where_the_model_file_goes_still_ranks(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    analysed_catalog(data_dir)
    in_the_way = data_dir / "profiles" / "default" / "recommender.npz"
    (in_the_way / "something").mkdir(parents=True)
    p = melograph("recommend", "--top", "5", data_dir=data_dir)
    _assert_ranks_without_saving(p, data_dir)
    assert (in_the_way / "something").is_dir(), "the folder in the way is the user's: left as it was"
