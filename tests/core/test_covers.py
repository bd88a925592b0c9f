"""Cover art: the picture embedded in every container, folder images, and bad pictures."""
from __future__ import annotations

import base64
import io
import os
import shutil
import struct
from pathlib import Path

import pytest
from PIL import Image

from core.audio import covers
from core.paths import shared_data_dir
from tests import media

FORMATS = ("mp3", "flac", "ogg", "opus", "m4a", "wav", "aiff", "wma")


def image_bytes(fmt: str = "PNG", size=(40, 30), colour=(200, 30, 60)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, fmt)
    return buf.getvalue()


PNG = image_bytes("PNG")
JPEG = image_bytes("JPEG", (64, 64), (10, 120, 220))


def _flac_picture(data: bytes, mime: str, ptype: int):
    from mutagen.flac import Picture

    pic = Picture()
    pic.type, pic.mime, pic.data, pic.desc = ptype, mime, data, ""
    return pic


def embed(path: Path, pictures: list[tuple[bytes, str, int]]) -> Path:
    """Write ``[(data, mime, picture type), ...]`` into ``path`` with mutagen, as taggers do."""
    fmt = path.suffix.lstrip(".")
    if fmt in ("mp3", "wav", "aiff"):
        from mutagen.id3 import APIC

        cls = {"mp3": "mutagen.mp3.MP3", "wav": "mutagen.wave.WAVE", "aiff": "mutagen.aiff.AIFF"}[fmt]
        module, name = cls.rsplit(".", 1)
        audio = getattr(__import__(module, fromlist=[name]), name)(path)
        if audio.tags is None:
            audio.add_tags()
        for i, (data, mime, ptype) in enumerate(pictures):
            audio.tags.add(APIC(encoding=3, mime=mime, type=ptype, desc=f"pic{i}", data=data))
        audio.save()
    elif fmt == "flac":
        from mutagen.flac import FLAC

        audio = FLAC(path)
        for data, mime, ptype in pictures:
            audio.add_picture(_flac_picture(data, mime, ptype))
        audio.save()
    elif fmt in ("ogg", "opus"):
        from mutagen.oggopus import OggOpus
        from mutagen.oggvorbis import OggVorbis

        audio = (OggVorbis if fmt == "ogg" else OggOpus)(path)
        audio["metadata_block_picture"] = [
            base64.b64encode(_flac_picture(d, m, t).write()).decode("ascii") for d, m, t in pictures]
        audio.save()
    elif fmt == "m4a":
        from mutagen.mp4 import MP4, MP4Cover

        audio = MP4(path)
        audio["covr"] = [MP4Cover(d, MP4Cover.FORMAT_PNG if m == "image/png" else MP4Cover.FORMAT_JPEG)
                         for d, m, _t in pictures]
        audio.save()
    elif fmt == "wma":
        from mutagen.asf import ASF, ASFByteArrayAttribute

        audio = ASF(path)
        values = []
        for data, mime, ptype in pictures:
            blob = struct.pack("<BI", ptype, len(data)) + (mime + "\0").encode("utf-16-le") + "\0".encode("utf-16-le")
            values.append(ASFByteArrayAttribute(blob + data))
        audio.tags["WM/Picture"] = values
        audio.save()
    else:
        raise ValueError(fmt)
    return path


@pytest.fixture
def track(tmp_path, ffmpeg):
    def make(fmt: str, name: str = "song", folder: str = "album") -> Path:
        return media.make(tmp_path / folder / f"{name}.{fmt}", seconds=0.5)
    return make


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_embedded_picture_of_every_container(track, fmt):
    path = embed(track(fmt), [(PNG, "image/png", 3)])
    cover = covers.find_cover(path)
    assert cover is not None, f"no cover found in the {fmt} file"
    assert cover.data == PNG and cover.mime == "image/png" and cover.source == "embedded"
    assert (cover.width, cover.height) == (40, 30)


@pytest.mark.parametrize("fmt", ("mp3", "flac", "ogg", "wma"))
def test_the_front_cover_wins_over_other_pictures(track, fmt):
    back = image_bytes("PNG", (10, 10), (0, 0, 0))
    path = embed(track(fmt), [(back, "image/png", 4), (JPEG, "image/jpeg", 3), (PNG, "image/png", 0)])
    cover = covers.find_cover(path)
    assert cover.data == JPEG and cover.mime == "image/jpeg"


def test_a_lone_picture_of_another_type_is_still_the_cover(track):
    path = embed(track("flac"), [(JPEG, "image/jpeg", 2)])  # as in a real file (see below)
    assert covers.find_cover(path).data == JPEG


def test_the_older_coverart_comment_of_ogg_files(track):
    from mutagen.oggvorbis import OggVorbis

    path = track("ogg")
    audio = OggVorbis(path)
    audio["coverart"], audio["coverartmime"] = [base64.b64encode(JPEG).decode("ascii")], ["image/jpeg"]
    audio.save()
    assert covers.find_cover(path).data == JPEG


def test_the_mime_comes_from_the_content_not_the_tag(track):
    path = embed(track("mp3"), [(JPEG, "image/png", 3)])  # a tagger that got it wrong
    assert covers.find_cover(path).mime == "image/jpeg"


# --- bad pictures -----------------------------------------------------------------------------

def huge_jpeg() -> bytes:
    """A real JPEG over the size limit (noise does not compress)."""
    import numpy as np

    rng = np.random.default_rng(0)
    side = 3400
    img = Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=100)
    data = buf.getvalue()
    assert len(data) > covers.MAX_PICTURE_BYTES, len(data)
    return data


