"""Scanner contract suite: a generated file of every format, and every kind of bad input.

Every test checks what a user would see: rows in the catalog with the right tags, the counts a
scan reports, failures with their kind and a one-line reason, likes surviving moves.
"""
from __future__ import annotations

import builtins
import os
import shutil
import struct
import subprocess
import threading

import pytest

from core import scanner
from core.errors import UnreadableFile
from core.scanner import EXTENSIONS, scan
from tests import media

pytestmark = pytest.mark.usefixtures("ffmpeg")

TAGS = {"title": "Ünïcode Title", "artist": "Ar Tist", "album": "Alb Um", "track": "3/12", "date": "1999",
        "genre": "Jazz"}
# format written -> (format and codec the catalog must show)
EXPECT = {
    "mp3": ("mp3", "mp3"), "flac": ("flac", "flac"), "ogg": ("ogg", "vorbis"), "opus": ("opus", "opus"),
    "m4a": ("m4a", "aac"), "wav": ("wav", "pcm"), "aiff": ("aiff", "pcm"), "wma": ("wma", None),
}


def one_line(reason: str) -> bool:
    return bool(reason) and "\n" not in reason and len(reason) <= 240


def consistent(catalog) -> None:
    assert catalog.integrity_problems() == []


# -- every format ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", sorted(media.FORMATS))
def test_every_format_is_read_with_tags_and_stream_info(catalog, tmp_path, fmt):
    path = media.make(tmp_path / "lib" / f"song.{fmt}", seconds=1.0, tags=TAGS)
    result = scan(catalog, tmp_path / "lib")
    assert result.counts()["added"] == 1 and result.failures == []
    t = catalog.track_by_path(path)
    want_format, want_codec = EXPECT[fmt]
    assert t.format == want_format
    if want_codec:
        assert t.codec == want_codec
    else:
        assert t.codec  # WMA: the codec's own name
    assert t.duration == pytest.approx(1.0, abs=0.1)
    assert t.sample_rate == (48000 if fmt == "opus" else 44100)
    assert t.channels == 2
    assert t.bitrate and t.bitrate > 8000
    assert (t.title, t.artist, t.album) == ("Ünïcode Title", "Ar Tist", "Alb Um")
    assert t.track_no == 3
    if fmt not in ("wma",):  # ffmpeg's asf muxer drops the total
        assert t.track_total == 12
    assert t.year == 1999
    assert t.genre_tag == "Jazz"
    assert t.size == path.stat().st_size and t.mtime_ns == path.stat().st_mtime_ns
    assert len(t.fingerprint) == 32 and not t.missing


def test_every_extension_in_any_case(catalog, tmp_path):
    lib = tmp_path / "lib"
    made = {
        "a.MP3": "mp3", "b.Flac": "flac", "c.oga": "ogg", "d.OPUS": "opus", "e.mp4": "m4a",
        "f.M4A": "m4a", "g.WAV": "wav", "h.aif": "aiff", "i.AIFF": "aiff", "j.wma": "wma", "k.ogg": "ogg",
    }
    for name, fmt in made.items():
        media.make(lib / name, fmt=fmt)
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
                    "sine=frequency=440:duration=1", "-c:a", "aac", "-f", "adts", str(lib / "l.aac")], check=True)
    (lib / "cover.jpg").write_bytes(b"\xff\xd8\xff")
    (lib / "notes.txt").write_text("x")
    result = scan(catalog, lib)
    assert result.failures == []
    assert result.added == len(made) + 1
    assert {os.path.basename(t.path): t.format for t in catalog.tracks()} == made | {"l.aac": "aac"}
    assert {e.lstrip(".") for e in EXTENSIONS} >= {"mp3", "flac", "ogg", "oga", "opus", "m4a", "mp4", "aac",
                                                   "wav", "aiff", "aif", "wma"}


# -- rescans: unchanged, updated, moved, missing, restored --------------------------------------


@pytest.fixture
def library(tmp_path):
    lib = tmp_path / "lib"
    media.make(lib / "Artist" / "one.mp3", tags={"title": "One", "artist": "A"})
    media.make(lib / "Artist" / "two.flac", tags={"title": "Two", "artist": "A"})
    media.make(lib / "three.ogg", tags={"title": "Three", "artist": "B"})
    return lib


def counting_reader(monkeypatch):
    calls = []
    real = scanner.read_file

    def reader(path):
        calls.append(path)
        return real(path)

    return calls, reader


