"""``melograph playlists``: every action as a user types it, with --json, and every bad input told in
one line on stderr with a non-zero exit."""
from __future__ import annotations


import pytest

from tests.cli.clirun import run, run_json
from tests import media


def one_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "error:" in lines[0], err
    return lines[0]


@pytest.fixture
def lib(tmp_path, ffmpeg, capsys, data_dir):
    lib = tmp_path / "music"
    media.make(lib / "a.mp3", tags={"title": "Alpha", "artist": "Ann"})
    media.make(lib / "sub" / "b.flac", tags={"title": "Bêta", "artist": "Bob"}, freq=660.0)
    assert run(capsys, "scan", str(lib))[0] == 0
    return lib


def test_create_add_show_list_rename_delete(capsys, lib):
    code, out, _ = run(capsys, "playlists", "create", "Road Trip")
    assert code == 0 and "created playlist 'Road Trip'" in out
    code, out, err = run(capsys, "playlists", "add", "road trip", str(lib / "sub" / "b.flac"), str(lib / "a.mp3"))
    assert code == 0 and "added 2 tracks to 'Road Trip'" in out, err
    code, out, _ = run(capsys, "playlists", "show", "ROAD TRIP")
    lines = out.splitlines()
    assert lines[0].startswith("Road Trip: 2 tracks")
    assert "Bob - Bêta" in lines[1] and "Ann - Alpha" in lines[2]
    code, doc, _ = run_json(capsys, "playlists", "show", "Road Trip")
    assert [e["title"] for e in doc["entries"]] == ["Bêta", "Alpha"] and not any(e["missing"] for e in doc["entries"])
    track_id = doc["entries"][1]["track_id"]
    assert run(capsys, "playlists", "add", "Road Trip", str(track_id))[0] == 0  # a track id works too
    code, doc, _ = run_json(capsys, "playlists")
    assert [(p["name"], p["entries"]) for p in doc["playlists"]] == [("Road Trip", 3)]
    assert run(capsys, "playlists", "rename", "road trip", "Roadtrip 2026")[0] == 0
    code, _, err = run(capsys, "playlists", "delete", "Roadtrip 2026")
    assert code == 2 and "--yes" in one_error(err)
    code, doc, _ = run_json(capsys, "playlists", "delete", "Roadtrip 2026", "--yes")
    assert code == 0 and doc == {"deleted": "Roadtrip 2026", "entries": 3}
    assert "no playlists yet" in run(capsys, "playlists", "list")[1]


def test_export_then_import_round_trip(capsys, lib, tmp_path):
    run(capsys, "playlists", "create", "Mix")
    run(capsys, "playlists", "add", "Mix", str(lib / "a.mp3"), str(lib / "sub" / "b.flac"))
    out_file = tmp_path / "lists" / "Mix again.m3u8"
    out_file.parent.mkdir()
    code, doc, _ = run_json(capsys, "playlists", "export", "Mix", str(out_file))
    assert code == 0 and doc["written"] == 2
    assert out_file.read_text(encoding="utf-8").splitlines() == [
        "#EXTM3U", "#EXTINF:1,Ann - Alpha", "../music/a.mp3", "#EXTINF:1,Bob - Bêta", "../music/sub/b.flac"]
    code, out, err = run(capsys, "playlists", "import", str(out_file))
    assert code == 0 and "imported 2 of 2 entries" in out and "into 'Mix again'" in out and "utf-8" in out, err
    code, doc, _ = run_json(capsys, "playlists", "import", str(out_file), "--name", "Copy")
    assert code == 0 and doc["playlist"] == "Copy" and doc["added"] == 2 and doc["skipped"] == []


def test_import_reports_each_skipped_entry_with_its_line(capsys, lib, tmp_path):
    m3u = tmp_path / "half.m3u"
    m3u.write_text(f"#EXTM3U\n{lib / 'a.mp3'}\nhttp://example.org/x.mp3\n{lib / 'gone.mp3'}\n", encoding="utf-8")
    code, out, err = run(capsys, "playlists", "import", str(m3u))
    assert code == 0, err
    assert "imported 1 of 3 entries" in out
    assert "line 3: http://example.org/x.mp3: a URL, not a local file" in out
    assert f"line 4: {lib / 'gone.mp3'}: missing file" in out


@pytest.mark.parametrize("argv, words", [
    (["playlists", "show", "Nope"], "no playlist named 'Nope'"),
    (["playlists", "add", "Nope", "1"], "no playlist named 'Nope'"),
    (["playlists", "export", "Nope", "x.m3u8"], "no playlist named 'Nope'"),
    (["playlists", "rename", "Nope", "Other"], "no playlist named 'Nope'"),
    (["playlists", "create", "mine"], "already exists"),
    (["playlists", "rename", "Other", "MINE"], "already exists"),
    (["playlists", "add", "Mine", "NOTES"], "not in the catalog (scan its folder first)"),
    (["playlists", "add", "Mine", "424242"], "no track with id 424242"),
    (["playlists", "import", "NOTES"], "nothing imported"),
    (["playlists", "import", "AUDIO"], "binary file, not an M3U playlist"),
    (["playlists", "import", "M3U"], "a playlist named 'Mine' already exists"),
    (["playlists", "import", "NOWHERE"], "no such file"),
    (["playlists", "export", "Mine", "NOWHERE/x.m3u8"], "no such folder"),
    (["playlists", "create", "two\nlines"], "line breaks"),
    (["playlists", "create", ""], "must not be empty"),
    (["playlists", "frobnicate"], "invalid choice"),
])
def test_bad_input_is_one_line_and_a_non_zero_exit(capsys, lib, tmp_path, monkeypatch, argv, words):
    monkeypatch.chdir(tmp_path)
    run(capsys, "playlists", "create", "Mine")
    run(capsys, "playlists", "create", "Other")
    run(capsys, "playlists", "add", "Mine", str(lib / "a.mp3"))
    (tmp_path / "notes.txt").write_text("just some words\n")
    (tmp_path / "Mine.m3u8").write_text(f"{lib / 'a.mp3'}\n", encoding="utf-8")
    subst = {"NOTES": str(tmp_path / "notes.txt"), "AUDIO": str(lib / "a.mp3"), "M3U": str(tmp_path / "Mine.m3u8"),
             "NOWHERE": str(tmp_path / "nowhere")}
    argv = [subst.get(a, a.replace("NOWHERE", subst["NOWHERE"])) for a in argv]
    code, out, err = run(capsys, *argv)
    assert code not in (0, None)
    assert words in err.splitlines()[-1] and "Traceback" not in err
    assert sum("error:" in line for line in err.splitlines()) == 1
    code, doc, _ = run_json(capsys, "playlists")
    assert [(p["name"], p["entries"]) for p in doc["playlists"]] == [("Mine", 1), ("Other", 0)], "nothing lost"
