"""The shipped model: card, end-to-end classification of real GTZAN audio, the predict command."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from core.features import FRONTEND_PARAMS
from models.genre import SHIPPED_DIR, GenreModel, read_card


@pytest.fixture(scope="module")
def shipped():
    return GenreModel.load()


def _twelve_clips(audio_dir):
    """Twelve real clips of the TRAIN split (the model was fitted on them: this checks the audio
    pipeline, not generalisation), round-robin over their genres, in a fixed order."""
    rows = [r for r in csv.DictReader(open(audio_dir / "manifest.csv")) if r["split"] == "train"]
    by_genre = {}
    for r in sorted(rows, key=lambda r: r["file"]):
        by_genre.setdefault(r["genre"], []).append(r)
    picked, k = [], 0
    while len(picked) < 12 and k < 20:
        picked += [v[k] for _, v in sorted(by_genre.items()) if k < len(v)]
        k += 1
    return [(audio_dir / r["file"], r["genre"]) for r in picked[:12]]


def test_shipped_card_is_complete():
    card = read_card(SHIPPED_DIR)
    assert card["frontend"] == FRONTEND_PARAMS
    assert card["classes"] == ["blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop",
                               "reggae", "rock"]
    assert card["data"]["fit_on"] == "train" and card["data"]["selected_on"] == "valid"
    # well above the hand-made-feature floor (0.60-0.65): catches a broken or wrong model shipped
    assert card["metrics"]["valid"]["accuracy"] >= 0.65 and 0 < card["metrics"]["valid"]["macro_f1"] <= 1
    assert (SHIPPED_DIR / card["weights"]).stat().st_size <= 20 * 1024 * 1024
    assert card["version"].startswith("genre-") and card["weights_sha256"][:8] in card["version"]
    assert (SHIPPED_DIR / "curves.png").is_file() and (SHIPPED_DIR / "confusion.png").is_file()


@pytest.mark.xfail(strict=True, reason="issue 4 requires 0.70 valid track accuracy; the shipped model measures "
                   "0.685 (models/RESULTS.md). Remove this marker when a model that meets it ships.")
def test_shipped_model_meets_the_required_valid_accuracy():
    assert read_card(SHIPPED_DIR)["metrics"]["valid"]["accuracy"] >= 0.70


def test_card_numbers_are_reproduced(shipped, trainval_npz):
    """Per-genre valid recall of two genres, re-measured from the npz, equals the card's."""
    from models.data import load_npz

    valid = load_npz(trainval_npz).part("valid")
    card = read_card(SHIPPED_DIR)
    for genre in ("classical", "reggae"):
        k = valid.genres.index(genre)
        clips = valid.subset(valid.y == k)
        recall = float((shipped.predict_clips(clips.X).argmax(1) == shipped.classes.index(genre)).mean())
        assert abs(recall - card["metrics"]["valid"]["per_class"][genre]["recall"]) < 1e-6, genre


def test_shipped_model_classifies_real_audio_end_to_end(shipped, gtzan_audio):
    from core.features import logmel_track
    from models.commands.predict import _load_audio

    clips = _twelve_clips(gtzan_audio)
    correct = []
    for path, genre in clips:
        S = logmel_track(y=_load_audio(str(path)))
        wp, tp = shipped.predict_logmel(S)
        assert wp.shape[1] == 10 and np.isclose(tp.sum(), 1, atol=1e-4)
        correct.append(shipped.classes[int(tp.argmax())] == genre)
    assert np.mean(correct) >= 0.70, f"only {sum(correct)}/{len(correct)} real clips classified correctly"


def test_predict_command_reports_good_and_broken_files(gtzan_audio, tmp_path, capsys):
    from core.cli import main

    broken = tmp_path / "broken.flac"
    broken.write_bytes(b"fLaC" + b"\x00garbage" * 50)
    good = gtzan_audio / "metal.00000.flac"
    rc = main(["predict", str(good), str(broken), "--json"])
    out = capsys.readouterr()
    assert rc == 1
    res = json.loads(out.out)
    assert [r["file"] for r in res["results"]] == [str(good)]
    r = res["results"][0]
    assert abs(sum(r["track"].values()) - 1) < 1e-2 and r["genre"] in r["track"]
    starts = [w["start_s"] for w in r["timeline"]]
    assert starts[0] == 0.0 and starts == sorted(starts) and starts[-1] < r["seconds"]
    assert len(res["failures"]) == 1 and str(broken) in res["failures"][0]["error"]
    assert len(out.err.strip().splitlines()) == 1 and "broken.flac" in out.err
