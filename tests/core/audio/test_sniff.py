"""The one content sniffer: a file's format from its bytes, whatever its name, in the names the
catalog shows, and the same name in the decoder's message for a damaged file."""
from __future__ import annotations

import pytest

from core.audio import decode, sniff
from core.errors import DecodeFailed
from tests import media

pytestmark = pytest.mark.skipif(not media.have_ffmpeg(), reason="ffmpeg is needed to generate fixture media")


@pytest.mark.parametrize("fmt", sorted(media.FORMATS))
def test_every_format_is_named_by_its_content(fmt, tmp_path):
    path = media.make(tmp_path / "song.bin", fmt=fmt)
    assert sniff.sniff_file(path) == fmt


@pytest.mark.parametrize(
    "maker,words", [(media.make_text_as, "a text file"), (media.make_png_as, "a PNG image")]
)
def test_not_audio_is_described(maker, words, tmp_path):
    path = maker(tmp_path / "fake.mp3")
    assert sniff.sniff_file(path) is None
    assert sniff.describe_non_audio(path.read_bytes()) == words


def test_the_decoder_names_a_damaged_file_as_the_catalog_does(tmp_path):
    path = media.make_truncated(tmp_path / "cut.m4a", keep=0.4)
    with pytest.raises(DecodeFailed) as ei:
        decode.read(path)
    assert "looks like m4a audio" in ei.value.reason
