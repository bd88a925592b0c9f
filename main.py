#!/usr/bin/env python3
"""Melograph entry point.

    python main.py [FOLDER] [--data-dir DIR]     open the app (optionally on FOLDER)
    python main.py <command> ...                 run a command-line tool (python main.py --help lists them)

The first word that is not an option decides: a command's name runs that command, anything
else is the app's FOLDER.
"""
import argparse
import os
import sys


def _has_display() -> bool:
    if os.environ.get("QT_QPA_PLATFORM"):
        return True  # the user chose a platform (offscreen, wayland, xcb ...)
    if sys.platform != "linux":
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def main(argv: list[str] | None = None) -> int:
    from cli.common import print_error
    from core.paths import data_dir_problem
    from cli.main import COMMANDS, main as cli_main, split_common_options

    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        common, words = split_common_options(argv)
    except argparse.ArgumentError:
        return cli_main(argv)  # it reports the malformed option
    cli_only = common.json or any(word.startswith("-") for word in words)  # --help, --version, --json ...
    if cli_only or (words and words[0] in COMMANDS):
        return cli_main(argv)
    # the app: [FOLDER] and --data-dir DIR, in any order
    if len(words) > 1:
        print("usage: python main.py [FOLDER] [--data-dir DIR] | python main.py COMMAND ... (see --help)",
              file=sys.stderr)
        return 2
    if words and not os.path.isdir(words[0]):
        print_error(f"{words[0]!r} is neither a command nor a folder (see --help)")
        return 2
    # the data folder, by the commands' own rule (an empty $MELOGRAPH_DATA_DIR counts as unset)
    if common.data_dir is not None:
        where, value = "--data-dir", common.data_dir
    else:
        where, value = "$MELOGRAPH_DATA_DIR", os.environ.get("MELOGRAPH_DATA_DIR") or None
    problem = data_dir_problem(value) if value is not None else None
    if problem:
        print_error(f"{where}: {problem}")
        return 2
    if not _has_display():
        print_error("no display to open a window on (DISPLAY is not set); "
                    "the command-line tools still work: python main.py --help")
        return 1
    from desktop.app import main as app_main

    return app_main(argv)


if __name__ == "__main__":
    sys.exit(main())
