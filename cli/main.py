"""Melograph's command-line interface: ``python main.py <command> [options]``.

Each command lives in its own module, imported only when that command runs (so ``scan`` never
pays for TensorFlow).  A command module defines::

    HELP = "one line"
    def add_arguments(parser: argparse.ArgumentParser) -> None: ...
    def run(args: argparse.Namespace) -> int: ...          # exit status

Every command accepts ``--json`` (machine-readable output on stdout) and ``--data-dir DIR``
(or $MELOGRAPH_DATA_DIR) to use another catalog location than the user's data directory.
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys
from typing import Any

from core import __version__

# command name -> module path.  Order is the order shown in --help.
COMMANDS: dict[str, str] = {
    "scan": "cli.scan",
    "status": "cli.status",
    "analyze": "cli.analyze",
    "like": "cli.like",
    "dislike": "cli.like",
    "unlike": "cli.like",
    "recommend": "cli.recommend",
    "profiles": "cli.profiles",
    "decode-check": "cli.decode_check",
    "train-genre": "cli.train_genre",
    "evaluate-genre": "cli.evaluate_genre",
    "predict": "cli.predict",
}


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print machine-readable JSON on stdout")
    common.add_argument(
        "--data-dir",
        metavar="DIR",
        default=None,
        help="catalog location (default: $MELOGRAPH_DATA_DIR or the user's data directory)",
    )
    return common


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="melograph",
        description="Melograph: a music player that knows what it is playing. "
        "Run without a command (or with a FOLDER) to open the app.",
    )
    parser.add_argument("--version", action="version", version=f"melograph {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    common = _common()
    for name, module_path in COMMANDS.items():
        if only is not None and name != only:
            sub.add_parser(name, help=_help_of(module_path), add_help=False)
            continue
        module = importlib.import_module(module_path)
        p = sub.add_parser(name, help=getattr(module, "HELP", None), parents=[common])
        module.add_arguments(p)  # a module serving several commands reads args.command
        p.set_defaults(_module=module)
    return parser


def _help_of(module_path: str) -> str | None:
    # Cheap: help texts are not worth importing every command for.
    return None


def emit(args: argparse.Namespace, payload: Any, text: str | None = None) -> None:
    """Print ``payload`` as JSON with --json, else ``text`` (if given)."""
    if getattr(args, "json", False):
        json.dump(payload, sys.stdout, indent=2, default=str, ensure_ascii=False)
        sys.stdout.write("\n")
    elif text is not None:
        print(text)


def fail(args: argparse.Namespace, message: str, status: int = 1) -> int:
    """Report a one-line error (stderr, and as JSON on stdout with --json)."""
    print(f"melograph: error: {message}", file=sys.stderr)
    if getattr(args, "json", False):
        json.dump({"error": message}, sys.stdout)
        sys.stdout.write("\n")
    return status


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv and argv[0] in COMMANDS else None
    try:
        parser = build_parser(only=command or "")  # unknown command: no module imported, usage error
    except ModuleNotFoundError as exc:  # a command whose module is not there yet
        print(f"melograph: error: command {command!r} is not available ({exc})", file=sys.stderr)
        return 2
    if not argv:
        parser.print_usage(sys.stderr)
        return 2
    args = parser.parse_args(argv)  # exits 2 with usage on bad arguments
    if not getattr(args, "_module", None):
        parser.print_usage(sys.stderr)
        return 2
    try:
        return int(args._module.run(args) or 0)
    except KeyboardInterrupt:
        return fail(args, "interrupted", 130)
    except BrokenPipeError:
        return 0
