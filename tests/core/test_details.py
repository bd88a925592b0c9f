"""What a file says about itself (the track-info dialog's source): every container's tags under
readable names, its pictures described, its stream, and a one-line problem for a bad file."""
from __future__ import annotations

import pytest

from core.audio.details import file_details
from tests import media
from tests.core.test_covers import FORMATS, PNG, embed


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_container_gives_its_tags_picture_and_stream(tmp_path, ffmpeg, fmt):
    path = media.make(tmp_path / f"song.{fmt}", seconds=0.5,
                      tags=dict(title="Tagged Tone", artist="Tester", album="Fixtures"))
    embed(path, [(PNG, "image/png", 3)])
    d = file_details(path)
    assert d.problems == [] and d.size == path.stat().st_size and d.modified == path.stat().st_mtime
    tags = dict(d.tags)
    assert tags["Title"] == "Tagged Tone" and tags["Artist"] == "Tester" and tags["Album"] == "Fixtures", d.tags
    assert tags["Picture"].startswith("image/png, 40 × 30, ")
    assert d.stream["codec"] and d.stream["sample_rate"] and d.stream["channels"] == 2
    assert d.stream["duration"] == pytest.approx(0.5, abs=0.1)


def test_a_broken_file_gives_a_reason_not_an_error(tmp_path, ffmpeg):
    d = file_details(media.make_truncated(tmp_path / "cut.flac", keep=0.3))
    assert d.problems and all("\n" not in p for p in d.problems)
    d = file_details(tmp_path / "missing.mp3")
    assert d.size is None and d.problems == ["cannot read the file: No such file or directory"]
