"""``melograph scan FOLDER``: add a music folder to the catalog, or bring it up to date."""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time

from cli.main import emit, fail

HELP = "scan a music folder into the catalog (new, changed, moved and missing files)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", metavar="FOLDER", help="the music folder to scan (recursively)")
    parser.add_argument("--quiet", action="store_true", help="no progress line on stderr")


def run(args: argparse.Namespace) -> int:
    from core.catalog import Catalog, CatalogError
    from core.errors import FileError
    from core.scanner import scan

    folder = os.path.abspath(os.path.expanduser(args.folder))
    if not os.path.isdir(folder):
        why = "does not exist" if not os.path.exists(folder) else "is not a folder"
        return fail(args, f"{folder} {why}")
    try:
        catalog = Catalog.open(args.data_dir)
    except CatalogError as exc:
        return fail(args, str(exc))

    cancel = threading.Event()
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, lambda *_: cancel.set())
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

    try:
        result = scan(catalog, folder, progress=progress if show else None, cancel=cancel)
    except FileError as exc:
        return fail(args, str(exc))
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        catalog.close()
        if show:
            sys.stderr.write("\r" + " " * 80 + "\r")
    emit(args, result.as_dict(), _text(result))
    return 130 if result.cancelled else 0


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
