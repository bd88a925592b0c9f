"""M3U / M3U8 import and export (core/playlists.py) over real scanned files: a round trip keeps
the order and the non-ASCII names, paths are relative where they can be, every skipped entry has
its reason, and Latin-1 .m3u files are read as Latin-1."""
from __future__ import annotations

import os
import shutil

import pytest

from core.catalog import CatalogError
from core.playlists import (
    MISSING,
    NOT_IN_CATALOG,
    OUTSIDE,
    UNDECODABLE_LINE,
    URL,
    PlaylistFileError,
    export_m3u,
    import_m3u,
    parse_m3u,
)
from core.scanner import scan
from tests import media

pytestmark = pytest.mark.usefixtures("ffmpeg")


@pytest.fixture
def library(tmp_path, catalog):
    lib = tmp_path / "Musique"
    media.make(lib / "Björk" / "Jóga.flac", tags={"title": "Jóga", "artist": "Björk"}, seconds=2.0)
    media.make(lib / "Sigur Rós" / "Hoppípolla.ogg", tags={"title": "Hoppípolla", "artist": "Sigur Rós"},
               seconds=1.0, freq=330.0)
    media.make(lib / "日本" / "さくら.mp3", tags={"title": "さくら", "artist": "森山直太朗"}, seconds=3.0, freq=550.0)
    media.make_text_as(lib / "broken.mp3")
    scan(catalog, lib)
    return lib


def _track(catalog, lib, rel):
    return catalog.track_by_path(lib / rel)


def test_round_trip_keeps_order_non_ascii_names_and_relative_paths(catalog, library, tmp_path):
    order = ["日本/さくら.mp3", "Björk/Jóga.flac", "Sigur Rós/Hoppípolla.ogg", "日本/さくら.mp3"]
    ids = [_track(catalog, library, r).id for r in order]
    p = catalog.create_playlist("Nordlys ✨")
    catalog.add_to_playlist(p.id, ids)
    out = tmp_path / "lists" / "Nordlys ✨.m3u8"
    out.parent.mkdir()
    report = export_m3u(catalog, p.id, out)
    assert (report.written, report.missing, report.left_out) == (4, 0, [])
    text = out.read_bytes().decode("utf-8")  # UTF-8, whatever the locale
    lines = text.splitlines()
    assert lines[0] == "#EXTM3U"
    assert lines[1:5] == ["#EXTINF:3,森山直太朗 - さくら", "../Musique/日本/さくら.mp3",
                          "#EXTINF:2,Björk - Jóga", "../Musique/Björk/Jóga.flac"]
    catalog.delete_playlist(p.id)

    back = import_m3u(catalog, out)
    assert back.skipped == [] and back.encoding == "utf-8"
    assert back.playlist.name == "Nordlys ✨" and back.added == ids
    assert [e.track_id for e in catalog.playlist_entries("nordlys ✨")] == ids


def test_a_playlist_far_from_the_music_gets_absolute_paths(catalog, library, tmp_path):
    p = catalog.create_playlist("abs")
    catalog.add_to_playlist(p.id, [_track(catalog, library, "Björk/Jóga.flac").id])
    far = "/dev/shm" if os.path.isdir("/dev/shm") and not str(tmp_path).startswith("/dev/shm") else None
    if far is None:
        pytest.skip("needs a writable folder sharing no parent with the test's tmp folder")
    out = os.path.join(far, f"melograph-test-{os.getpid()}.m3u8")
    try:
        export_m3u(catalog, p.id, out)
        assert open(out, encoding="utf-8").read().splitlines()[2] == str(library / "Björk" / "Jóga.flac")
    finally:
        os.unlink(out)