def test_unchanged_files_are_not_opened_again(catalog, library, monkeypatch):
    assert scan(catalog, library).added == 3
    calls, reader = counting_reader(monkeypatch)
    opened = []
    real_open = builtins.open
    monkeypatch.setattr(builtins, "open", lambda p, *a, **k: (opened.append(p), real_open(p, *a, **k))[1])
    result = scan(catalog, library, reader=reader)
    monkeypatch.undo()
    assert result.counts() == {"added": 0, "updated": 0, "unchanged": 3, "moved": 0, "restored": 0,
                               "missing": 0, "newly_missing": 0, "failed": 0}
    assert calls == [] and not [p for p in opened if str(p).startswith(str(library))]


def test_a_changed_file_is_updated_in_place_and_keeps_its_like(catalog, library):
    scan(catalog, library)
    t = catalog.track_by_path(library / "three.ogg")
    catalog.set_rating(t.id, 1)
    import mutagen

    f = mutagen.File(library / "three.ogg")
    f["title"] = "Three (edited)"
    f.save()
    result = scan(catalog, library)
    assert (result.updated, result.unchanged, result.added) == (1, 2, 0)
    after = catalog.track_by_path(library / "three.ogg")
    assert after.id == t.id and after.title == "Three (edited)" and after.rating == 1
    assert after.fingerprint != t.fingerprint
    assert catalog.ratings()[0].fingerprint == after.fingerprint


def test_a_renamed_or_moved_file_keeps_its_row_and_like(catalog, library):
    scan(catalog, library)
    t = catalog.track_by_path(library / "Artist" / "one.mp3")
    catalog.set_rating(t.id, 1)
    d = catalog.track_by_path(library / "three.ogg")
    catalog.set_rating(d.id, -1)
    (library / "New Folder" / "deeper").mkdir(parents=True)
    os.rename(library / "Artist" / "one.mp3", library / "New Folder" / "deeper" / "renamed.mp3")
    os.rename(library / "three.ogg", library / "three again.ogg")
    result = scan(catalog, library)
    assert (result.moved, result.added, result.newly_missing, result.missing) == (2, 0, 0, 0)
    moved = catalog.track_by_path(library / "New Folder" / "deeper" / "renamed.mp3")
    assert moved.id == t.id and moved.rating == 1 and moved.title == "One"
    assert catalog.track_by_path(library / "Artist" / "one.mp3") is None
    assert catalog.track_by_path(library / "three again.ogg").rating == -1
    assert catalog.counts() | {} == catalog.counts()
    assert catalog.counts()["tracks"] == 3 and catalog.counts()["liked"] == 1


def test_a_deleted_file_is_marked_missing_and_restored_when_it_comes_back(catalog, library, tmp_path):
    scan(catalog, library)
    t = catalog.track_by_path(library / "Artist" / "two.flac")
    catalog.set_rating(t.id, 1)
    shutil.move(library / "Artist" / "two.flac", tmp_path / "away.flac")
    result = scan(catalog, library)
    assert (result.newly_missing, result.missing, result.unchanged) == (1, 1, 2)
    gone = catalog.get_track(t.id)
    assert gone.missing and gone.missing_since and gone.rating == 1
    assert catalog.counts()["tracks"] == 2 and catalog.counts()["liked"] == 1
    again = scan(catalog, library)
    assert (again.newly_missing, again.missing) == (0, 1)  # still missing, flagged once
    shutil.move(tmp_path / "away.flac", library / "Artist" / "two.flac")
    back = scan(catalog, library)
    assert (back.restored, back.missing, back.unchanged) == (1, 0, 3)
    assert not catalog.get_track(t.id).missing and catalog.get_track(t.id).rating == 1


