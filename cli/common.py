"""What the commands share: printing a result or an error, the argument types, opening the
catalog, Ctrl+C.

A command reports a failure either by returning ``fail(args, message, status)`` or, from a helper
deeper down, by raising :class:`CliError`, which :func:`cli.main.main` turns into the same
one-line ``melograph: error: ...`` and exit status.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from core.paths import data_dir_problem

if TYPE_CHECKING:
    from core.catalog import Catalog


class CliError(Exception):
    """A one-line error for the user, and the exit status that goes with it."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.message = message
        self.status = status


def emit(args: argparse.Namespace, payload: Any, text: str | None = None) -> None:
    """Print ``payload`` as JSON with --json, else ``text`` (if given)."""
    if args.json:
        json.dump(payload, sys.stdout, indent=2, default=str, ensure_ascii=False)
        sys.stdout.write("\n")
    elif text is not None:
        print(text)


def shown(name: str) -> str:
    """``name`` (a path) as printed on a line of its own kind: as it is, or quoted and escaped
    like a Python string when it holds a newline or another character that does not print, so
    that one track stays one line."""
    return name if name.isprintable() else repr(name)


def print_error(message: str) -> None:
    """``melograph: error: message`` on stderr."""
    print(f"melograph: error: {message}", file=sys.stderr)


def fail(args: argparse.Namespace, message: str, status: int = 1) -> int:
    """Report a one-line error (stderr, and as JSON on stdout with --json); returns ``status``."""
    print_error(message)
    if args.json:
        json.dump({"error": message}, sys.stdout)
        sys.stdout.write("\n")
    return status


# --------------------------------------------------------------------------------------------
# argument types: a malformed value is refused while the command line is parsed, in one line
# ("melograph COMMAND: error: argument --top: must be at least 1, got -1", exit status 2; see
# cli.main), before any file, catalog or model is opened
# --------------------------------------------------------------------------------------------


def nonempty(value: str) -> str:
    """A name or path that must not be empty (an empty one would quietly mean "the default" or
    "the current folder")."""
    if not value.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return value


def number(kind: type = int, *, low: float | None = None, high: float | None = None,
           above: float | None = None, odd: bool = False):
    """An argparse type: a finite ``kind`` (int or float) >= ``low``, > ``above``, <= ``high``."""

    def parse(value: str):
        try:
            n = kind(value)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected {'a whole number' if kind is int else 'a number'}, got {value!r}") from None
        if kind is float and not math.isfinite(n):
            raise argparse.ArgumentTypeError(f"expected a finite number, got {value!r}")
        if low is not None and high is not None and not low <= n <= high:
            raise argparse.ArgumentTypeError(f"must be between {low:g} and {high:g}, got {value}")
        if low is not None and n < low:
            raise argparse.ArgumentTypeError(f"must be at least {low:g}, got {value}")
        if above is not None and n <= above:
            raise argparse.ArgumentTypeError(f"must be more than {above:g}, got {value}")
        if high is not None and n > high:
            raise argparse.ArgumentTypeError(f"must be at most {high:g}, got {value}")
        if odd and n % 2 == 0:
            raise argparse.ArgumentTypeError(f"must be odd, got {value}")
        return n

    parse.__name__ = kind.__name__
    return parse


def data_dir_arg(value: str) -> str:
    """The argparse type of ``--data-dir`` (see :func:`data_dir_problem`)."""
    problem = data_dir_problem(value)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return value


def existing_file(value: str) -> str:
    """A path that must name an existing file (not a folder)."""
    nonempty(value)
    if os.path.isdir(value):
        raise argparse.ArgumentTypeError(f"{value}: a folder, not a file")
    if not os.path.lexists(value):
        raise argparse.ArgumentTypeError(f"{value}: no such file")
    return value


def existing_folder(value: str) -> str:
    """A path that must name an existing folder."""
    nonempty(value)
    if not os.path.isdir(value):
        raise argparse.ArgumentTypeError(f"{value}: {'not a folder' if os.path.lexists(value) else 'no such folder'}")
    return value


def new_or_folder(value: str) -> str:
    """An output folder: an existing folder, or a path where one can be made."""
    nonempty(value)
    problem = data_dir_problem(value)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return value


def open_catalog(args: argparse.Namespace) -> Catalog:
    """The catalog in ``--data-dir`` (or the default data directory); CliError when it cannot open
    (a data folder that cannot be used raises ``core.paths.DataDirError``, a one-line error too)."""
    from core.catalog import Catalog, CatalogError  # here: --help and main.py's app path do not need it

    try:
        return Catalog.open(args.data_dir)
    except CatalogError as exc:
        raise CliError(str(exc)) from exc


def find_profile(catalog: Catalog, name: str | None) -> str:
    """The profile ``--profile NAME`` names (the default one for None); CliError (status 2) if none."""
    from core.catalog import CatalogError

    try:
        return catalog.find_profile(name)
    except CatalogError as exc:
        raise CliError(str(exc), 2) from exc


def music_folder(path: str) -> str:
    """``path`` made absolute; CliError when it is not an existing folder."""
    if not path.strip():
        raise CliError("the folder must not be empty")
    folder = os.path.abspath(os.path.expanduser(path))
    if not os.path.isdir(folder):
        raise CliError(f"{folder} {'does not exist' if not os.path.exists(folder) else 'is not a folder'}")
    return folder


@contextlib.contextmanager
def cancel_on_ctrl_c() -> Iterator[threading.Event]:
    """An event that Ctrl+C sets (instead of raising KeyboardInterrupt) while the block runs, so a
    long job stops cleanly and keeps what it finished.  Outside the main thread nothing sets it."""
    cancel = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield cancel
        return
    previous = signal.signal(signal.SIGINT, lambda *_: cancel.set())
    try:
        yield cancel
    finally:
        signal.signal(signal.SIGINT, previous)
