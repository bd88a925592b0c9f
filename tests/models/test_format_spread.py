"""Same song, same answer: one real clip encoded as MP3, AAC, Opus and as a 44.1 kHz FLAC gets
(nearly) the same genre distribution from the shipped model as the original 22.05 kHz file
(largest pairwise L1 <= 0.15), quiet recordings included.  ``bench/bench_formats.py`` measures all
89 clips in ten formats."""
from __future__ import annotations

import itertools
import shutil
import subprocess

import numpy as np
import pytest

#: clips whose quietest log-mel cell reaches -80 dB by itself, so the front end's min-max step
#: does not stretch them
STEADY = ["classical.00006", "disco.00004", "hiphop.00004", "jazz.00002", "rock.00001"]
#: clips that never reach -80 dB: the front end stretches their contrast by 80 / |quietest cell|,
#: and that cell sits in the top mel band, which the encoders' and resamplers' low-pass moves.
#: The shipped hybrid's input normalisation ("top-bands", models.data.contrast_normalise) replaces
#: those bands and redoes the stretch from the bands below; without it country.00001 moved by L1
#: 0.81 between a 22.05 kHz and a 48 kHz FLAC of itself.
STRETCHED = ["country.00001", "country.00004"]
#: name -> (suffix, ffmpeg output options), as bench/bench_formats.py encodes them
FORMATS = {
    "mp3-128": (".mp3", ["-ar", "44100", "-ac", "2", "-c:a", "libmp3lame", "-b:a", "128k"]),
    "aac": (".m4a", ["-ar", "44100", "-ac", "2", "-c:a", "aac", "-b:a", "192k"]),
    "opus": (".opus", ["-ar", "48000", "-ac", "2", "-c:a", "libopus", "-b:a", "128k"]),
    "flac-44k": (".flac", ["-ar", "44100", "-ac", "1", "-c:a", "flac"]),
}


def _encode(src, out):
    files = {"original": src}
    for name, (suffix, opts) in FORMATS.items():
        dst = out / f"{src.stem}.{name}{suffix}"
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(src), *opts, str(dst)], check=True,
                       timeout=120)
        files[name] = dst
    return files


@pytest.fixture(scope="module")
def model():
    from models.genre import GenreModel

    return GenreModel.load()  # the shipped model, the analysis workers' runtime


def _spread(model, gtzan_audio, tmp_path, clips):
    """Per clip: (largest pairwise L1 between its formats' track distributions, that pair, the
    labels the app shows for it: one genre, or "uncertain: a or b" where the model is unsure)."""
    from core.genrelabel import label_of_probs

    from analysis.worker import prepare_file

    if not shutil.which("ffmpeg"):
        pytest.fail("ffmpeg is needed to encode the clips (scripts/dev.sh installs it)")
    out = {}
    for clip in clips:
        paths = _encode(gtzan_audio / f"{clip}.flac", tmp_path)
        dists = {name: model.analyse_track(prepare_file(str(p))["S"])["track_probs"] for name, p in paths.items()}
        l1 = {(a, b): float(np.abs(dists[a] - dists[b]).sum()) for a, b in itertools.combinations(dists, 2)}
        pair = max(l1, key=l1.get)
        out[clip] = (round(l1[pair], 3), pair, [label_of_probs(model.classes, d) for d in dists.values()])
    return out


def _one_answer(labels) -> bool:
    """Every format gets the same top genre, or the app calls the song uncertain in every format
    (a near tie, whose order no file format should be trusted to keep)."""
    return len({lab.genre for lab in labels}) == 1 or all(lab.uncertain for lab in labels)


def test_every_format_of_a_song_gets_the_same_genres(model, gtzan_audio, tmp_path):
    got = _spread(model, gtzan_audio, tmp_path, STEADY)
    for clip, (l1, pair, labels) in got.items():
        assert len({lab.genre for lab in labels}) == 1, f"{clip}: the top genre depends on the format: {labels}"
        assert l1 <= 0.15, f"{clip}: {pair[0]} and {pair[1]} differ by L1 {l1}"


def test_a_stretched_song_gets_the_same_genres_in_every_format(model, gtzan_audio, tmp_path):
    got = _spread(model, gtzan_audio, tmp_path, STRETCHED)
    for clip, (l1, pair, labels) in got.items():
        assert _one_answer(labels), f"{clip}: the answer depends on the file format: {[lab.text for lab in labels]}"
        assert l1 <= 0.15, f"{clip}: {pair[0]} and {pair[1]} differ by L1 {l1}"


def test_the_shipped_model_normalises_the_top_bands_itself():
    """The app's front end stays the training arrays' recipe; the model undoes what formats change."""
    from models.card import SHIPPED_DIR, read_card

    assert read_card(SHIPPED_DIR)["config"]["contrast_norm"] == "top-bands"
