"""Personal recommendations from likes, with reasons.  Pure numpy: no TensorFlow.

The input is the genre network's window embeddings (its convolutional trunk) for every analysed
track of the library; a small per-profile network learns the liked tracks' windows against
windows drawn at random from the rest, and every recommendation names its nearest liked tracks
and its genres.

    vectors.py   TrackVectors (the library's window embeddings, tags, genre probabilities), TrackMeta
    songs.py     versions of one song (core/songs.py: by tags, or by sound when untagged) are shown once
    network.py   the numpy network, Adam, the negative sampler
    model.py     RecommenderConfig, Recommender (fit, score, rank, save, load), Recommendation, Ranking
    store.py     ProfileStore: each profile's model file under ``<data dir>/profiles/<name>/``
    library.py   LibraryRecommender and recommend_from_catalog: recommendations over a catalog
    errors.py    RecommenderError and its kinds; ``str(err)`` is the sentence to show

On plain data::

    vectors = TrackVectors.from_tracks(ids, embeddings, meta=[TrackMeta(...)], genre_probs=P,
                                       classes=["blues", ...])   # None embedding = not analysed
    rec = Recommender().fit(vectors, liked_ids, disliked_ids, seed=0)
    ranking = rec.rank(vectors, top=20)          # Ranking: .items, .not_analysed, ...

Over a catalog::

    ranking, info = LibraryRecommender(data_dir, model_version=v).recommend(catalog, profile="Anna")
"""
from core.recommend.errors import (
    CorruptProfile,
    NoLikes,
    NotAnalysed,
    NothingToRecommend,
    RecommenderError,
    StaleProfile,
    UnknownProfile,
)
from core.recommend.library import LibraryRecommender, VectorCache, ratings_from_catalog, recommend_from_catalog
from core.recommend.model import Ranking, Recommendation, Recommender, RecommenderConfig
from core.recommend.network import NegativeSampler
from core.recommend.songs import normalise_artist, normalise_title, song_key
from core.recommend.store import ProfileStore
from core.recommend.vectors import TrackMeta, TrackVectors

__all__ = [
    "CorruptProfile", "LibraryRecommender", "NegativeSampler", "NoLikes", "NotAnalysed", "NothingToRecommend",
    "ProfileStore", "Ranking", "Recommendation", "Recommender", "RecommenderConfig", "RecommenderError",
    "StaleProfile", "TrackMeta", "TrackVectors", "UnknownProfile", "VectorCache", "normalise_artist",
    "normalise_title", "ratings_from_catalog", "recommend_from_catalog", "song_key",
]
