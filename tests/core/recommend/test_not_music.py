"""Recommendations leave out what the music detector called not music, unless the profile has
liked such a track."""
from __future__ import annotations

import numpy as np

from core.recommend import LibraryRecommender
from tests.core.recommend.test_recommender import FAST, _catalog_library


def _mark_not_music(cat, fingerprints):
    with cat.transaction():
        for fp in fingerprints:
            cat.execute("UPDATE analysis SET is_music = 0, music_kind = 'speech', music_probability = 0.05, "
                        "music_version = 'm' WHERE fingerprint = ?", (fp,))


def test_talk_is_never_recommended_to_a_music_listener_but_is_to_one_who_liked_talk(tmp_path):
    cat, ids, cluster = _catalog_library(tmp_path, skip_analysis=())
    liked_cluster = np.flatnonzero(cluster == 1)
    talk = [int(i) for i in liked_cluster[4:8]]  # sounds like the liked songs, but it is speech
    _mark_not_music(cat, [f"fp{i}" for i in talk])
    for i in liked_cluster[:4]:
        cat.set_rating(ids[i], 1)
    talk_ids = {ids[i] for i in talk}
    assert cat.not_music_track_ids() == talk_ids
    ranking, _ = LibraryRecommender(tmp_path / "a", config=FAST).recommend(cat, top=50)
    assert len(ranking.ids) > 10 and not talk_ids & set(ranking.ids)
    cat.set_rating(ids[talk[0]], 1)  # this listener likes a talk
    ranking, _ = LibraryRecommender(tmp_path / "b", config=FAST).recommend(cat, top=50)
    assert talk_ids - {ids[talk[0]]} <= set(ranking.ids)
    cat.close()
