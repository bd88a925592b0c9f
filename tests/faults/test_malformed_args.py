"""Every command, every argument malformed once: one error line, a non-zero exit, nothing written.

The commands come from ``cli.main.COMMANDS`` and their arguments from each command's own argparse
parser (``cli.main.build_parser``), and from each of its actions' parsers for a command with
actions (``playlists show NAME``), so a new command or option is tried without touching this
file; one this file cannot classify fails :func:`test_every_argument_has_a_known_kind`, which says
what to add to ``KINDS``.

Malformed means, by kind: a file that does not exist, a folder where a file is expected (and the
reverse), a number that is not one (``abc``, ``nan``, ``inf``, a negative), an empty string, an
unknown profile or track, a value outside the choices.  The other arguments are valid (a real
WAV, its folder, a small npz ...).

"One line": no ``Traceback`` anywhere on stderr, and exactly one error line, the last, which
starts with ``melograph: error:`` (ours) or ``melograph COMMAND [ACTION]: error:`` (argparse's; its usage
lines may come before it).  Nothing written: each run gets a data directory that does not
exist, and it must still hold nothing afterwards -- except for a profile or track name, which
can only be judged against an existing catalog: those runs get one (with a track and a like)
and it must come out unchanged.
"""
from __future__ import annotations

import argparse
import math
import re
import sqlite3
import wave
from pathlib import Path

import numpy as np
import pytest

from cli.main import COMMANDS, build_parser
from cli.main import main as cli

#: metavar, else the option's dest -> kind of value
KINDS = {
    "FILE": "file", "TRACK": "track", "FOLDER": "folder", "NPZ": "npz", "NAME": "name", "I/K": "fold",
    "model": "model", "out": "out", "members": "run", "stack_folds": "run", "data_dir": "data-dir",
    "config": "json", "split": "split", "NEW_NAME": "new-name", "OUT_FILE": "out-file",
    "MODEL": "file", "RUN": "run",
}

#: kind -> its malformed values; MISSING, A_DIR, A_FILE, BELOW_A_FILE stand for paths (Media.path)
MALFORMED = {
    "number": ["abc", "nan", "inf", "-1", ""],
    "choice": ["no-such-choice", ""],
    "file": ["MISSING", "A_DIR", ""],
    "track": ["MISSING", "A_DIR", "", "999999"],
    "folder": ["MISSING", "A_FILE", ""],
    "npz": ["MISSING", "A_DIR", "A_FILE", ""],
    "model": ["MISSING", "A_FILE", "A_DIR", ""],
    "run": ["MISSING", "A_FILE", "A_DIR"],
    "out": ["A_FILE", "BELOW_A_FILE", ""],
    "data-dir": ["A_FILE", "BELOW_A_FILE", ""],
    "name": ["no-such-profile", ""],
    "fold": ["x", "3/2", "0/1", ""],
    "json": ["{not json", "[1, 2]"],
    "split": ["no-such-split"],
    "new-name": ["", "two\nlines"],
    "out-file": ["A_DIR", "BELOW_A_FILE", ""],
}


def _subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction | None:
    return next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)


def command_parser(name: str) -> argparse.ArgumentParser:
    """The parser of ``name``: a command (``scan``) or a command and its action (``playlists show``)."""
    words = name.split()
    parser = _subparsers(build_parser(words[0])).choices[words[0]]
    for word in words[1:]:
        parser = _subparsers(parser).choices[word]
    return parser


def command_names() -> list[str]:
    """Every command, and every action of a command that has actions (``playlists show``)."""
    out = []
    for name in COMMANDS:
        out.append(name)
        sub = _subparsers(command_parser(name))
        out += [f"{name} {action}" for action in (sub.choices if sub is not None else ())]
    return out


def arguments(name: str) -> list[argparse.Action]:
    """The arguments of command ``name`` that take a value (flags cannot be malformed)."""
    return [a for a in command_parser(name)._actions
            if a.nargs != 0 and not isinstance(a, (argparse._HelpAction, argparse._VersionAction))]


def label(action: argparse.Action) -> str:
    return action.option_strings[-1] if action.option_strings else action.metavar or action.dest


def kind_of(action: argparse.Action) -> str | None:
    if action.choices is not None:
        return "choice"
    if action.type is not None and action.type is not str:
        try:
            sample = action.type("1")
        except (argparse.ArgumentTypeError, TypeError, ValueError):
            sample = None
        if isinstance(sample, (int, float)) and not isinstance(sample, bool):
            return "number"
    key = action.metavar if isinstance(action.metavar, str) else None
    return KINDS.get(key) or KINDS.get(action.dest)


