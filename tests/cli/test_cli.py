"""The command line a user types: --help, the common options, scan, status, like/dislike/unlike,
bad arguments, and main.py telling a command from the app's FOLDER."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.clirun import run, run_json
from tests import media

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def lib(tmp_path, ffmpeg):
    lib = tmp_path / "music"
    media.make(lib / "a.mp3", tags={"title": "Alpha", "artist": "Ann"})
    media.make(lib / "sub" / "b.flac", tags={"title": "Beta", "artist": "Bob"})
    media.make_text_as(lib / "notes.mp3")
    return lib


def test_scan_prints_counts_and_each_failure(capsys, data_dir, lib):
    code, out, err = run(capsys, "scan", str(lib))
    assert code == 0, err
    assert "added 2, updated 0, unchanged 0, moved 0, restored 0, missing 0, failed 1" in out
    assert f"{lib / 'notes.mp3'}: not audio: a text file" in out
    code, out, _ = run(capsys, "scan", str(lib))
    assert "added 0, updated 0, unchanged 2" in out and "failed 1" in out


def test_scan_json_is_machine_readable(capsys, data_dir, lib):
    code, doc, _ = run_json(capsys, "scan", str(lib))
    assert code == 0
    assert {k: doc[k] for k in ("added", "updated", "unchanged", "moved", "missing", "failed")} == {
        "added": 2, "updated": 0, "unchanged": 0, "moved": 0, "missing": 0, "failed": 1}
    (f,) = doc["failures"]
    assert f["path"] == str(lib / "notes.mp3") and f["kind"] == "unsupported" and f["reason"]


def test_scan_a_folder_that_does_not_exist_fails_clearly(capsys, data_dir, tmp_path):
    code, out, err = run(capsys, "scan", str(tmp_path / "nope"))
    assert code != 0 and "does not exist" in err
    code, doc, _ = run_json(capsys, "scan", str(tmp_path / "nope"))
    assert code != 0 and "does not exist" in doc["error"]


@pytest.mark.parametrize("argv", [["scan"], ["scan", "a", "b"], ["scan", "--frobnicate", "x"],
                                  ["like"], ["unlike"], ["status", "extra"], ["like", "--json"]])
def test_bad_arguments_print_usage_and_fail(capsys, data_dir, argv):
    code, out, err = run(capsys, *argv)
    assert code not in (0, None)
    assert "usage:" in err


def test_data_dir_option_and_environment(capsys, tmp_path, monkeypatch, lib):
    monkeypatch.delenv("MELOGRAPH_DATA_DIR", raising=False)
    elsewhere = tmp_path / "elsewhere"
    code, _, _ = run(capsys, "scan", str(lib), "--data-dir", str(elsewhere))
    assert code == 0 and (elsewhere / "catalog.sqlite3").exists()
    code, doc, _ = run_json(capsys, "status", "--data-dir", str(elsewhere))
    assert doc["tracks"] == 2 and doc["catalog"] == str(elsewhere / "catalog.sqlite3")


def test_status_counts(capsys, data_dir, lib):
    run(capsys, "scan", str(lib))
    run(capsys, "like", str(lib / "a.mp3"))
    code, out, _ = run(capsys, "status", "--failures")
    assert code == 0
    assert "tracks 2, missing 0, failed files 1" in out and "profile 'default': liked 1, disliked 0" in out
    assert str(lib) in out and "not audio" in out
    code, doc, _ = run_json(capsys, "status")
    from core.catalog import MIGRATIONS

    assert (doc["tracks"], doc["liked"], doc["failures"]) == (2, 1, 1)
    assert doc["schema_version"] == len(MIGRATIONS)
    assert doc["library_folders"][0]["root"] == str(lib)


def test_like_dislike_unlike_by_path_and_id(capsys, data_dir, lib):
    run(capsys, "scan", str(lib))
    code, doc, _ = run_json(capsys, "like", str(lib / "a.mp3"))
    assert code == 0 and doc["rated"][0]["rating"] == 1
    tid = doc["rated"][0]["id"]
    code, out, _ = run(capsys, "dislike", str(tid))
    assert code == 0 and out.startswith("disliked:") and "Ann - Alpha" in out
    assert run_json(capsys, "status")[1]["disliked"] == 1
    code, out, _ = run(capsys, "unlike", str(tid))
    assert code == 0 and run_json(capsys, "status")[1]["disliked"] == 0


def test_like_of_an_unknown_track_fails_but_rates_the_others(capsys, data_dir, lib, tmp_path):
    run(capsys, "scan", str(lib))
    code, out, err = run(capsys, "like", "999", str(tmp_path / "nope.mp3"), str(lib / "sub" / "b.flac"))
    assert code == 1
    assert "no track with id 999" in err and "no such file" in err
    assert "liked:" in out and "Bob - Beta" in out
    code, out, err = run(capsys, "like", str(lib / "notes.mp3"))
    assert code == 1 and "cannot add it: not audio" in err
    media.make(lib / "new.ogg")
    code, out, err = run(capsys, "unlike", str(lib / "new.ogg"))  # nothing to unrate: not added
    assert code == 1 and "not in the catalog" in err
    assert run_json(capsys, "status")[1]["tracks"] == 2


def test_like_a_file_not_scanned_yet_adds_it(capsys, data_dir, lib):
    code, doc, _ = run_json(capsys, "like", str(lib / "a.mp3"))
    assert code == 0 and doc["rated"][0]["title"] == "Alpha"
    assert run_json(capsys, "status")[1]["liked"] == 1
    code, doc, _ = run_json(capsys, "scan", str(lib))
    assert doc["added"] == 1 and doc["unchanged"] == 1  # the liked one is not added twice


def test_a_like_survives_a_move_and_rescan(capsys, data_dir, lib):
    run(capsys, "scan", str(lib))
    run(capsys, "like", str(lib / "a.mp3"))
    (lib / "moved" / "deep").mkdir(parents=True)
    shutil.move(lib / "a.mp3", lib / "moved" / "deep" / "renamed.mp3")
    code, doc, _ = run_json(capsys, "scan", str(lib))
    assert doc["moved"] == 1 and doc["added"] == 0 and doc["missing"] == 0
    status = run_json(capsys, "status")[1]
    assert status["liked"] == 1 and status["tracks"] == 2
    # and liking the moved file again finds the same track
    code, doc, _ = run_json(capsys, "like", str(lib / "moved" / "deep" / "renamed.mp3"))
    assert run_json(capsys, "status")[1]["liked"] == 1


def test_main_py_entry_point(tmp_path, lib):
    env = dict(os.environ, MELOGRAPH_DATA_DIR=str(tmp_path / "d"))
    p = subprocess.run([sys.executable, "main.py", "scan", str(lib), "--json"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["added"] == 2
    p = subprocess.run([sys.executable, "main.py", "scan"], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 2 and "usage:" in p.stderr


def test_likes_are_per_profile_from_the_command_line(capsys, data_dir, lib):
    run(capsys, "scan", str(lib))
    code, out, err = run(capsys, "like", "--profile", "Anna", str(lib / "a.mp3"))
    assert code == 2 and "no profile named 'Anna'" in err and "profiles add" in err  # refused, not guessed
    assert run_json(capsys, "status")[1]["liked"] == 0
    code, out, _ = run(capsys, "profiles", "add", "Anna")
    assert code == 0 and "added profile 'Anna'" in out
    code, doc, _ = run_json(capsys, "like", "--profile", "anna", str(lib / "a.mp3"))  # any case
    assert code == 0 and doc["profile"] == "Anna" and doc["rated"][0]["rating"] == 1
    code, out, _ = run(capsys, "dislike", str(lib / "sub" / "b.flac"))  # no --profile: the default one
    assert code == 0 and out.startswith("disliked:")
    anna, default = run_json(capsys, "status", "--profile", "Anna")[1], run_json(capsys, "status")[1]
    assert (anna["profile"], anna["liked"], anna["disliked"]) == ("Anna", 1, 0)
    assert (default["profile"], default["liked"], default["disliked"]) == ("default", 0, 1)
    code, out, _ = run(capsys, "profiles")
    assert code == 0 and "default: 0 liked, 1 disliked" in out and "Anna: 1 liked, 0 disliked" in out
    # renaming keeps the likes; removing one with likes needs --yes; default stays
    assert run(capsys, "profiles", "rename", "Anna", "Anna K")[0] == 0
    assert run_json(capsys, "status", "--profile", "Anna K")[1]["liked"] == 1
    code, _, err = run(capsys, "profiles", "remove", "Anna K")
    assert code == 2 and "--yes" in err and run_json(capsys, "status", "--profile", "Anna K")[1]["liked"] == 1
    code, doc, _ = run_json(capsys, "profiles", "remove", "Anna K", "--yes")
    assert code == 0 and [p["name"] for p in doc["profiles"]] == ["default"]
    code, _, err = run(capsys, "profiles", "remove", "default", "--yes")
    assert code == 2 and "cannot be removed" in err
    assert run(capsys, "profiles", "add", "../evil")[0] == 2
    assert run(capsys, "profiles", "add")[0] == 2  # usage
    code, _, err = run(capsys, "recommend", "--profile", "Nobody")
    assert code == 2 and "no profile named 'Nobody'" in err


# --- --help, the common options, main.py ------------------------------------------------------

def test_help_lists_every_command_with_its_line(capsys):
    from cli.main import COMMANDS

    code, out, _ = run(capsys, "--help")
    assert code == 0
    flat = " ".join(out.split())  # argparse wraps the help lines
    for name, command in COMMANDS.items():
        assert f" {name} {command.help}" in flat


def test_help_and_scan_do_not_load_tensorflow_or_qt(tmp_path):
    code = ("import sys\nfrom cli.main import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "main(['scan', sys.argv[1], '--data-dir', sys.argv[2], '--json'])\n"
            "print([m for m in ('tensorflow', 'PySide6', 'ai_edge_litert') if m in sys.modules])")
    p = subprocess.run([sys.executable, "-c", code, str(tmp_path), str(tmp_path / "d")], cwd=ROOT,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[-1] == "[]"


@pytest.mark.parametrize("argv", [
    ["--data-dir", "{d}", "scan", "{music}"],
    ["scan", "--data-dir", "{d}", "{music}"],
    ["scan", "{music}", "--data-dir", "{d}"],
    ["--data-dir", "{elsewhere}", "scan", "--data-dir", "{d}", "{music}"],  # the one after the command wins
])
def test_data_dir_before_or_after_the_command(capsys, tmp_path, monkeypatch, argv):
    monkeypatch.setenv("MELOGRAPH_DATA_DIR", str(tmp_path / "default"))
    music = tmp_path / "music"
    music.mkdir()
    names = {"d": tmp_path / "d", "music": music, "elsewhere": tmp_path / "elsewhere"}
    code, out, err = run(capsys, *[a.format(**names) for a in argv])
    assert code == 0, err
    assert (tmp_path / "d" / "catalog.sqlite3").exists()
    assert not (tmp_path / "default").exists() and not (tmp_path / "elsewhere").exists()
    code, doc, _ = run_json(capsys, "status", "--data-dir", str(tmp_path / "d"))
    assert [lib["root"] for lib in doc["library_folders"]] == [str(music)]


@pytest.mark.parametrize("argv", [["--json", "status"], ["status", "--json"], ["--json", "status", "--json"]])
def test_json_before_or_after_the_command(capsys, data_dir, argv):
    code, out, _ = run(capsys, *argv)
    assert code == 0 and json.loads(out)["catalog"] == str(data_dir / "catalog.sqlite3")


def test_an_error_is_json_whichever_side_json_is_on(capsys, data_dir, tmp_path):
    for argv in (["--json", "scan", str(tmp_path / "nope")], ["scan", str(tmp_path / "nope"), "--json"]):
        code, out, err = run(capsys, *argv)
        assert code == 1 and "does not exist" in json.loads(out)["error"]
        assert err.startswith("melograph: error: ") and "does not exist" in err


@pytest.fixture
def app_argv(monkeypatch):
    """main.py with the app replaced by a recorder of the argv it receives."""
    import desktop.app

    seen = []
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")  # a display to open a window on
    monkeypatch.setattr(desktop.app, "main", lambda argv: seen.append(argv) or 0)
    return seen


@pytest.mark.parametrize("argv", [["{folder}", "--data-dir", "{d}"], ["--data-dir", "{d}", "{folder}"],
                                  ["--data-dir={d}", "{folder}"]])
def test_main_py_gives_folder_and_data_dir_to_the_app_in_any_order(tmp_path, app_argv, argv):
    from desktop.app import parse_args
    from main import main

    argv = [a.format(folder=tmp_path, d=tmp_path / "d") for a in argv]
    assert main(argv) == 0
    assert app_argv == [argv]
    args = parse_args(app_argv[0])
    assert (args.folder, args.data_dir) == (str(tmp_path), str(tmp_path / "d"))


def test_main_py_opens_the_app_with_only_a_data_dir(tmp_path, app_argv):
    from main import main

    assert main(["--data-dir", str(tmp_path)]) == 0 and app_argv == [["--data-dir", str(tmp_path)]]
    assert main([]) == 0 and app_argv[-1] == []


def test_main_py_runs_a_command_whatever_the_option_order(capsys, tmp_path, app_argv):
    from main import main

    assert main(["--data-dir", str(tmp_path / "d"), "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["catalog"] == str(tmp_path / "d" / "catalog.sqlite3")
    assert main(["--json", "--data-dir", str(tmp_path / "d"), "status"]) == 0
    assert json.loads(capsys.readouterr().out)["tracks"] == 0
    assert app_argv == []


def test_main_py_refuses_what_is_neither_a_command_nor_a_folder(capsys, tmp_path, app_argv):
    from main import main

    assert main([str(tmp_path / "nope"), "--data-dir", str(tmp_path)]) == 2
    assert "is neither a command nor a folder" in capsys.readouterr().err
    assert main([str(tmp_path), str(tmp_path)]) == 2
    assert "usage:" in capsys.readouterr().err
    assert app_argv == []


def test_ctrl_c_during_a_long_job_asks_it_to_stop_and_afterwards_interrupts_again():
    import signal

    from cli.common import cancel_on_ctrl_c

    # Python's own Ctrl+C handler, as in a terminal (a job started in the background of a
    # non-interactive shell inherits SIGINT ignored, and the context restores what it found)
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        try:
            with cancel_on_ctrl_c() as cancel:
                signal.raise_signal(signal.SIGINT)
        except KeyboardInterrupt:
            pytest.fail("Ctrl+C interrupted the job instead of asking it to stop")
        assert cancel.is_set()
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
    finally:
        signal.signal(signal.SIGINT, before)