def test_every_skipped_entry_has_its_reason_and_line(catalog, library, tmp_path):
    outside = tmp_path / "elsewhere" / "x.flac"
    media.make(outside)
    unscanned = library / "new.wav"
    media.make(unscanned, freq=880.0)
    m3u = tmp_path / "mixed.m3u8"
    m3u.write_bytes("\n".join([
        "#EXTM3U",
        "#EXTINF:2,Björk - Jóga",
        "Musique/Björk/Jóga.flac",                       # 3: relative to the playlist: found
        "http://radio.example/stream.mp3",               # 4
        "Musique/gone.mp3",                              # 5
        str(outside),                                    # 6
        "Musique/broken.mp3",                            # 7
        "Musique/new.wav",                               # 8
        f"file://{library}/Sigur%20R%C3%B3s/Hopp%C3%ADpolla.ogg",  # 9: a file URI is a path
    ]).encode("utf-8") + b"\nMusique/caf\xe9.mp3\n")     # 10: Latin-1 bytes in a UTF-8 file
    report = import_m3u(catalog, m3u, name="Mixed")
    assert report.added == [_track(catalog, library, "Björk/Jóga.flac").id,
                            _track(catalog, library, "Sigur Rós/Hoppípolla.ogg").id]
    reasons = {line: (entry, reason) for line, entry, reason in report.skipped}
    assert reasons[4] == ("http://radio.example/stream.mp3", URL)
    assert reasons[5] == ("Musique/gone.mp3", MISSING)
    assert reasons[6] == (str(outside), OUTSIDE)
    assert reasons[7][1].startswith("not decodable: ") and len(reasons[7][1]) > len("not decodable: ")
    assert reasons[8] == ("Musique/new.wav", NOT_IN_CATALOG)
    assert reasons[10][1] == UNDECODABLE_LINE
    assert sorted(reasons) == [4, 5, 6, 7, 8, 10]
    assert [e.track_id for e in catalog.playlist_entries("Mixed")] == report.added


def test_latin1_m3u_is_read_as_latin1_and_says_so(catalog, library, tmp_path):
    m3u = tmp_path / "old.m3u"
    m3u.write_bytes("#EXTM3U\r\n#EXTINF:2,Björk - Jóga\r\nMusique\\Björk\\Jóga.flac\r\n".encode("latin-1"))
    report = import_m3u(catalog, m3u)
    assert report.encoding == "latin-1" and report.skipped == []
    assert report.playlist.name == "old" and report.added == [_track(catalog, library, "Björk/Jóga.flac").id]
    utf = tmp_path / "new.m3u"
    utf.write_text("Musique/Björk/Jóga.flac\n", encoding="utf-8")
    assert import_m3u(catalog, utf).encoding == "utf-8"


def test_a_moved_file_is_found_by_its_song_or_its_bytes(catalog, library, tmp_path):
    joga = _track(catalog, library, "Björk/Jóga.flac")
    p = catalog.create_playlist("before")
    catalog.add_to_playlist(p.id, [joga.id])
    out = tmp_path / "before.m3u8"
    export_m3u(catalog, p.id, out)
    # moved inside the library, not rescanned yet: the old path is gone, its bytes are elsewhere
    shutil.move(library / "Björk" / "Jóga.flac", library / "Jóga (moved).flac")
    moved = tmp_path / "moved.m3u8"
    moved.write_text("Musique/Jóga (moved).flac\n", encoding="utf-8")
    assert import_m3u(catalog, moved).added == [joga.id]  # by its fingerprint
    # rescanned: the row moved with the file; the old playlist's path is found by the row
    scan(catalog, library)
    assert import_m3u(catalog, out, name="after").added == [joga.id]
    # a re-encode under another name, the original gone: found by artist, title and length
    reencoded = media.make(library / "Björk" / "Jóga.mp3", tags={"title": "Jóga", "artist": "Björk"},
                           seconds=2.0, fmt="mp3")
    os.unlink(library / "Jóga (moved).flac")
    scan(catalog, library)
    by_song = tmp_path / "song.m3u8"
    by_song.write_text("#EXTM3U\n#EXTINF:2,Björk - Jóga\n/nowhere/Jóga.flac\n", encoding="utf-8")
    assert import_m3u(catalog, by_song).added == [catalog.track_by_path(reencoded).id]


