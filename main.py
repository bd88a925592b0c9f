#!/usr/bin/env python3
"""Melograph entry point.

    python main.py [FOLDER]          open the app (optionally on FOLDER)
    python main.py <command> ...     run a command-line tool (python main.py --help lists them)
"""
import sys


def _entry(argv: list[str]) -> int:
    from core.cli import COMMANDS, main as cli_main

    if argv and (argv[0] in COMMANDS or argv[0] in ("-h", "--help", "--version")):
        return cli_main(argv)
    if argv and argv[0].startswith("-") and argv[0] not in ("--data-dir",):
        return cli_main(argv)  # unknown option: the CLI prints usage and exits 2
    from desktop.app import main as app_main

    return app_main(argv)


if __name__ == "__main__":
    sys.exit(_entry(sys.argv[1:]))