def test_a_file_moved_into_another_library_folder_keeps_its_like(catalog, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    media.make(a / "song.mp3", tags={"title": "Song"})
    b.mkdir()
    scan(catalog, a)
    t = catalog.track_by_path(a / "song.mp3")
    catalog.set_rating(t.id, 1)
    shutil.move(a / "song.mp3", b / "song.mp3")
    assert scan(catalog, a).newly_missing == 1
    result = scan(catalog, b)
    assert (result.moved, result.added) == (1, 0)
    assert catalog.track_by_path(b / "song.mp3").id == t.id
    assert catalog.counts()["missing"] == 0 and catalog.rating(t.id) == 1


def test_a_like_outlives_purging_missing_rows_and_comes_back_with_the_file(catalog, library, tmp_path):
    scan(catalog, library)
    t = catalog.track_by_path(library / "Artist" / "two.flac")
    catalog.set_rating(t.id, 1)
    shutil.move(library / "Artist" / "two.flac", tmp_path / "two.flac")
    scan(catalog, library)
    assert catalog.purge_missing(library) == 1
    assert catalog.get_track(t.id) is None and catalog.counts()["detached_ratings"] == 1
    shutil.move(tmp_path / "two.flac", library / "back again.flac")
    result = scan(catalog, library)
    assert result.added == 1
    back = catalog.track_by_path(library / "back again.flac")
    assert back.rating == 1 and catalog.counts()["detached_ratings"] == 0


def test_copies_of_one_file_are_separate_tracks(catalog, library):
    shutil.copy(library / "three.ogg", library / "copy of three.ogg")
    result = scan(catalog, library)
    assert result.added == 4
    t1, t2 = [t for t in catalog.tracks() if "three" in os.path.basename(t.path)]
    assert t1.fingerprint == t2.fingerprint and t1.id != t2.id


def test_progress_reports_every_file_and_the_total(catalog, library):
    seen = []
    scan(catalog, library, progress=seen.append)
    reads = [p for p in seen if p.phase == "read"]
    assert [p.done for p in reads] == [1, 2, 3] and {p.total for p in reads} == {3}
    assert {os.path.relpath(p.path, library) for p in reads} == {"Artist/one.mp3", "Artist/two.flac", "three.ogg"}
    assert any(p.phase == "walk" for p in seen)


@pytest.mark.parametrize("how", ["event", "callable"])
def test_a_cancelled_scan_keeps_its_work_and_marks_nothing_missing(catalog, library, tmp_path, how):
    for i in range(4):
        media.make(library / "more" / f"{i}.mp3", freq=300)
    scan(catalog, library)
    t = catalog.track_by_path(library / "three.ogg")
    os.remove(library / "three.ogg")
    for i in range(4):
        media.make(library / "0 new" / f"{i}.wav", freq=500)  # read first (sorted by name)
    stop = threading.Event()

    def progress(p):
        if p.phase == "read" and p.done == 3:
            stop.set()

    result = scan(catalog, library, progress=progress, batch_size=1,
                  cancel=stop if how == "event" else stop.is_set)
    assert result.cancelled and result.added == 3  # stopped between two files; those done are kept
    assert not catalog.get_track(t.id).missing  # not visited to the end: nothing flagged
    assert catalog.counts()["missing"] == 0
    assert catalog.track_count() == 7 + 3
    full = scan(catalog, library)
    assert not full.cancelled and (full.newly_missing, full.added) == (1, 1) and catalog.track_count() == 7 - 1 + 4


def test_batches_commit_everything(catalog, tmp_path):
    for i in range(7):
        media.make(tmp_path / "lib" / f"{i}.opus")  # copies of one file: still separate tracks
    result = scan(catalog, tmp_path / "lib", batch_size=2)
    assert result.added == 7 and catalog.track_count() == 7


def test_a_like_from_another_thread_during_a_scan_is_kept(catalog, library):
    scan(catalog, library)
    t = catalog.track_by_path(library / "three.ogg")
    for i in range(3):
        media.make(library / "x" / f"{i}.flac", freq=700)
    done = []

    def progress(p):
        if p.phase == "read" and not done:
            th = threading.Thread(target=lambda: (catalog.set_rating(t.id, 1), done.append(1)))
            th.start()
            th.join()

    scan(catalog, library, progress=progress, batch_size=1)
    assert done and catalog.rating(t.id) == 1


# -- bad input ---------------------------------------------------------------------------------


def scan_one(catalog, lib, name):
    result = scan(catalog, lib)
    consistent(catalog)
    failed = {os.path.basename(f["path"]): f for f in result.failures}
    stored = {os.path.basename(f.path): f for f in catalog.failures()}
    return result, failed.get(name), stored.get(name)


def test_zero_byte_file(catalog, library):
    media.make_zero_bytes(library / "empty.mp3")
    result, f, stored = scan_one(catalog, library, "empty.mp3")
    assert result.added == 3 and result.failed == 1
    assert f["kind"] == "unsupported" and "empty" in f["reason"] and one_line(f["reason"])
    assert stored.reason == f["reason"]


@pytest.mark.parametrize("fmt", sorted(media.FORMATS))
def test_truncated_file_of_every_format(catalog, tmp_path, fmt):
    lib = tmp_path / "lib"
    media.make(lib / "good.mp3")
    media.make_truncated(lib / f"cut.{fmt}", keep=0.4)
    result, f, stored = scan_one(catalog, lib, f"cut.{fmt}")
    assert result.added == 1, result.failures
    assert f is not None and f["kind"] == "decode_failed" and one_line(f["reason"])
    assert stored is not None


@pytest.mark.parametrize("maker,words", [(media.make_text_as, "text"), (media.make_png_as, "PNG image")])
def test_text_or_image_renamed_to_mp3(catalog, library, maker, words):
    maker(library / "fake.mp3")
    result, f, _ = scan_one(catalog, library, "fake.mp3")
    assert f["kind"] == "unsupported" and words in f["reason"] and "not audio" in f["reason"]
    assert one_line(f["reason"]) and result.added == 3


def test_wrong_extension_is_read_by_its_content(catalog, tmp_path):
    lib = tmp_path / "lib"
    media.make(lib / "really a flac.mp3", fmt="flac", tags={"title": "Flac Inside"})
    media.make(lib / "really an ogg.m4a", fmt="ogg", tags={"title": "Ogg Inside"})
    media.make(lib / "really a wav.wma", fmt="wav")
    result = scan(catalog, lib)
    assert result.added == 3 and result.failures == []
    got = {os.path.basename(t.path): (t.format, t.title) for t in catalog.tracks()}
    assert got["really a flac.mp3"] == ("flac", "Flac Inside")
    assert got["really an ogg.m4a"] == ("ogg", "Ogg Inside")
    assert got["really a wav.wma"][0] == "wav"


def test_an_mp3_with_junk_before_its_first_frame(catalog, tmp_path):
    """No magic at the start: the content is not recognised, mutagen's own search finds the frames."""
    from core.audio.sniff import id3_size

    data = media.make(tmp_path / "src.mp3", seconds=1.0).read_bytes()
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "junk first.mp3").write_bytes(b"\x00\x11junk" * 300 + data[id3_size(data):])
    result = scan(catalog, lib)
    assert result.added == 1 and result.failures == []
    assert catalog.tracks()[0].format == "mp3" and catalog.tracks()[0].duration == pytest.approx(1.0, abs=0.1)


