"""``melograph scan FOLDER``: add a music folder to the catalog, or bring it up to date."""
from __future__ import annotations

import argparse
import sys
import time

from cli.common import CliError, cancel_on_ctrl_c, emit, music_folder, open_catalog


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", metavar="FOLDER", help="the music folder to scan (recursively)")
    parser.add_argument("--quiet", action="store_true", help="no progress line on stderr")


def run(args: argparse.Namespace) -> int:
    folder = music_folder(args.folder)
    show = not args.json and not args.quiet and sys.stderr.isatty()
    last = [0.0]

    def progress(p):
        now = time.monotonic()
        if now - last[0] < 0.1 and p.done != p.total:
            return
        last[0] = now
        if p.phase == "walk":
            sys.stderr.write(f"\rlooking for music... {p.path[-60:]:<60}")
        else:
            sys.stderr.write(f"\rreading {p.done}/{p.total} {' ' * 50}")
        sys.stderr.flush()

    with open_catalog(args) as catalog, cancel_on_ctrl_c() as cancel:
        try:
            result = scan_folder(catalog, folder, progress=progress if show else None, cancel=cancel)
        finally:
            if show:
                sys.stderr.write("\r" + " " * 80 + "\r")
    emit(args, result.as_dict(), _text(result))
    return 130 if result.cancelled else 0


def scan_folder(catalog, folder: str, **kwargs):
    """``core.scanner.scan`` with its FileError (the folder cannot be read) as a CliError."""
    from core.errors import FileError
    from core.scanner import scan

    try:
        return scan(catalog, folder, **kwargs)
    except FileError as exc:
        raise CliError(str(exc)) from exc


def _text(result) -> str:
    c = result.counts()
    lines = [
        f"Scanned {result.root}: {result.files} audio files in {result.seconds:.1f} s"
        + (" (cancelled: nothing was marked missing)" if result.cancelled else ""),
        f"added {c['added']}, updated {c['updated']}, unchanged {c['unchanged']}, moved {c['moved']}, "
        f"restored {c['restored']}, missing {c['missing']}, failed {c['failed']}",
    ]
    if result.failures:
        lines.append("failed:")
        lines += [f"  {f['path']}: {f['reason']} [{f['kind']}]" for f in result.failures]
    return "\n".join(lines)
