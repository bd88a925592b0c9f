"""``melograph profiles [list | add NAME | rename OLD NEW | remove NAME --yes]``: the people
sharing this computer.

Each profile has its own likes and dislikes (``like --profile NAME``) and its own recommender
(``recommend --profile NAME``).  ``default`` always exists (likes given without ``--profile`` are
its) and cannot be renamed or removed.  Removing a profile deletes its likes, so it asks for
``--yes`` when the profile has any.
"""
from __future__ import annotations

import argparse
import time

from cli.main import emit, fail

HELP = "list, add, rename or remove profiles (each has its own likes and recommendations)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", nargs="?", default="list", choices=("list", "add", "rename", "remove"),
                        help="what to do (default: list)")
    parser.add_argument("names", nargs="*", metavar="NAME", help="add NAME | rename OLD NEW | remove NAME")
    parser.add_argument("--yes", action="store_true", help="remove a profile even though it has likes")


_ARITY = {"list": 0, "add": 1, "remove": 1, "rename": 2}


def run(args: argparse.Namespace) -> int:
    from core.catalog import Catalog, CatalogError
    from core.paths import data_dir

    want = _ARITY[args.action]
    if len(args.names) != want:
        usage = {"list": "profiles [list]", "add": "profiles add NAME", "remove": "profiles remove NAME [--yes]",
                 "rename": "profiles rename OLD NEW"}[args.action]
        return fail(args, f"usage: {usage}", 2)
    try:
        catalog = Catalog.open(args.data_dir)
    except CatalogError as exc:
        return fail(args, str(exc))
    message = ""
    try:
        try:
            if args.action == "add":
                name = catalog.add_profile(args.names[0])
                message = f"added profile '{name}': like tracks with  python main.py like --profile '{name}' TRACK"
            elif args.action == "rename":
                old = catalog.find_profile(args.names[0])
                new = catalog.rename_profile(old, args.names[1])
                _store(data_dir(args.data_dir)).rename(old, new)  # its saved model follows (a cache)
                message = f"renamed profile '{old}' to '{new}'"
            elif args.action == "remove":
                name = catalog.find_profile(args.names[0])
                n = next((p.liked + p.disliked for p in catalog.profiles() if p.name == name), 0)
                if n and not args.yes:
                    return fail(args, f"profile '{name}' has {n} like(s)/dislike(s), which would be deleted "
                                      "with it; add --yes to remove it anyway", 2)
                n = catalog.remove_profile(name)
                _store(data_dir(args.data_dir)).remove(name)
                message = f"removed profile '{name}' and its {n} like(s)/dislike(s)"
        except CatalogError as exc:
            return fail(args, str(exc), 2)
        profiles = catalog.profiles()
    finally:
        catalog.close()
    lines = [message] if message else []
    if args.action == "list":
        for p in profiles:
            when = time.strftime("%Y-%m-%d", time.localtime(p.created_at))
            lines.append(f"{p.name}: {p.liked} liked, {p.disliked} disliked (since {when})")
    emit(args, {"profiles": [p.as_dict() for p in profiles], **({"message": message} if message else {})},
         "\n".join(lines))
    return 0


def _store(path):
    from core.recommend import ProfileStore

    return ProfileStore(path)