def test_unreadable_file_permission_denied(catalog, library, monkeypatch):
    """Tests usually run as root, which ignores chmod: refuse the open() the scanner makes."""
    bad = media.make(library / "locked.mp3", freq=880)
    real_open = builtins.open

    def refusing_open(path, *a, **k):
        if os.fspath(path) == str(bad):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *a, **k)

    monkeypatch.setattr(builtins, "open", refusing_open)
    result, f, stored = scan_one(catalog, library, "locked.mp3")
    assert f["kind"] == "unreadable" and f["reason"] == "permission denied"
    assert result.added == 3 and stored.kind == "unreadable"


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions; "
                    "test_unreadable_file_permission_denied covers it by refusing open()")
def test_unreadable_file_chmod_000(catalog, library):
    bad = media.make(library / "locked.mp3", freq=880)
    bad.chmod(0)
    try:
        _, f, _ = scan_one(catalog, library, "locked.mp3")
    finally:
        bad.chmod(0o644)
    assert f["kind"] == "unreadable" and "permission denied" in f["reason"]


def test_unreadable_folder(catalog, library, monkeypatch):
    (library / "private").mkdir()
    media.make(library / "private" / "hidden.mp3")
    real = os.scandir

    def scandir(path="."):
        if os.fspath(path).endswith("private"):
            raise PermissionError(13, "Permission denied", path)
        return real(path)

    monkeypatch.setattr(scanner.os, "scandir", scandir)
    result, f, _ = scan_one(catalog, library, "private")
    assert f["kind"] == "unreadable" and "cannot open folder: permission denied" == f["reason"]
    assert result.added == 3


