"""Same song, same answer: one real clip encoded as MP3, AAC, Opus and as a 44.1 kHz FLAC gets
(nearly) the same genre distribution from the shipped model as the original 22.05 kHz file
(largest pairwise L1 <= 0.15).  ``bench/bench_formats.py`` measures all 89 clips in ten formats."""
from __future__ import annotations

import itertools
import shutil
import subprocess

import numpy as np
import pytest

#: clips whose quietest log-mel cell reaches -80 dB by itself, so the front end's min-max step
#: does not stretch them: the shipped model gives them one answer in every format
STEADY = ["classical.00006", "disco.00004", "hiphop.00004", "jazz.00002", "rock.00001"]
#: clips that never reach -80 dB: the front end stretches their contrast by 80 / |quietest cell|,
#: and that cell sits in the top mel band, which the encoders' and resamplers' low-pass moves;
#: with the shipped model country.00001 has the largest spread of the 89 clips, 0.81 (bench/bench_formats.py)
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
    top genres seen)."""
    from analysis.worker import prepare_file

    if not shutil.which("ffmpeg"):
        pytest.fail("ffmpeg is needed to encode the clips (scripts/dev.sh installs it)")
    out = {}
    for clip in clips:
        paths = _encode(gtzan_audio / f"{clip}.flac", tmp_path)
        dists = {name: model.analyse_track(prepare_file(str(p))["S"])["track_probs"] for name, p in paths.items()}
        l1 = {(a, b): float(np.abs(dists[a] - dists[b]).sum()) for a, b in itertools.combinations(dists, 2)}
        pair = max(l1, key=l1.get)
        out[clip] = (round(l1[pair], 3), pair, {model.classes[int(np.argmax(d))] for d in dists.values()})
    return out


def test_every_format_of_a_song_gets_the_same_genres(model, gtzan_audio, tmp_path):
    got = _spread(model, gtzan_audio, tmp_path, STEADY)
    for clip, (l1, pair, tops) in got.items():
        assert len(tops) == 1, f"{clip}: the top genre depends on the file format: {tops}"
        assert l1 <= 0.15, f"{clip}: {pair[0]} and {pair[1]} differ by L1 {l1}"


@pytest.mark.xfail(strict=True, reason="known weakness of the shipped model: a clip the front end stretches "
                                        "gets other genres from a 44.1 kHz or lossy copy (models/RESULTS.md)")
def test_a_stretched_song_gets_the_same_genres_in_every_format(model, gtzan_audio, tmp_path):
    got = _spread(model, gtzan_audio, tmp_path, STRETCHED)
    assert all(l1 <= 0.15 for l1, _, _ in got.values()), got
