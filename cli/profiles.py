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

from cli.common import emit, fail, nonempty, open_catalog


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", nargs="?", default="list", choices=("list", "add", "rename", "remove"),
                        help="what to do (default: list)")
    parser.add_argument("names", nargs="*", metavar="NAME", type=nonempty, help="add NAME | rename OLD NEW | remove NAME")
    parser.add_argument("--yes", action="store_true", help="remove a profile even though it has likes")


_ARITY = {"list": 0, "add": 1, "remove": 1, "rename": 2}


def run(args: argparse.Namespace) -> int:
    from core.catalog import CatalogError
    from core.paths import data_dir
    from core.profiles import Profiles

    want = _ARITY[args.action]
    if len(args.names) != want:
        usage = {"list": "profiles [list]", "add": "profiles add NAME", "remove": "profiles remove NAME [--yes]",
                 "rename": "profiles rename OLD NEW"}[args.action]
        return fail(args, f"usage: {usage}", 2)
    catalog = open_catalog(args)
    profiles = Profiles(catalog, data_dir(args.data_dir))
    message = ""
    try:
        try:
            if args.action == "add":
                name = profiles.create(args.names[0])
                message = f"added profile '{name}': like tracks with  python main.py like --profile '{name}' TRACK"
            elif args.action == "rename":
                old = catalog.find_profile(args.names[0])
                new = profiles.rename(old, args.names[1])  # its likes and saved model follow
                message = f"renamed profile '{old}' to '{new}'"
            elif args.action == "remove":
                name = catalog.find_profile(args.names[0])
                n = next((p.liked + p.disliked for p in catalog.profiles() if p.name == name), 0)
                if n and not args.yes:
                    return fail(args, f"profile '{name}' has {n} like(s)/dislike(s), which would be deleted "
                                      "with it; add --yes to remove it anyway", 2)
                n = profiles.remove(name)
                message = f"removed profile '{name}' and its {n} like(s)/dislike(s)"
        except CatalogError as exc:
            return fail(args, str(exc), 2)
        rows = catalog.profiles()
    finally:
        catalog.close()
    lines = [message] if message else []
    if args.action == "list":
        for p in rows:
            when = time.strftime("%Y-%m-%d", time.localtime(p.created_at))
            lines.append(f"{p.name}: {p.liked} liked, {p.disliked} disliked (since {when})")
    emit(args, {"profiles": [p.as_dict() for p in rows], **({"message": message} if message else {})},
         "\n".join(lines))
    return 0