def test_files_in_a_folder_that_becomes_unreadable_are_not_marked_missing(catalog, library, monkeypatch):
    scan(catalog, library)
    t = catalog.track_by_path(library / "Artist" / "one.mp3")
    catalog.set_rating(t.id, 1)
    real = os.scandir

    def scandir(path="."):
        if os.fspath(path).endswith("Artist"):
            raise PermissionError(13, "Permission denied", path)
        return real(path)

    monkeypatch.setattr(scanner.os, "scandir", scandir)
    result = scan(catalog, library)
    assert result.failed == 1 and result.newly_missing == 0 and result.missing == 0
    assert not catalog.get_track(t.id).missing and catalog.get_track(t.id).rating == 1
    monkeypatch.undo()
    again = scan(catalog, library)
    assert (again.failed, again.unchanged) == (0, 3)


def test_a_path_that_cannot_be_opened_is_recorded(catalog, library, monkeypatch):
    """An OS error other than permissions (here EIO from a failing disk) on open."""
    bad = media.make(library / "bad sector.flac", freq=990)
    real_open = builtins.open

    def failing(path, *a, **k):
        if os.fspath(path) == str(bad):
            raise OSError(5, "Input/output error", str(path))
        return real_open(path, *a, **k)

    monkeypatch.setattr(builtins, "open", failing)
    result, f, _ = scan_one(catalog, library, "bad sector.flac")
    assert f["kind"] == "unreadable" and "Input/output error" in f["reason"] and result.added == 3


NAMES = ["Кино — Группа крови.mp3", "夜に駆ける.flac", "أغنية.ogg", "🎸🔥 emoji 🎶.opus", "Ελληνικά.m4a",
         "한국어 노래.wav", "e\u0301te\u0301 (combining).aiff", "עברית.wma", "tab\tand 'quotes\".mp3"]


def test_names_in_any_script_and_emoji(catalog, tmp_path):
    lib = tmp_path / "lib" / "Ψ folder ✓"
    for i, name in enumerate(NAMES):
        media.make(lib / name, fmt=name.rsplit(".", 1)[1], freq=300 + 20 * i, tags={"title": name[:-4]})
    result = scan(catalog, tmp_path / "lib")
    assert result.failures == [] and result.added == len(NAMES)
    for name in NAMES:
        t = catalog.track_by_path(lib / name)
        assert t is not None and t.title == name[:-4] and os.path.exists(t.path)
    assert sorted(t.path for t in catalog.tracks()) == sorted(str(lib / name) for name in NAMES)


def test_a_file_name_that_is_not_utf8(catalog, tmp_path):
    lib = tmp_path / "lib"
    media.make(lib / "fine.mp3")
    raw = os.path.join(os.fsencode(lib), b"caf\xe9 latin-1.mp3")
    shutil.copyfile(lib / "fine.mp3", raw)
    result = scan(catalog, lib)
    assert result.added == 1 and result.failed == 1
    (f,) = result.failures
    assert "not valid UTF-8" in f["reason"] and "caf\ufffd latin-1.mp3" in f["path"]
    assert catalog.failures()[0].path == f["path"]


def test_very_deep_folders(catalog, tmp_path):
    deep = tmp_path / "lib"
    for i in range(60):
        deep = deep / f"level {i:02d}"
    media.make(deep / "bottom.mp3")
    result = scan(catalog, tmp_path / "lib")
    assert result.added == 1 and result.failures == []
    assert catalog.tracks()[0].path.count("level ") == 60


def test_symlink_loop_and_links(catalog, library, tmp_path):
    os.symlink(library, library / "Artist" / "back to top")  # loop
    os.symlink("self", library / "self")  # a link to itself: ELOOP
    outside = tmp_path / "outside"
    media.make(outside / "linked in.mp3", freq=1200)
    os.symlink(outside, library / "link to outside")  # followed
    os.symlink(outside, library / "second link to outside")  # same folder: scanned once
    os.symlink(tmp_path / "nowhere.mp3", library / "dangling.mp3")
    result = scan(catalog, library)
    consistent(catalog)
    assert result.added == 4
    reasons = {os.path.basename(f["path"]): f["reason"] for f in result.failures}
    assert "symlink loop" in reasons["back to top"]
    assert "symlink loop" in reasons["self"]
    assert "broken symbolic link" in reasons["dangling.mp3"]
    assert len(result.failures) == 3
    assert catalog.track_by_path(library / "link to outside" / "linked in.mp3") is not None


def _id3_frame(fid: bytes, payload: bytes) -> bytes:
    return fid + struct.pack(">I", len(payload)) + b"\x00\x00" + payload


