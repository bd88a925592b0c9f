"""A liked song re-encoded (OGG -> MP3) keeps its like, and no version of a liked song comes back
as a recommendation -- through the real commands (``scan``, ``like``, ``analyze``,
``recommend``, ``status``) on real files and a real catalog.

The fault: the liked OGG is replaced by an MP3 encode of the same audio (ffmpeg + LAME), with
the same tags or with none; the new file has other bytes (another fingerprint) and a duration a
few hundredths of a second off.  Also: the MP3 copy beside the OGG, both present.

Controls that must NOT take the like: the same artist and title at twice the length (a live
take), and an untagged file of another sound with the same duration.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.catalog import Catalog
from tests import media

ROOT = Path(__file__).resolve().parents[2]
SECONDS = 8.0

pytestmark = pytest.mark.skipif(not media.have_ffmpeg(), reason="ffmpeg is needed to generate fixture media")


def _melograph(data_dir: Path, *args) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "MELOGRAPH_MODEL_DIR"}
    env.update(TF_CPP_MIN_LOG_LEVEL="2")
    p = subprocess.run([sys.executable, "main.py", "--data-dir", str(data_dir), *args], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=120)
    assert "Traceback" not in p.stderr, p.stderr
    return p


def _ok(data_dir: Path, *args) -> str:
    p = _melograph(data_dir, *args)
    assert p.returncode == 0, (args, p.stdout, p.stderr)
    return p.stdout


@pytest.fixture
def library(tmp_path) -> Path:
    """The liked song (a tagged OGG), four other songs, and the two controls: real music (GTZAN
    excerpts), which the analysis takes for music and the recommender may offer."""
    lib = tmp_path / "music"
    media.make(lib / "eple.ogg", seconds=SECONDS, kind="music", freq=440.0, tags={"artist": "Röyksopp", "title": "Eple"})
    for i, freq in enumerate((262.0, 330.0, 523.0, 700.0)):
        media.make(lib / f"song{i}.ogg", seconds=SECONDS, kind="music", freq=freq, tags={"artist": f"Band {i}", "title": f"Song {i}"})
    # same artist and title, twice as long: another recording
    media.make(lib / "eple-live.ogg", seconds=2 * SECONDS, kind="music", freq=300.0,
               tags={"artist": "Royksopp", "title": "Eple (Live)"})
    # no tags, same length, another sound
    media.make(lib / "untitled.ogg", seconds=SECONDS, kind="music", freq=600.0)
    return lib


def _reencode(src: Path, dst: Path, *, tags: bool) -> Path:
    """An MP3 encode of ``src`` (its tags copied, or none)."""
    meta = ["-map_metadata", "0:s:a:0"] if tags else ["-map_metadata", "-1"]
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(src), *meta,
                    "-c:a", "libmp3lame", "-b:a", "192k", "-id3v2_version", "3", str(dst)], check=True, timeout=60)
    return dst


def _likes(data_dir: Path) -> list[tuple[str | None, bool]]:
    """(path, missing) of each like of the default profile."""
    with Catalog.open(data_dir) as cat:
        return [(r.path, r.missing) for r in cat.ratings() if r.rating > 0]


def _recommended(data_dir: Path) -> list[str]:
    out = json.loads(_ok(data_dir, "--json", "recommend", "--top", "20"))
    return [r["path"] for r in out["recommendations"]]


def _liked_library(tmp_path, library) -> Path:
    data = tmp_path / "data"
    _ok(data, "scan", str(library))
    _ok(data, "like", str(library / "eple.ogg"), str(library / "song0.ogg"))
    _ok(data, "analyze", "--quiet")
    return data


@pytest.mark.parametrize("tags", [True, False], ids=["same-tags", "no-tags"])
def test_a_like_follows_its_song_to_the_reencoded_file(tmp_path, library, tags):
    data = _liked_library(tmp_path, library)
    new = _reencode(library / "eple.ogg", library / "eple.mp3", tags=tags)
    (library / "eple.ogg").unlink()

    _ok(data, "scan", str(library))
    # same tags: the scan moves the like; no tags: the sound is not known before the analysis
    expected = (str(new), False) if tags else (str(library / "eple.ogg"), True)
    assert expected in _likes(data), _likes(data)
    _ok(data, "analyze", "--quiet")
    likes = _likes(data)
    assert (str(new), False) in likes, likes
    assert len(likes) == 2, likes  # the like moved: none left on the missing OGG, none copied
    status = json.loads(_ok(data, "--json", "status"))
    assert status["liked"] == 2 and status["missing"] == 1 and status["detached_ratings"] == 0

    shown = _recommended(data)
    assert str(new) not in shown, shown
    assert str(library / "eple.ogg") not in shown
    # the controls are other songs: they may be recommended, and they never took the like
    assert {str(library / "eple-live.ogg"), str(library / "untitled.ogg")} <= set(shown), shown


@pytest.mark.parametrize("tags", [True, False], ids=["same-tags", "no-tags"])
def test_another_copy_of_a_liked_song_is_never_recommended(tmp_path, library, tags):
    data = _liked_library(tmp_path, library)
    copy = _reencode(library / "eple.ogg", library / "eple (copy).mp3", tags=tags)

    _ok(data, "analyze", "--quiet", str(library))
    likes = _likes(data)
    assert (str(library / "eple.ogg"), False) in likes and len(likes) == 2, likes  # the like stays put

    shown = _recommended(data)
    assert str(copy) not in shown, shown
    assert str(library / "untitled.ogg") in shown, shown


def test_a_like_on_a_missing_file_keeps_its_song_out_of_the_recommendations(tmp_path, library):
    """The liked file is gone and its new version is too far off to take the like (a remaster
    two seconds longer): the like stays on the missing file, and the new version is still a
    version of a liked song."""
    data = _liked_library(tmp_path, library)
    longer = library / "eple (remastered).mp3"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(library / "eple.ogg"),
                    "-af", "apad=pad_dur=2", "-metadata", "artist=Röyksopp", "-metadata", "title=Eple (Remastered)",
                    "-c:a", "libmp3lame", "-b:a", "192k", str(longer)], check=True, timeout=60)
    (library / "eple.ogg").unlink()

    _ok(data, "analyze", "--quiet", str(library))
    likes = _likes(data)
    assert (str(library / "eple.ogg"), True) in likes, likes

    shown = _recommended(data)
    assert str(longer) not in shown, shown
