#!/usr/bin/env python3
"""Melograph entry point.

    python main.py [FOLDER]          open the app (optionally on FOLDER)
    python main.py <command> ...     run a command-line tool (python main.py --help lists them)
"""
import os
import sys


def _has_display() -> bool:
    if os.environ.get("QT_QPA_PLATFORM"):
        return True  # the user chose a platform (offscreen, wayland, xcb ...)
    if sys.platform != "linux":
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _entry(argv: list[str]) -> int:
    from cli.main import COMMANDS, main as cli_main

    if argv and (argv[0] in COMMANDS or argv[0].startswith("-")):
        return cli_main(argv)
    if len(argv) > 1:
        print("usage: python main.py [FOLDER] | python main.py COMMAND ... (see --help)", file=sys.stderr)
        return 2
    if argv and not os.path.isdir(argv[0]):
        print(f"melograph: error: {argv[0]!r} is neither a command nor a folder (see --help)", file=sys.stderr)
        return 2
    if not _has_display():
        print(
            "melograph: error: no display to open a window on (DISPLAY is not set); "
            "the command-line tools still work: python main.py --help",
            file=sys.stderr,
        )
        return 1
    from desktop.app import main as app_main

    return app_main(argv)


if __name__ == "__main__":
    sys.exit(_entry(sys.argv[1:]))