def _with_id3(audio: bytes, frames: bytes, declared: int | None = None) -> bytes:
    size = len(frames) if declared is None else declared
    syncsafe = bytes([(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F])
    return b"ID3\x03\x00\x00" + syncsafe + frames + audio


def test_giant_and_malformed_tag_frames(catalog, tmp_path):
    lib = tmp_path / "lib"
    base = media.make(tmp_path / "base.mp3", seconds=1.0).read_bytes()
    giant_title = b"\x03" + "Giant ".encode() * 500_000  # a 3 MB title
    cover = b"\x00image/png\x00\x03\x00" + os.urandom(8 * 1024 * 1024)  # an 8 MB picture
    (lib).mkdir()
    (lib / "giant.mp3").write_bytes(_with_id3(base, _id3_frame(b"TIT2", giant_title) + _id3_frame(b"APIC", cover)))
    # a frame that claims to be longer than the whole tag
    bad_frame = b"TPE1" + struct.pack(">I", 10_000_000) + b"\x00\x00" + b"\x03Somebody"
    (lib / "bad frame.mp3").write_bytes(_with_id3(base, bad_frame + b"\x00" * 64))
    # a tag header whose size runs far past the end of the file
    (lib / "bad header.mp3").write_bytes(_with_id3(base, _id3_frame(b"TIT2", b"\x03Hello"), declared=200_000_000))
    # an ID3 frame with an invalid text encoding byte
    (lib / "bad encoding.mp3").write_bytes(_with_id3(base, _id3_frame(b"TIT2", b"\x09\xff\xfe")))
    # a FLAC with a Vorbis comment block that claims a giant length
    flac = bytearray(media.make(tmp_path / "b.flac", tags={"title": "x"}).read_bytes())
    pos = 4
    while True:
        hdr = flac[pos]
        length = int.from_bytes(flac[pos + 1:pos + 4], "big")
        if hdr & 0x7F == 4:  # VORBIS_COMMENT: make its first field claim 2**31 bytes
            flac[pos + 4:pos + 8] = struct.pack("<I", 0x7FFFFFFF)
            break
        assert not hdr & 0x80
        pos += 4 + length
    (lib / "bad comment.flac").write_bytes(bytes(flac))
    result = scan(catalog, lib)
    consistent(catalog)
    got = {os.path.basename(t.path): t for t in catalog.tracks()}
    failed = {os.path.basename(f["path"]): f for f in result.failures}
    assert set(got) == {"giant.mp3", "bad frame.mp3", "bad header.mp3", "bad encoding.mp3", "bad comment.flac"}
    # the giant tag is read, its title kept but capped
    assert got["giant.mp3"].title.startswith("Giant Giant") and len(got["giant.mp3"].title) == 1000
    # a malformed tag never costs the audio: the track is there, its stream info read
    assert failed == {}
    for name in ("bad frame.mp3", "bad header.mp3", "bad encoding.mp3", "bad comment.flac"):
        assert got[name].duration == pytest.approx(1.0, abs=0.1), name
        assert got[name].sample_rate == 44100
    assert got["bad frame.mp3"].artist == "Somebody"
    assert got["bad comment.flac"].format == "flac" and got["bad comment.flac"].title is None


def test_a_file_deleted_during_the_scan(catalog, library):
    scan(catalog, library)
    known = catalog.track_by_path(library / "three.ogg")
    media.make(library / "zz new.mp3", freq=1500)

    def progress(p):
        if p.phase == "read" and p.done == 1:
            os.remove(library / "three.ogg")
            os.remove(library / "zz new.mp3")

    media.make(library / "Artist" / "one.mp3", freq=222)  # changed: it will be read
    (library / "three.ogg").touch()  # changed too, then deleted before it is read
    result = scan(catalog, library, progress=progress)
    consistent(catalog)
    reasons = {os.path.basename(f["path"]): f["reason"] for f in result.failures}
    assert reasons == {"three.ogg": "file disappeared during the scan", "zz new.mp3": "file disappeared during the scan"}
    assert catalog.failures() == []  # gone files are not kept as failures
    assert catalog.get_track(known.id).missing  # its row is kept, flagged missing
    assert result.updated == 1


def test_a_folder_that_does_not_exist(catalog, tmp_path):
    with pytest.raises(UnreadableFile, match="folder does not exist"):
        scan(catalog, tmp_path / "no such folder")
    media.make(tmp_path / "file.mp3")
    with pytest.raises(UnreadableFile, match="not a folder"):
        scan(catalog, tmp_path / "file.mp3")
    assert catalog.counts()["tracks"] == 0


def test_failures_are_not_reread_until_the_file_changes_then_cleared(catalog, library, monkeypatch):
    media.make_text_as(library / "later.mp3")
    first = scan(catalog, library)
    assert first.failed == 1
    calls, reader = counting_reader(monkeypatch)
    again = scan(catalog, library, reader=reader)
    assert calls == [] and again.failed == 1 and again.failures == first.failures  # still reported
    media.make(library / "later.mp3", freq=1700, tags={"title": "Fixed"})
    fixed = scan(catalog, library)
    assert fixed.added == 1 and fixed.failed == 0 and catalog.failures() == []
    assert catalog.track_by_path(library / "later.mp3").title == "Fixed"


def test_a_known_track_that_goes_bad_keeps_its_row_and_like(catalog, library):
    scan(catalog, library)
    t = catalog.track_by_path(library / "Artist" / "two.flac")
    catalog.set_rating(t.id, 1)
    data = (library / "Artist" / "two.flac").read_bytes()
    (library / "Artist" / "two.flac").write_bytes(data[: len(data) // 3])
    result = scan(catalog, library)
    consistent(catalog)
    assert result.failed == 1 and result.failures[0]["kind"] == "decode_failed"
    kept = catalog.get_track(t.id)
    assert kept.rating == 1 and kept.title == "Two" and not kept.missing
    (library / "Artist" / "two.flac").write_bytes(data)  # repaired
    assert scan(catalog, library).failed == 0 and catalog.failures() == []


def test_a_reader_bug_is_a_failure_not_a_crash(catalog, library):
    def reader(path):
        if path.endswith(".flac"):
            raise KeyError("surprise")
        return scanner.read_file(path)

    result = scan(catalog, library, reader=reader)
    assert result.added == 2 and result.failed == 1
    assert result.failures[0]["reason"].startswith("unexpected error")


def test_reading_in_worker_processes_gives_the_same_catalog(catalog, tmp_path):
    """Big scans read in a process pool; results and failures must come back whole and in order."""
    lib = tmp_path / "lib"
    import mutagen

    for i in range(70):  # copies of three generated files, each re-tagged (distinct, and fast)
        path = media.make(lib / f"d{i % 3}" / f"{i:02d}.{('mp3', 'flac', 'ogg')[i % 3]}")
        f = mutagen.File(path, easy=True)
        if f.tags is None:
            f.add_tags()
        f["title"] = f"T{i:02d}"
        f.save()
    media.make_text_as(lib / "d0" / "zz text.mp3")
    media.make_truncated(lib / "d1" / "zz cut.wav")
    result = scan(catalog, lib, workers=2)
    consistent(catalog)
    assert result.added == 70 and not result.cancelled
    assert {os.path.basename(f["path"]): f["kind"] for f in result.failures} == {
        "zz text.mp3": "unsupported", "zz cut.wav": "decode_failed"}
    assert all(os.path.basename(t.path).startswith(t.title[1:]) for t in catalog.tracks())


@pytest.mark.parametrize("fmt", sorted(media.FORMATS))
def test_corrupted_files_never_crash_the_reader(tmp_path, fmt):
    """Random byte damage anywhere (headers, tags, audio) and random cuts: a track or a FileError."""
    import io
    import random

    from core.audio import tags
    from core.errors import FileError

    base = media.make(tmp_path / f"base.{fmt}", seconds=1.0, tags={"title": "x", "artist": "y"}).read_bytes()
    rng = random.Random(fmt)
    outcomes = set()
    for _ in range(40):
        d = bytearray(base)
        how = rng.randrange(3)
        if how == 0:  # the first 4 KiB: container headers and tags
            for _ in range(rng.randrange(1, 20)):
                d[rng.randrange(min(len(d), 4096))] = rng.randrange(256)
        elif how == 1:  # a size field blown up somewhere
            j = rng.randrange(len(d))
            d[j:j + 8] = b"\xff\xff\xff\x7f" * 2
        else:
            d = d[: rng.randrange(1, len(d))]
        try:
            info = tags.read(io.BytesIO(bytes(d)), path=f"x.{fmt}")
            assert info["format"] and (info["duration"] is None or info["duration"] >= 0)
            outcomes.add("ok")
        except FileError as exc:
            assert exc.kind in ("decode_failed", "unsupported") and one_line(exc.reason)
            outcomes.add(exc.kind)
    assert "decode_failed" in outcomes  # the damage was real
