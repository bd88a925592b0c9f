"""The shipped music / not-music detector on real audio, the predict command's music fields, and
the check of silence, too-short audio and NaN samples that predict and the analysis share."""
from __future__ import annotations

import json

import numpy as np
import pytest

from core.features import SR
from models.card import read_card, sha256_of
from models.music import CLASSES, SHIPPED_MUSIC_DIR, MusicDetector, installed_version, track_decision
from tests.models.conftest import SHARED, need

CC = SHARED / "cc_music"
SPEECH = ("198-209-0000.ogg", "3436-172162-0000.ogg", "5703-47212-0000.ogg")
SOUNDS = ("glacier-bay-humpback.ogg", "456440__inspectorj__bird-whistling-robin-single-13.ogg", "pibble.ogg")
SONGS = ("Kevin_MacLeod_-_Vibe_Ace.ogg", "Hungarian_Dance_number_5_-_Allegro_in_F_sharp_minor_(string_orchestra).ogg",
         "442789__lena-orsa__happy-music-pistachio-ice-cream-ragtime.ogg", "admiralbob77_-_Choice_-_Drum-bass.ogg")


@pytest.fixture(scope="module")
def detector():
    return MusicDetector.load()


def _verdict(detector, path):
    from analysis.worker import prepare_file

    return detector.analyse_track(prepare_file(str(path))["S"])


def test_the_shipped_detector_has_its_card_and_litert_file():
    card = read_card(SHIPPED_MUSIC_DIR)
    assert card["classes"] == list(CLASSES) and card["window"] == 39
    assert sha256_of(SHIPPED_MUSIC_DIR / card["tflite"]) == card["tflite_sha256"]
    assert sha256_of(SHIPPED_MUSIC_DIR / card["weights"]) == card["weights_sha256"]
    assert installed_version() == card["version"]
    assert card["metrics"]["heldout_nonmusic_flagged"] >= 0.95 and card["metrics"]["gtzan_valid_music_flagged"] <= 0.02


@pytest.mark.parametrize("name", SPEECH)  # 5703-47212-0000: a low, steady male reading voice
def test_real_speech_is_not_music(detector, name):
    v = _verdict(detector, need(CC / name))
    assert v["is_music"] is False and v["kind"] == "speech", v["music_probability"]


@pytest.mark.parametrize("name", SOUNDS)
def test_a_whale_a_robin_and_a_dog_are_not_music(detector, name):
    v = _verdict(detector, need(CC / name))
    assert v["is_music"] is False, v["music_probability"]


@pytest.mark.parametrize("name", SONGS)
def test_real_songs_are_music(detector, name):
    v = _verdict(detector, need(CC / name))
    assert v["is_music"] is True and v["music_probability"] > 0.8


def test_gtzan_clips_are_music(detector, gtzan_audio):
    """At most 2 % of real songs (the 89 GTZAN clips of every genre, decoded as the app does) are
    called something other than music."""
    files = sorted(gtzan_audio.glob("*.flac"))
    assert len(files) >= 80
    flagged = [f.name for f in files if not _verdict(detector, f)["is_music"]]
    assert len(flagged) <= 0.02 * len(files), flagged


def test_a_song_with_a_spoken_intro_stays_music_and_its_cells_show_where(detector):
    from core.audio.decode import read
    from core.features import logmel_track

    talk = read(need(CC / SPEECH[0]), sr=SR, mono=True)[0]
    song = read(need(CC / SONGS[0]), sr=SR, mono=True)[0]
    v = detector.analyse_track(logmel_track(y=np.concatenate([talk, song])))
    assert v["is_music"] is True
    cells = v["cell_music"]
    n_talk = int(len(talk) / SR // 3)  # cells wholly inside the talk
    assert np.nanmean(cells[:n_talk]) < 0.5 < np.nanmean(cells[n_talk + 1:])


def _podcast(bed_db: float) -> np.ndarray:
    """A minute of talk (two LibriSpeech readings, twice) over a music bed ``bed_db`` below the
    voice, between a 5 s musical intro and outro at the voice's level."""
    from core.audio.decode import read

    talk = np.concatenate([read(need(CC / n), sr=SR, mono=True)[0] for n in SPEECH[:2]] * 2)
    song = read(need(CC / SONGS[0]), sr=SR, mono=True)[0]
    song = np.tile(song, int(np.ceil(len(talk) / len(song))))[: len(talk)]
    song = song * (np.sqrt(np.mean(talk ** 2)) / np.sqrt(np.mean(song ** 2)))
    jingle = song[: 5 * SR]
    return np.concatenate([jingle, talk + song * 10 ** (bed_db / 20), jingle]).astype(np.float32)


def test_a_podcasts_timeline_shows_its_music_parts(detector):
    from core.features import logmel_track

    cells = detector.analyse_track(logmel_track(y=_podcast(-20.0)))["cell_music"]
    assert cells[0] > 0.9 and cells[-1] > 0.9  # the intro and the outro are music


@pytest.mark.parametrize("bed_db", [-25.0, -20.0, -15.0])
def test_a_podcast_with_a_music_bed_is_speech(detector, bed_db):
    from core.features import logmel_track

    v = detector.analyse_track(logmel_track(y=_podcast(bed_db)))
    assert v["is_music"] is False and v["kind"] == "speech", v["music_probability"]


def test_track_decision_is_the_majority_and_ignores_silent_cells():
    music, speech = [0.9, 0.05, 0.05], [0.1, 0.85, 0.05]
    assert track_decision(np.array([speech, music, music]))["is_music"] is True  # a spoken intro
    d = track_decision(np.array([speech, speech, music]))
    assert d["is_music"] is False and d["kind"] == "speech"
    d = track_decision(np.array([speech, [np.nan] * 3, [np.nan] * 3]), np.array([False, True, True]))
    assert d["is_music"] is False and d["music_share"] == 0.0
    assert track_decision(np.full((2, 3), np.nan))["is_music"] is None


# ------------------------------------------------------------------------------ predict --json


def test_predict_json_says_speech_is_not_music_and_gives_no_genre(tmp_path, capsys):
    from cli.main import main

    talk, song = need(CC / SPEECH[1]), need(CC / SONGS[0])
    assert main(["predict", str(talk), str(song), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    t, s = res["results"]
    assert res["music_model"] == read_card(SHIPPED_MUSIC_DIR)["version"]
    assert t["is_music"] is False and t["genre"] is None and t["music_probability"] < 0.5
    assert t["kind"] == "speech" and t["label"] == "Not music (speech)"
    assert s["is_music"] is True and s["genre"] in s["track"] and s["music_probability"] > 0.8
    assert all(0.0 <= w["music_probability"] <= 1.0 for w in s["timeline"])


def test_predict_text_names_the_non_music(capsys):
    from cli.main import main

    assert main(["predict", str(need(CC / SOUNDS[0]))]) == 0
    assert "Not music" in capsys.readouterr().out.splitlines()[0]
