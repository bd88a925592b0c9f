"""Profiles: a profile's likes (in the catalog) and its recommender model file change together."""
from __future__ import annotations

import numpy as np
import pytest

from core.catalog import Catalog, CatalogError
from core.profiles import Profiles
from core.recommend import LibraryRecommender, RecommenderConfig

CLASSES = ["blues", "jazz"]


@pytest.fixture
def catalog(tmp_path):
    """A catalog of 30 analysed tracks in two clusters of embeddings."""
    cat = Catalog.open(tmp_path)
    rng = np.random.default_rng(0)
    for i in range(30):
        tid = cat.add_track({"path": str(tmp_path / f"song{i}.flac"), "size": 1000 + i, "mtime_ns": 1,
                             "fingerprint": f"fp{i}", "title": f"Song {i}", "artist": f"Artist {i}",
                             "album": f"Album {i}", "duration": 200.0})
        probs = np.array([0.9, 0.1] if i % 2 else [0.1, 0.9], np.float32)
        emb = np.maximum(rng.standard_normal((3, 16)) + 3 * (i % 2), 0).astype(np.float16)
        cat.store_analysis(tid, {
            "fingerprint": f"fp{i}", "model_version": "test-model", "classes": CLASSES,
            "top_genre": CLASSES[int(np.argmax(probs))], "confidence": float(probs.max()),
            "track_probs": probs, "window_probs": np.tile(probs, (3, 1)), "embeddings": emb,
            "window_s": 3.0, "hop_s": 1.5})
    yield cat
    cat.close()


def _like(cat, profile, n=3):
    ids = [t.id for t in cat.tracks(include_missing=False)][:n]
    for t in ids:
        cat.set_rating(t, 1, profile=profile)
    return ids


def _recommend(tmp_path, cat, profile):
    return LibraryRecommender(tmp_path, config=RecommenderConfig(epochs=3)).recommend(cat, profile=profile, top=5)[1]


def test_a_new_profile_has_no_likes_and_no_model(tmp_path, catalog):
    profiles = Profiles(catalog, tmp_path)
    assert profiles.names() == ["default"]
    assert profiles.create("Anna") == "Anna"
    assert profiles.names() == ["default", "Anna"]
    assert catalog.ratings(profile="Anna") == []
    assert not profiles.model_path("anna").exists()  # trained on its first recommendations
    with pytest.raises(CatalogError, match="already exists"):
        profiles.create("anna")
    assert profiles.create("anna", exist_ok=True) == "Anna"
    with pytest.raises(CatalogError, match="invalid profile name"):
        profiles.create("../evil")


def test_renaming_a_profile_keeps_its_likes_and_its_model(tmp_path, catalog):
    profiles = Profiles(catalog, tmp_path)
    profiles.create("Anna")
    liked = _like(catalog, "Anna")
    assert _recommend(tmp_path, catalog, "Anna")["model"] == "trained"
    old_model = profiles.model_path("Anna")
    assert old_model.exists()

    assert profiles.rename("anna", "Anna K") == "Anna K"
    assert profiles.names() == ["default", "Anna K"]
    assert sorted(r.track_id for r in catalog.ratings(profile="Anna K")) == sorted(liked)
    assert profiles.model_path("Anna K").exists() and not old_model.exists()
    info = _recommend(tmp_path, catalog, "Anna K")
    assert info["model"] == "loaded" and info["liked"] == 3  # not retrained after the rename


def test_removing_a_profile_deletes_its_likes_and_its_model(tmp_path, catalog):
    profiles = Profiles(catalog, tmp_path)
    profiles.create("Anna")
    _like(catalog, "Anna", n=4)
    _like(catalog, "default", n=2)
    _recommend(tmp_path, catalog, "Anna")
    model = profiles.model_path("Anna")
    assert model.exists()

    assert profiles.remove("ANNA") == 4
    assert profiles.names() == ["default"]
    assert not model.exists() and not model.parent.exists()
    assert len(catalog.ratings(profile="default")) == 2  # another profile's likes stay
    with pytest.raises(CatalogError, match="no profile named"):
        profiles.model_path("Anna")
    profiles.create("Anna")  # a new profile of the same name starts empty
    assert catalog.ratings(profile="Anna") == [] and not profiles.model_path("Anna").exists()


def test_the_default_profile_stays(tmp_path, catalog):
    profiles = Profiles(catalog, tmp_path)
    with pytest.raises(CatalogError, match="cannot be renamed"):
        profiles.rename("default", "Me")
    with pytest.raises(CatalogError, match="cannot be removed"):
        profiles.remove("default")
    with pytest.raises(CatalogError, match="no profile named"):
        profiles.remove("Nobody")
    assert profiles.names() == ["default"]
