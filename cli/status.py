"""``melograph status [--profile NAME]``: what the catalog holds (likes: that profile's)."""
from __future__ import annotations

import argparse
import time

from cli.common import emit, find_profile, nonempty, open_catalog


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--failures", action="store_true", help="also list every file that could not be read")
    parser.add_argument("--profile", default=None, metavar="NAME", type=nonempty,
                        help="whose likes to count (default: 'default'; see the profiles command)")


def run(args: argparse.Namespace) -> int:
    with open_catalog(args) as catalog:
        profile = find_profile(catalog, args.profile)
        counts = catalog.counts(profile=profile)
        libraries = catalog.library_roots()
        failures = catalog.failures() if args.failures else []
        payload = {
            "catalog": str(catalog.path),
            "schema_version": catalog.schema_version,
            "profile": profile,
            **counts,
            "library_folders": [
                {"root": lib.root, "last_scanned_at": lib.last_scanned_at} for lib in libraries
            ],
        }
        if args.failures:
            payload["failure_list"] = [f.as_dict() for f in failures]

    lines = [
        f"Catalog {payload['catalog']} (schema {payload['schema_version']})",
        f"tracks {counts['tracks']}, missing {counts['missing']}, failed files {counts['failures']}",
        f"profile '{profile}': liked {counts['liked']}, disliked {counts['disliked']}"
        + (f" ({counts['profiles']} profiles: python main.py profiles)" if counts["profiles"] > 1 else ""),
    ]
    if counts["detached_ratings"]:
        lines.append(f"{counts['detached_ratings']} likes/dislikes wait for their track to come back")
    lines.append(f"library folders: {len(libraries)}")
    for lib in libraries:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(lib.last_scanned_at)) if lib.last_scanned_at else "never"
        lines.append(f"  {lib.root} (last scanned {when})")
    if args.failures and failures:
        lines.append("failed files:")
        lines += [f"  {f.path}: {f.reason} [{f.kind}]" for f in failures]
    emit(args, payload, "\n".join(lines))
    return 0
