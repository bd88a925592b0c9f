"""The listening history as the recommender's weak signals (a full play a weak positive, a skip a
weak negative): what they change in a ranking, and how the catalog's history becomes them."""
from __future__ import annotations

import dataclasses

import numpy as np

from core.recommend import Recommender, RecommenderConfig
from core.recommend.library import listening_signals
from tests.core.recommend.test_recommender import FAST, liked_of, library


def _mean_score(rec, vectors, cluster, c):
    scores = rec.score(vectors)
    return float(np.mean(scores[cluster == c]))


def test_plays_pull_their_kind_up_and_skips_push_theirs_down():
    vectors, cluster = library()
    liked = liked_of(cluster, 2, 5)
    played = liked_of(cluster, 4, 5)  # played through, never liked
    skipped = liked_of(cluster, 2, 5, offset=5)  # skipped: of the liked kind
    on = dataclasses.replace(FAST, play_weight=0.5, skip_weight=1.0)
    plain = Recommender(FAST).fit(vectors, liked, seed=0, played_ids=played, skipped_ids=skipped)
    weak = Recommender(on).fit(vectors, liked, seed=0, played_ids=played, skipped_ids=skipped)
    assert plain.info["played_used"] == 0 and plain.info["skipped_used"] == 0  # weights 0: not used
    assert weak.info["played_used"] == 5 and weak.info["skipped_used"] == 5
    assert _mean_score(weak, vectors, cluster, 4) > _mean_score(plain, vectors, cluster, 4)
    # weak: the liked kind still leads, the played kind comes next
    top = [cluster[int(t[1:])] for t in weak.rank(vectors, top=90).ids]
    assert top[:20].count(2) == 20, top
    after = [c for c in top if c != 2][:10]
    assert after.count(4) >= 8, top
    # the skipped ones were of the liked kind: that kind scores lower than without them
    assert _mean_score(weak, vectors, cluster, 2) < _mean_score(plain, vectors, cluster, 2)


def test_a_rating_wins_over_the_history():
    vectors, cluster = library()
    liked = liked_of(cluster, 1, 5)
    cfg = dataclasses.replace(FAST, play_weight=0.5, skip_weight=1.0)
    rec = Recommender(cfg).fit(vectors, liked, seed=0, played_ids=liked[:2], skipped_ids=liked[2:])
    assert rec.info["played_used"] == 0 and rec.info["skipped_used"] == 0
    assert rec.info["liked_used"] == 5


def test_signals_from_the_catalog_history(catalog):
    ids = [catalog.add_track({"path": f"/m/{i}.flac", "size": 1, "mtime_ns": 1, "fingerprint": f"f{i}"})
           for i in range(4)]
    for _ in range(2):
        catalog.record_listen(ids[0], "play")
    catalog.record_listen(ids[1], "skip")
    catalog.record_listen(ids[1], "skip")
    catalog.record_listen(ids[1], "play")
    catalog.record_listen(ids[2], "play")
    catalog.record_listen(ids[2], "skip")
    catalog.add_profile("Sam")
    catalog.record_listen(ids[3], "play", profile="Sam")
    on = RecommenderConfig(play_weight=0.3, skip_weight=0.5)
    played, skipped = listening_signals(catalog, "default", on)
    assert sorted(played) == [ids[0], ids[2]] and skipped == [ids[1]]
    assert listening_signals(catalog, "Sam", on) == ([ids[3]], [])
    assert listening_signals(catalog, "default", RecommenderConfig(play_weight=0.0, skip_weight=0.0)) == ([], [])
