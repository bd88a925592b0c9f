"""What the commands share: printing a result or an error, opening the catalog, Ctrl+C.

A command reports a failure either by returning ``fail(args, message, status)`` or, from a helper
deeper down, by raising :class:`CliError`, which :func:`cli.main.main` turns into the same
one-line ``melograph: error: ...`` and exit status.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
from typing import TYPE_CHECKING, Any, Iterator

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


def open_catalog(args: argparse.Namespace) -> Catalog:
    """The catalog in ``--data-dir`` (or the default data directory); CliError when it cannot open."""
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
