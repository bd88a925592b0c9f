"""Multi-valued genre tags: split into their values, and read whole from real files."""
import pytest

from core.genres import genre_keys, join_genres, split_genres
from tests import media


@pytest.mark.parametrize("text, values", [
    ("reggaeton, latin", ["reggaeton", "latin"]),
    ("Rock; Pop", ["Rock", "Pop"]),
    ("Rock\x00Pop", ["Rock", "Pop"]),  # ID3v2.4's separator inside one frame
    ("Jazz/Funk", ["Jazz/Funk"]),  # a slash belongs to the name (ID3v1's "Pop/Funk", "Folk/Rock")
    ("  Hip  Hop ;; ,Soul ", ["Hip Hop", "Soul"]),
    ("Rock; rock; ROCK", ["Rock"]),  # once, first spelling
    ("", []),
    (None, []),
    (["Rock", "Pop, Funk", None, ""], ["Rock", "Pop", "Funk"]),  # a list of values, as mutagen gives
    ("Drum & Bass", ["Drum & Bass"]),
])
def test_split_genres(text, values):
    assert split_genres(text) == values


def test_joined_genres_split_back_and_keys_ignore_case():
    assert split_genres(join_genres(["Reggaeton", "Latin"])) == ["Reggaeton", "Latin"]
    assert genre_keys("Reggaeton, LATIN") == {"reggaeton", "latin"}


def _read(path):
    from core.audio import tags

    with open(path, "rb") as f:
        return tags.read(f, path=path)


@pytest.fixture
def tone(tmp_path):
    if not media.have_ffmpeg():
        pytest.skip("ffmpeg is not installed (scripts/dev.sh installs it); fixture media cannot be made")

    def make(name):
        return media.make(tmp_path / name, seconds=0.5, kind="tone", freq=440.0, tags=dict(title="T", artist="A"))
    return make


def test_a_flac_with_two_genre_comments_keeps_both(tone):
    from mutagen.flac import FLAC

    path = tone("two.flac")
    f = FLAC(path)
    f["genre"] = ["Reggaeton", "Latin"]
    f.save()
    assert _read(path)["genre_tag"] == "Reggaeton; Latin"
    assert split_genres(_read(path)["genre_tag"]) == ["Reggaeton", "Latin"]


def test_an_id3v24_genre_frame_with_two_values_keeps_both(tone):
    from mutagen.id3 import ID3, TCON

    path = tone("two.mp3")
    tags = ID3(path)
    tags.add(TCON(encoding=3, text=["Rock", "Pop"]))  # written NUL-separated (ID3v2.4)
    tags.save(path, v2_version=4)
    with open(path, "rb") as f:
        assert b"Rock\x00Pop" in f.read()
    assert _read(path)["genre_tag"] == "Rock; Pop"


def test_an_mp4_with_two_genres_keeps_both(tone):
    from mutagen.mp4 import MP4

    path = tone("two.m4a")
    f = MP4(path)
    f["\xa9gen"] = ["Jazz/Funk", "Soul"]
    f.save()
    assert split_genres(_read(path)["genre_tag"]) == ["Jazz/Funk", "Soul"]


def test_a_single_text_is_kept_as_written(tone):
    from mutagen.oggvorbis import OggVorbis

    path = tone("one.ogg")
    f = OggVorbis(path)
    f["genre"] = ["reggaeton, latin"]
    f.save()
    assert _read(path)["genre_tag"] == "reggaeton, latin"