class Media:
    """The valid and the wrong things the runs point at (made once per module)."""

    def __init__(self, root: Path):
        self.root = root
        self.folder = root / "music"
        self.folder.mkdir()
        self.wav = self.folder / "tone.wav"
        t = np.arange(22050) / 22050
        with wave.open(str(self.wav), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(22050)
            w.writeframes((np.sin(2 * math.pi * 440 * t) * 8000).astype(np.int16).tobytes())
        self.text = root / "notes.txt"
        self.text.write_text("not a number, not audio, not an npz\n")
        self.npz = root / "data.npz"
        rng = np.random.default_rng(0)
        np.savez(self.npz, X=rng.normal(-40, 10, (4, 128, 40)).astype(np.float32), y=np.array([0, 1, 0, 1]),
                 genres=np.array(["rock", "jazz"]), split=np.array(["train", "train", "valid", "valid"]))
        self.empty_dir = root / "empty"
        self.empty_dir.mkdir()
        self.missing = root / "no-such-thing"

    def valid(self, kind: str, action: argparse.Action) -> str:
        return {
            "file": str(self.wav), "track": str(self.wav), "folder": str(self.folder), "npz": str(self.npz),
            "name": "default", "choice": str(next(iter(action.choices or [""]))), "new-name": "Fresh",
            "out-file": str(self.root / "out.m3u8"),
        }[kind]

    def path(self, token: str) -> str:
        return {"MISSING": str(self.missing), "A_DIR": str(self.empty_dir), "A_FILE": str(self.text),
                "BELOW_A_FILE": str(self.text / "below")}.get(token, token)


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    return Media(tmp_path_factory.mktemp("malformed"))


def cases() -> list:
    out = []
    for name in command_names():
        for action in arguments(name):
            kind = kind_of(action)
            for i, value in enumerate(MALFORMED.get(kind, [])):
                out.append(pytest.param(name, action.dest, kind, i, id=f"{name} {label(action)} {value!r}"))
    return out


def _case_argv(media: Media, name: str, dest: str, kind: str, i: int, data_dir: Path) -> list[str]:
    """``name``'s command line with argument ``dest`` malformed (its i-th bad value) and the
    others valid: every positional before it, the required ones after it, the required options."""
    acts = arguments(name)
    target = next(a for a in acts if a.dest == dest)
    bad = media.path(MALFORMED[kind][i])
    positionals = [a for a in acts if not a.option_strings]
    argv = name.split()
    if target in positionals:
        at = positionals.index(target)
        argv += [media.valid(kind_of(a), a) for a in positionals[:at]]
        argv.append(bad)
        argv += [media.valid(kind_of(a), a) for a in positionals[at + 1:] if a.nargs in (None, "+")]
    else:
        argv += [media.valid(kind_of(a), a) for a in positionals if a.nargs in (None, "+")]
        argv += [target.option_strings[0], bad]
    for a in acts:
        if a.option_strings and a.required and a is not target:
            argv += [a.option_strings[0], media.valid(kind_of(a), a)]
    if dest != "data_dir":
        argv += ["--data-dir", str(data_dir)]
    return argv


ERROR_LINE = re.compile(r"^melograph( [\w-]+){0,2}: error: \S")  # argparse's names the command and action


def assert_one_error_line(code, err: str) -> None:
    assert code not in (0, None), f"exit status {code}"
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines, "nothing on stderr"
    assert ERROR_LINE.match(lines[-1]), f"the last line is not an error line: {lines[-1]!r}"
    before = lines[:-1]
    if before:  # only argparse's usage may come before it
        assert before[0].startswith("usage: ") and all(line.startswith(" ") for line in before[1:]), err
    assert sum(bool(ERROR_LINE.match(line)) for line in lines) == 1, err


def _dump(path: Path) -> str:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return "\n".join(db.iterdump())


@pytest.fixture(scope="module")
def existing_catalog(media, tmp_path_factory):
    """A data directory with a catalog: one track, liked."""
    d = tmp_path_factory.mktemp("existing") / "data"
    assert cli(["like", str(media.wav), "--data-dir", str(d)]) == 0
    return d


def test_every_argument_has_a_known_kind():
    unknown = [f"{name} {label(a)} (metavar {a.metavar!r})" for name in command_names() for a in arguments(name)
               if kind_of(a) is None]
    assert not unknown, f"teach this test how to malform: {unknown} (add the metavar to KINDS)"


@pytest.mark.parametrize("name, dest, kind, i", cases())
def test_a_malformed_argument_gets_one_error_line_and_writes_nothing(
        name, dest, kind, i, media, existing_catalog, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MELOGRAPH_DATA_DIR", str(tmp_path / "env-data"))  # what an ignored --data-dir would use
    monkeypatch.chdir(tmp_path)  # a relative default output lands here
    needs_catalog = kind in ("name", "track") and MALFORMED[kind][i] != ""
    data_dir = existing_catalog if needs_catalog else tmp_path / "data"
    before = _dump(data_dir / "catalog.sqlite3") if needs_catalog else None
    argv = _case_argv(media, name, dest, kind, i, data_dir)
    try:
        code = cli(argv)
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    assert_one_error_line(code, err)
    if needs_catalog:
        assert _dump(data_dir / "catalog.sqlite3") == before, "the catalog changed"
    else:
        for d in (tmp_path / "data", tmp_path / "env-data"):
            assert not d.exists() or not any(d.iterdir()), f"{d} got {sorted(p.name for p in d.iterdir())}"
    assert not (tmp_path / "runs").exists()
