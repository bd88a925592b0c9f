"""``melograph like|dislike|unlike [--profile NAME] TRACK...``: rate tracks (stored at once).

TRACK is a file path or a track id (``status``/``scan --json`` show ids).  A path that is not in
the catalog yet is read and added first.  The rating is ``--profile``'s (default: the default
profile); a profile that does not exist is refused, not created (``profiles add NAME`` does).
"""
from __future__ import annotations

import argparse
import os

from cli.common import emit, find_profile, nonempty, open_catalog, print_error
from core.catalog import DEFAULT_PROFILE, TRACK_FIELDS

VALUES = {"like": 1, "dislike": -1, "unlike": 0}
WORDS = {1: "liked", -1: "disliked", 0: "unrated"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("tracks", nargs="+", metavar="TRACK", type=nonempty, help="a file path or a track id")
    parser.add_argument("--profile", default=None, metavar="NAME", type=nonempty,
                        help="whose like it is (default: 'default'; see the profiles command)")


def _resolve(catalog, ref: str, *, add: bool = True):
    """(track, None) or (None, reason).  ``add``: read and add a file not in the catalog yet."""
    from core.errors import FileError
    from core.scanner import read_file

    path = os.path.abspath(os.path.expanduser(ref))
    track = catalog.track_by_path(path)
    if track is not None:
        return track, None
    if ref.isdigit() and not os.path.exists(path):
        track = catalog.get_track(int(ref))
        return (track, None) if track else (None, f"no track with id {ref}")
    if not os.path.exists(path):
        return None, "no such file and no such track id"
    if not add:
        return None, "not in the catalog"
    if os.path.isdir(path):
        return None, "is a folder (scan it first, then rate its tracks)"
    try:
        info = read_file(path)
    except FileError as exc:
        return None, f"cannot add it: {exc.reason}"
    # the file of a row whose file left its old path (moved/renamed since the last scan)?
    same = [t for t in catalog.tracks_by_fingerprint(info["fingerprint"]) if t.missing or not os.path.exists(t.path)]
    fields = {k: v for k, v in info.items() if k in TRACK_FIELDS}
    if same:  # the file of a missing row, moved here
        catalog.move_track(same[0].id, path, fields)
        return catalog.get_track(same[0].id), None
    return catalog.get_track(catalog.add_track(fields)), None


def run(args: argparse.Namespace) -> int:
    value = VALUES[args.command]
    done, errors = [], []
    with open_catalog(args) as catalog:
        profile = find_profile(catalog, args.profile)
        for ref in args.tracks:
            track, why = _resolve(catalog, ref, add=value != 0)
            if track is None:
                errors.append({"track": ref, "error": why})
                continue
            catalog.set_rating(track.id, value, profile=profile)
            done.append({"id": track.id, "path": track.path, "rating": catalog.rating(track.id, profile=profile),
                         "artist": track.artist, "title": track.display_title})
    who = "" if profile == DEFAULT_PROFILE else f" (profile '{profile}')"
    lines = [f"{WORDS[value]}{who}: [{d['id']}] {d['artist'] or '?'} - {d['title']} ({d['path']})" for d in done]
    if args.json:
        emit(args, {"profile": profile, "rated": done, "errors": errors})
    else:
        if lines:
            print("\n".join(lines))
        for e in errors:
            print_error(f"{e['track']}: {e['error']}")
    return 1 if errors else 0