BAD = {
    "truncated JPEG": JPEG[: len(JPEG) // 2],
    "truncated PNG": PNG[: len(PNG) - 20],
    "text": b"http://example.com/cover.jpg",
    "empty": b"",
    "an SVG": b"<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'/>",
}


@pytest.mark.parametrize("fmt, what", [(f, w) for f in ("mp3", "flac", "m4a") for w in sorted(BAD)
                                       if (f, w) != ("m4a", "empty")])  # (mutagen writes no empty covr)
def test_a_bad_picture_gives_no_cover_and_no_error(track, fmt, what, caplog):
    path = embed(track(fmt), [(BAD[what], "image/jpeg", 3)])
    with caplog.at_level("DEBUG", logger="core.audio.covers"):
        assert covers.find_cover(path) is None
    assert any("picture" in r.getMessage() for r in caplog.records)  # the reason is in the log


def test_a_huge_picture_is_passed_over_for_the_next_one(track):
    huge = huge_jpeg()
    path = embed(track("mp3"), [(huge, "image/jpeg", 3), (PNG, "image/png", 0)])  # (a FLAC block holds 16 MB)
    assert covers.find_cover(path).data == PNG
    folder = track("ogg", folder="other")
    (folder.parent / "cover.jpg").write_bytes(huge)
    assert covers.find_cover(folder) is None


def test_a_picture_claiming_a_giant_canvas_is_refused(track):
    buf = io.BytesIO()
    Image.new("1", (9000, 9000)).save(buf, "PNG")  # 81 megapixels in a small file
    assert len(buf.getvalue()) < 1_000_000
    path = embed(track("mp3"), [(buf.getvalue(), "image/png", 3)])
    assert covers.find_cover(path) is None


def test_a_truncated_cover_falls_back_to_the_folder_image(track):
    path = embed(track("ogg"), [(JPEG[:300], "image/jpeg", 3)])
    (path.parent / "cover.png").write_bytes(PNG)
    cover = covers.find_cover(path)
    assert cover.data == PNG and cover.source == str(path.parent / "cover.png")


@pytest.mark.parametrize("make_bad", ("text", "png", "missing", "truncated"))
def test_a_file_that_is_not_readable_audio_has_no_cover(tmp_path, ffmpeg, make_bad):
    p = tmp_path / "x.mp3"
    if make_bad == "text":
        media.make_text_as(p)
    elif make_bad == "png":
        media.make_png_as(p)
    elif make_bad == "truncated":
        media.make_truncated(p, fmt="flac", keep=0.05)
    assert covers.embedded_cover(p) is None  # never raises


# --- folder images ----------------------------------------------------------------------------

def test_a_folder_image_is_found_whatever_its_case(track):
    path = track("flac")
    (path.parent / "Folder.JPG").write_bytes(JPEG)
    cover = covers.find_cover(path)
    assert cover.data == JPEG and cover.mime == "image/jpeg"
    assert cover.source == str(path.parent / "Folder.JPG")


def test_folder_image_names_in_order_of_preference(track):
    path = track("mp3")
    for name, colour in (("album.png", (1, 1, 1)), ("front.jpeg", (2, 2, 2)), ("folder.png", (3, 3, 3))):
        (path.parent / name).write_bytes(image_bytes("PNG" if name.endswith("png") else "JPEG", colour=colour))
    assert covers.find_cover(path).source.endswith("folder.png")
    (path.parent / "COVER.webp").write_bytes(image_bytes("WEBP"))
    cover = covers.find_cover(path)
    assert cover.source.endswith("COVER.webp") and cover.mime == "image/webp"


def test_the_embedded_picture_wins_over_the_folder_image(track):
    path = embed(track("m4a"), [(JPEG, "image/jpeg", 3)])
    (path.parent / "cover.png").write_bytes(PNG)
    assert covers.find_cover(path).source == "embedded"


def test_bad_folder_images_are_skipped(track):
    path = track("wav")
    (path.parent / "cover.jpg").write_bytes(JPEG[:100])  # truncated
    (path.parent / "folder.jpg").write_text("not an image")
    os.mkfifo(path.parent / "front.png")  # would block a plain open()
    (path.parent / "album.png").write_bytes(PNG)
    assert covers.find_cover(path).source.endswith("album.png")


def test_an_image_of_another_name_is_not_a_cover(track):
    path = track("opus")
    (path.parent / "scan0001.jpg").write_bytes(JPEG)
    (path.parent / "cover.txt").write_text("see cover.jpg")
    assert covers.find_cover(path) is None


def test_a_track_in_an_unreadable_folder_has_no_cover(tmp_path):
    assert covers.find_cover(tmp_path / "gone" / "song.mp3") is None


# --- real files -------------------------------------------------------------------------------

CC = shared_data_dir() / "cc_music"


@pytest.mark.shared_data
def test_the_cover_of_a_real_ogg_file(tmp_path):
    song = CC / "Kevin_MacLeod_-_Vibe_Ace.ogg"
    if not song.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"CI requires the shared data: {song} is missing")
        pytest.skip(f"../shared/data is absent ({song})")
    cover = covers.find_cover(song)
    assert cover is not None and cover.source == "embedded"
    assert cover.mime == "image/jpeg" and (cover.width, cover.height) == (720, 720)
    # a song without one, in a folder without images: none (so nothing is made up)
    plain = shutil.copyfile(CC / "pibble.ogg", tmp_path / "pibble.ogg")
    assert covers.find_cover(plain) is None
