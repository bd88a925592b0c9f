"""Likes follow their song to a new file (core/catalog/ratings.py, ``follow_ratings``): a like
left on a missing or purged track moves to a present file of the same song, and to no other."""
from __future__ import annotations

import numpy as np

CLASSES = ["blues", "jazz"]


def _track(path, fp, **kw):
    return {"path": path, "size": 100, "mtime_ns": 1, "fingerprint": fp, **kw}


def _analyse(catalog, tid, fp, sound, version="v1"):
    probs = np.array([0.3, 0.7], np.float32)
    catalog.store_analysis(tid, {
        "fingerprint": fp, "model_version": version, "classes": CLASSES, "top_genre": "jazz", "confidence": 0.7,
        "track_probs": probs, "window_probs": np.tile(probs, (len(sound), 1)),
        "embeddings": sound.astype(np.float16), "window_s": 30.0, "hop_s": 30.0})


def _sound(seed, windows=3, dim=32):
    return np.abs(np.random.default_rng(seed).standard_normal((windows, dim))).astype(np.float32)


def _liked_then_gone(catalog, **tags):
    old = catalog.add_track(_track("/m/eple.ogg", "fp-ogg", **tags))
    catalog.set_rating(old, 1)
    catalog.mark_missing([old])
    return old


def test_a_like_on_a_missing_file_follows_a_reencode_with_the_same_tags(catalog):
    old = _liked_then_gone(catalog, artist="Röyksopp", title="Eple", duration=8.0)
    live = catalog.add_track(_track("/m/eple-live.mp3", "fp-live", artist="Röyksopp", title="Eple (Live)",
                                    duration=16.0))
    other = catalog.add_track(_track("/m/other.mp3", "fp-other", artist="Air", title="Eple", duration=8.0))
    new = catalog.add_track(_track("/m/eple.mp3", "fp-mp3", artist="ROYKSOPP", title="Eple", duration=7.94))
    assert (catalog.rating(old), catalog.rating(live), catalog.rating(other), catalog.rating(new)) == (0, 0, 0, 1)
    [r] = catalog.ratings()
    assert (r.track_id, r.path, r.missing, r.fingerprint, r.duration) == (new, "/m/eple.mp3", False, "fp-mp3", 7.94)


def test_the_closest_length_takes_the_like_and_a_rated_track_keeps_its_own(catalog):
    old = _liked_then_gone(catalog, artist="A", title="T", duration=100.0)
    catalog.add_profile("Anna")
    catalog.set_rating(old, -1, profile="Anna")
    far = catalog.add_track(_track("/m/far.mp3", "fp-far", artist="A", title="T", duration=100.9), reattach=False)
    near = catalog.add_track(_track("/m/near.mp3", "fp-near", artist="A", title="T", duration=100.2), reattach=False)
    catalog.set_rating(near, 1, profile="Anna")  # Anna rated the near one herself
    assert catalog.follow_ratings() == 1
    assert catalog.rating(near) == 1 and catalog.rating(far) == 0
    assert catalog.rating(near, profile="Anna") == 1  # her own rating stays; the old one stays put
    assert catalog.rating(old, profile="Anna") == -1


def test_an_untagged_reencode_takes_the_like_once_its_sound_is_known(catalog):
    sound = _sound(0)
    old = catalog.add_track(_track("/m/eple.ogg", "fp-ogg", artist="Röyksopp", title="Eple", duration=8.0))
    _analyse(catalog, old, "fp-ogg", sound)
    catalog.set_rating(old, 1)
    catalog.mark_missing([old])
    stranger = catalog.add_track(_track("/m/x.mp3", "fp-x", duration=8.0))
    new = catalog.add_track(_track("/m/y.mp3", "fp-y", duration=8.03))
    assert catalog.rating(new) == 0  # not analysed yet: nothing says it is the same song
    _analyse(catalog, stranger, "fp-x", _sound(1))
    assert catalog.rating(stranger) == 0
    _analyse(catalog, new, "fp-y", sound * 1.002, version="v2")
    assert catalog.rating(new) == 0  # another model's embeddings are not compared
    _analyse(catalog, new, "fp-y", sound * 1.002)
    assert catalog.rating(new) == 1 and catalog.rating(old) == 0
    [r] = catalog.ratings()
    assert (r.artist, r.title) == ("Röyksopp", "Eple")  # the copy keeps the tags the new file lacks


def test_a_purged_like_follows_its_song_too(catalog):
    old = _liked_then_gone(catalog, artist="Nina Simone", title="Sinnerman", duration=600.0)
    catalog.purge_missing()
    assert catalog.has_detached_ratings()
    new = catalog.add_track(_track("/m/s.flac", "fp-flac", artist="Nina Simone", title="Sinnerman (Remastered)",
                                   duration=600.5))
    assert catalog.rating(new) == 1 and not catalog.has_detached_ratings()