def test_unreadable_playlists_and_taken_names_are_one_line_errors(catalog, library, tmp_path):
    for bad, why in [(tmp_path / "none.m3u8", "file not found"), (tmp_path, "folder"),
                     (media.make_zero_bytes(tmp_path / "empty.m3u"), "empty"),
                     (media.make(tmp_path / "audio.m3u", fmt="flac"), "binary")]:
        with pytest.raises(PlaylistFileError, match=why) as err:
            parse_m3u(bad)
        assert "\n" not in str(err.value)
    os.mkfifo(tmp_path / "fifo.m3u")
    with pytest.raises(PlaylistFileError, match="FIFO"):
        parse_m3u(tmp_path / "fifo.m3u")
    catalog.create_playlist("Taken")
    m3u = tmp_path / "taken.m3u8"
    m3u.write_text("Musique/Björk/Jóga.flac\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="already exists"):
        import_m3u(catalog, m3u)
    assert [p.name for p in catalog.playlists()] == ["Taken"]
    with pytest.raises(PlaylistFileError, match="does not exist"):
        export_m3u(catalog, "Taken", tmp_path / "no" / "such" / "x.m3u8")


def test_nothing_matched_makes_no_playlist(catalog, library, tmp_path):
    m3u = tmp_path / "radio.m3u"
    m3u.write_text("#EXTM3U\nhttps://example.org/live\n", encoding="utf-8")
    report = import_m3u(catalog, m3u)
    assert report.playlist is None and report.added == [] and report.skipped[0].reason == URL
    assert catalog.playlists() == []


def test_a_missing_entry_is_exported_with_its_last_path_and_a_detached_one_is_named(catalog, library, tmp_path):
    joga, hopp = _track(catalog, library, "Björk/Jóga.flac"), _track(catalog, library, "Sigur Rós/Hoppípolla.ogg")
    p = catalog.create_playlist("P")
    catalog.add_to_playlist(p.id, [joga.id, hopp.id])
    catalog.mark_missing([joga.id, hopp.id])
    catalog.purge_missing(library / "Sigur Rós")
    report = export_m3u(catalog, p.id, tmp_path / "p.m3u8")
    assert (report.written, report.missing, report.left_out) == (1, 1, ["Sigur Rós - Hoppípolla"])
    assert (tmp_path / "p.m3u8").read_text(encoding="utf-8").splitlines()[2] == "Musique/Björk/Jóga.flac"


def test_entries_survive_a_rename_and_a_reencode_across_rescans(catalog, library):
    joga, hopp = _track(catalog, library, "Björk/Jóga.flac"), _track(catalog, library, "Sigur Rós/Hoppípolla.ogg")
    catalog.set_rating(hopp.id, 1)
    p = catalog.create_playlist("Iceland")
    catalog.add_to_playlist(p.id, [joga.id, hopp.id, joga.id])
    os.rename(library / "Björk" / "Jóga.flac", library / "Björk" / "01 Jóga.flac")  # renamed: same bytes
    media.make(library / "Sigur Rós" / "Hoppípolla.mp3", tags={"title": "Hoppípolla", "artist": "Sigur Rós"},
               seconds=1.0, freq=330.0)  # re-encoded, the original gone
    os.unlink(library / "Sigur Rós" / "Hoppípolla.ogg")
    scan(catalog, library)
    entries = catalog.playlist_entries(p.id)
    mp3 = catalog.track_by_path(library / "Sigur Rós" / "Hoppípolla.mp3")
    assert [e.track_id for e in entries] == [joga.id, mp3.id, joga.id]
    assert entries[0].path == str(library / "Björk" / "01 Jóga.flac") and not any(e.missing for e in entries)
    assert mp3.rating == 1  # the like moved with it, by the same rule
