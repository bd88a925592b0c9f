"""Melograph's command-line interface: ``python main.py <command> [options]``.

Each command lives in its own module, listed with its one-line help in :data:`COMMANDS` and
imported only when that command runs (so ``--help`` and ``scan`` never pay for TensorFlow).  A
command module defines::

    def add_arguments(parser: argparse.ArgumentParser) -> None: ...
    def run(args: argparse.Namespace) -> int: ...          # exit status

Every command accepts ``--json`` (machine-readable output on stdout) and ``--data-dir DIR`` (or
$MELOGRAPH_DATA_DIR) to use another catalog location than the user's data directory, before or
after the command's name (``melograph --data-dir D scan F`` = ``melograph scan --data-dir D F``;
given in both places, the one after the name wins).
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import NamedTuple

from cli.common import CliError, data_dir_arg, fail
from core import __version__
from core.errors import MelographError


class Command(NamedTuple):
    module: str  # the module that defines add_arguments and run
    help: str  # the line --help shows


# Order is the order shown in --help.  like, dislike and unlike share a module (it reads args.command).
COMMANDS: dict[str, Command] = {
    "scan": Command("cli.scan", "scan a music folder into the catalog (new, changed, moved and missing files)"),
    "status": Command("cli.status", "show the catalog: tracks, missing, likes, failures, library folders"),
    "analyze": Command("cli.analyze", "analyse the genres of the library (scans FOLDER first when given)"),
    "like": Command("cli.like", "like tracks (TRACK is a file path or a track id)"),
    "dislike": Command("cli.like", "dislike tracks (TRACK is a file path or a track id)"),
    "unlike": Command("cli.like", "take back a like or dislike (TRACK is a file path or a track id)"),
    "recommend": Command("cli.recommend", "recommend tracks from your likes, with the reasons "
                                          "(needs analysed tracks)"),
    "profiles": Command("cli.profiles", "list, add, rename or remove profiles (each has its own likes and "
                                        "recommendations)"),
    "playlists": Command("cli.playlists", "list, show, create, add to, import (M3U/M3U8), export, rename or "
                                          "delete playlists"),
    "decode-check": Command("cli.decode_check", "decode audio files (as analysis does) and print format, rate, channels, "
                                                "duration, level"),
    "train-genre": Command("cli.train_genre", "train a genre model (or combine trained runs into an ensemble) and "
                                              "write its card"),
    "train-music": Command("cli.train_music", "train the music / not-music detector (needs espeak-ng) and write "
                                              "its card"),
    "evaluate-genre": Command("cli.evaluate_genre", "evaluate a genre model on an npz of log-mels (track-level "
                                                    "accuracy, macro-F1, confusion)"),
    "predict": Command("cli.predict", "print the genre distribution of audio files, whole track and per window"),
    "catalog": Command("cli.catalog", "check the catalog for damage, back it up, or restore a backup (keeping "
                                      "newer likes)"),
}


def _add_common_options(parser: argparse.ArgumentParser, *, after_command: bool, check: bool = True) -> None:
    """--json and --data-dir.  After the command's name they default to SUPPRESS, so that a value
    given before the name is kept unless the same option is given again after it.  ``check``:
    refuse a --data-dir that cannot be the data folder (cli.common.data_dir_arg)."""
    unset = {"default": argparse.SUPPRESS} if after_command else {}
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON on stdout", **unset)
    parser.add_argument("--data-dir", metavar="DIR", **unset, **({"type": data_dir_arg} if check else {}),
                        help="catalog location (default: $MELOGRAPH_DATA_DIR or the user's data directory)")


def split_common_options(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    """``argv``'s common options (--json, --data-dir, wherever they stand) and the rest, in order.
    Raises ``argparse.ArgumentError`` for a malformed one (``--data-dir`` without a value); the
    value itself is checked by the command's parser."""
    parser = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    _add_common_options(parser, after_command=False, check=False)
    return parser.parse_known_args(argv)


def command_of(argv: list[str]) -> str | None:
    """The first word of ``argv`` that is neither an option nor a common option's value: the
    command's name when ``argv`` is a well-formed command line."""
    try:
        _, rest = split_common_options(argv)
    except argparse.ArgumentError:
        return None
    return next((word for word in rest if not word.startswith("-")), None)


class Parser(argparse.ArgumentParser):
    """argparse's parser, with a refused value told in one line (``melograph scan: error:
    argument --data-dir: ...``, exit status 2).  The usage is printed for a command line that
    does not fit (an argument missing or unknown), not for a wrong number or path."""

    def __init__(self, *args, **kwargs):
        kwargs["exit_on_error"] = False  # ArgumentError reaches parse_known_args below
        super().__init__(*args, **kwargs)

    def parse_known_args(self, args=None, namespace=None):
        try:
            return super().parse_known_args(args, namespace)
        except argparse.ArgumentError as err:
            self.exit(2, f"{self.prog}: error: {err}\n")


def build_parser(command: str | None) -> argparse.ArgumentParser:
    """The parser with ``command``'s arguments.  Only that command's module is imported: the
    others show their name and help line in --help, but their arguments are not known."""
    parser = Parser(
        prog="melograph",
        description="Melograph: a music player that knows what it is playing. "
        "Run without a command (or with a FOLDER) to open the app.",
    )
    parser.add_argument("--version", action="version", version=f"melograph {__version__}")
    _add_common_options(parser, after_command=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_line) in COMMANDS.items():
        if name != command:
            sub.add_parser(name, help=help_line, add_help=False)
            continue
        module = importlib.import_module(module_name)
        p = sub.add_parser(name, help=help_line)
        _add_common_options(p, after_command=True)
        module.add_arguments(p)
        p.set_defaults(_module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(command_of(argv))
    if not argv:
        parser.print_usage(sys.stderr)
        return 2
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # 2 after a usage error (told on stderr), 0 after --help / --version
        return exc.code if isinstance(exc.code, int) else 0
    if "_module" not in args:
        parser.print_usage(sys.stderr)
        return 2
    try:
        return int(args._module.run(args) or 0)
    except CliError as exc:
        return fail(args, exc.message, exc.status)
    except MelographError as exc:  # the catalog's, a file's, the recommender's: one sentence each
        return fail(args, str(exc))
    except KeyboardInterrupt:
        return fail(args, "interrupted", 130)
    except BrokenPipeError:
        return 0
