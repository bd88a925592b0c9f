"""``melograph recommend [--profile NAME] [--top N] [--json]``: tracks you may like, with reasons.

Learns from the likes and dislikes in the catalog (``like`` / ``dislike``) over the analysed
tracks' window embeddings (``analyze``), and prints the best-scored tracks you have not rated,
each with its three nearest liked tracks and its main genres.  Each profile learns from its own
likes; its model is kept in ``<data dir>/profiles/<NAME>/`` and retrained when its likes change
(rebuilt from them if the file is corrupt).
"""
from __future__ import annotations

import argparse

from cli.common import emit, fail, nonempty, number, open_catalog


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", default=None, metavar="NAME", type=nonempty,
                        help="whose recommendations (default: 'default'); each profile keeps its own model")
    parser.add_argument("--top", type=number(int, low=1), default=20, metavar="N", help="how many tracks (default 20)")


def _label(track) -> str:
    if track is None:
        return "?"
    return f"{track.artist or 'Unknown artist'} - {track.display_title}"


def run(args: argparse.Namespace) -> int:
    from core.paths import data_dir
    from core.recommend import RecommenderError, UnknownProfile, recommend_from_catalog
    from models.card import ModelError, model_version

    if args.top < 1:
        return fail(args, "--top must be at least 1", 2)
    try:
        version = model_version()  # the genre model's embeddings, when the catalog has its results
    except ModelError:
        version = None  # no readable card: the version with the most results
    catalog = open_catalog(args)
    try:
        try:
            ranking, info = recommend_from_catalog(catalog, data_dir(args.data_dir), profile=args.profile,
                                                   top=args.top, model_version=version)
        except UnknownProfile as exc:
            return fail(args, str(exc), 2)
        except RecommenderError as exc:
            return fail(args, str(exc))
        tracks = {}
        for tid in {r.track_id for r in ranking} | {t for r in ranking for t, _ in r.nearest_liked}:
            tracks[tid] = catalog.get_track(tid)
    finally:
        catalog.close()

    items = []
    for rank, r in enumerate(ranking, 1):
        t = tracks.get(r.track_id)
        d = r.as_dict()
        d.update(rank=rank, path=t.path if t else None, artist=t.artist if t else None,
                 title=t.display_title if t else None, album=t.album if t else None)
        for n in d["nearest_liked"]:
            lt = tracks.get(n["track_id"])
            n.update(artist=lt.artist if lt else None, title=lt.display_title if lt else None)
        items.append(d)
    payload = {**info, "recommendations": items, "candidates": ranking.candidates,
               "duplicates_hidden": ranking.duplicates_hidden}

    model_words = {"loaded": "saved model", "trained": "model trained now", "rebuilt": "model rebuilt (the saved one was unreadable)"}
    lines = [f"Recommendations for profile '{info['profile']}' from {info['liked']} liked and {info['disliked']} "
             f"disliked tracks ({model_words.get(info['model'], info['model'])}):"]
    for rank, r in enumerate(ranking, 1):
        genres = ", ".join(f"{g} {p:.0%}" for g, p in r.genres)
        near = "; ".join(f"{_label(tracks.get(t))} ({s:.2f})" for t, s in r.nearest_liked)
        lines.append(f"{rank:3d}. {_label(tracks.get(r.track_id))}  [score {r.score:.2f}]")
        lines.append(f"     because you like: {near}")
        if genres:
            lines.append(f"     genres: {genres}")
    notes = []
    if info["not_analysed"]:
        notes.append(f"{info['not_analysed']} track(s) not analysed yet were left out (python main.py analyze)")
    if info["liked_not_analysed"]:
        notes.append(f"{info['liked_not_analysed']} liked track(s) not analysed yet were not used")
    lines += [f"note: {n}" for n in notes]
    emit(args, payload, "\n".join(lines))
    return 0
