"""WAV tags in a RIFF LIST/INFO chunk (what ffmpeg and many rippers write): the catalog's tags
and the track-info dialog's list both read them, through one reader."""
import pytest

from core.audio import tags
from core.audio.details import file_details
from tests import media

pytestmark = pytest.mark.skipif(not media.have_ffmpeg(), reason="ffmpeg is needed to generate fixture media")


def test_a_wavs_info_chunk_gives_its_title_artist_album_and_genre(tmp_path):
    path = media.make(tmp_path / "song.wav", seconds=1.0,
                      tags={"title": "Grüße", "artist": "Kraftwerk", "album": "Radio", "genre": "Electronic"})
    with open(path, "rb") as f:
        got = tags.read(f, path=str(path))
    assert (got["title"], got["artist"], got["album"]) == ("Grüße", "Kraftwerk", "Radio")
    assert got["genre_tag"] == "Electronic"
    shown = dict(file_details(path).tags)
    assert shown["Title"] == "Grüße" and shown["Artist"] == "Kraftwerk" and shown["Album"] == "Radio"


def test_a_wav_without_tags_lists_only_its_encoder(tmp_path):
    path = media.make(tmp_path / "plain.wav", seconds=1.0)
    with open(path, "rb") as f:
        entries = tags.riff_info_entries(f, path.stat().st_size)
    assert [sid for sid, _text in entries] == [b"ISFT"]  # ffmpeg names itself, nothing else
    assert dict(file_details(path).tags)["Encoded by"].startswith("Lavf")
