"""ReplayGain tags: read from every container that carries them, kept in the catalog by a scan,
read again for a library scanned before the catalog had room for them, and broken values left
out without losing the file."""
from __future__ import annotations

import os

import pytest

from core.audio import tags
from core.catalog import Catalog
from core.catalog.migrations import MIGRATIONS
from core.scanner import read_file, scan
from tests import media

pytestmark = pytest.mark.skipif(not media.have_ffmpeg(), reason="ffmpeg is needed to generate fixture media")


def _read(path) -> dict:
    with open(path, "rb") as f:
        return tags.read(f, path=path)


def _rg(path) -> dict:
    info = _read(path)
    return {k: info[k] for k in tags.RG_FIELDS}


def _vorbis(path, **values):
    import mutagen

    m = mutagen.File(path)
    for k, v in values.items():
        m[k] = v
    m.save()
    return path


@pytest.mark.parametrize("ext", ["flac", "ogg"])
def test_vorbis_comments_in_any_case(tmp_path, ext):
    p = _vorbis(media.make(tmp_path / f"a.{ext}", seconds=0.5, tags={"title": "A"}),
                REPLAYGAIN_TRACK_GAIN="-7.89 dB", replaygain_track_peak="0.988831",
                Replaygain_Album_Gain="+1.20 dB", REPLAYGAIN_ALBUM_PEAK="1.05")
    assert _rg(p) == {"rg_track_gain": -7.89, "rg_track_peak": 0.988831, "rg_album_gain": 1.2, "rg_album_peak": 1.05}
    assert _read(p)["title"] == "A"


def test_opus_r128_gains_are_relative_to_minus_23_lufs(tmp_path):
    p = _vorbis(media.make(tmp_path / "a.opus", seconds=0.5), R128_TRACK_GAIN="-2821", R128_ALBUM_GAIN="256")
    rg = _rg(p)
    # Q7.8 dB (x256), 5 dB below ReplayGain's reference: -2821/256 + 5 and 256/256 + 5
    assert rg["rg_track_gain"] == pytest.approx(-6.0195, abs=1e-4)
    assert rg["rg_album_gain"] == pytest.approx(6.0)
    assert rg["rg_track_peak"] is None


def test_id3_txxx_frames(tmp_path):
    from mutagen.id3 import ID3, TXXX

    p = media.make(tmp_path / "a.mp3", seconds=0.5)
    t = ID3(p)
    t.add(TXXX(encoding=3, desc="replaygain_track_gain", text=["-6.02 dB"]))
    t.add(TXXX(encoding=3, desc="REPLAYGAIN_TRACK_PEAK", text=["0.500000"]))
    t.add(TXXX(encoding=3, desc="REPLAYGAIN_ALBUM_GAIN", text=["-4,5 dB"]))  # a decimal comma
    t.save()
    assert _rg(p) == {"rg_track_gain": -6.02, "rg_track_peak": 0.5, "rg_album_gain": -4.5, "rg_album_peak": None}


def test_mp4_freeform_atoms(tmp_path):
    from mutagen.mp4 import MP4, MP4FreeForm

    p = media.make(tmp_path / "a.m4a", seconds=0.5)
    m = MP4(p)
    m["----:com.apple.iTunes:replaygain_track_gain"] = [MP4FreeForm(b"-3.50 dB")]
    m["----:com.apple.iTunes:REPLAYGAIN_ALBUM_PEAK"] = [MP4FreeForm(b"0.9")]
    m.save()
    assert _rg(p) == {"rg_track_gain": -3.5, "rg_track_peak": None, "rg_album_gain": None, "rg_album_peak": 0.9}


@pytest.mark.parametrize("gain, peak", [("loud", "0.5"), ("-999 dB", "-1"), ("nan", "inf"), ("", "1e400"),
                                        ("-6 dB extra", "0x10")])
def test_a_broken_value_is_left_out_and_the_file_still_reads(tmp_path, gain, peak):
    p = _vorbis(media.make(tmp_path / "a.flac", seconds=0.5, tags={"title": "Kept"}),
                REPLAYGAIN_TRACK_GAIN=gain, REPLAYGAIN_TRACK_PEAK=peak, REPLAYGAIN_ALBUM_GAIN="-2 dB")
    info = _read(p)
    assert info["title"] == "Kept" and info["rg_album_gain"] == -2.0
    assert info["rg_track_gain"] is None
    assert info["rg_track_peak"] == (0.5 if peak == "0.5" else None)


def test_a_file_without_replaygain_has_none(tmp_path):
    assert _rg(media.make(tmp_path / "a.wav", seconds=0.5)) == dict.fromkeys(tags.RG_FIELDS)


def test_a_scan_keeps_the_values_and_a_retag_updates_them(tmp_path):
    lib = tmp_path / "lib"
    p = _vorbis(media.make(lib / "a.flac", seconds=0.5), REPLAYGAIN_TRACK_GAIN="-5.5 dB",
                REPLAYGAIN_TRACK_PEAK="0.7")
    cat = Catalog(tmp_path / "c.sqlite3")
    scan(cat, lib)
    t = cat.track_by_path(str(p))
    assert (t.rg_track_gain, t.rg_track_peak, t.rg_album_gain) == (-5.5, 0.7, None)
    _vorbis(p, REPLAYGAIN_TRACK_GAIN="-1.25 dB", REPLAYGAIN_ALBUM_GAIN="-2 dB")
    os.utime(p, ns=(1, 1))  # a tagger that keeps the time still changes the size or the time
    scan(cat, lib)
    t2 = cat.track_by_path(str(p))
    assert t2.id == t.id and (t2.rg_track_gain, t2.rg_album_gain) == (-1.25, -2.0)
    cat.close()


def test_a_library_scanned_before_gets_its_replaygain_on_the_next_scan(tmp_path):
    lib = tmp_path / "lib"
    p = _vorbis(media.make(lib / "a.flac", seconds=0.5, tags={"title": "Old"}), REPLAYGAIN_TRACK_GAIN="-8 dB")
    before = next(i for i, m in enumerate(MIGRATIONS) if m.name == "_track_replaygain")
    path = tmp_path / "c.sqlite3"
    old = Catalog(path, target_version=before)
    fields = {k: v for k, v in read_file(str(p)).items() if not k.startswith("rg_")}
    fields = {k: fields[k] for k in ("path", "size", "mtime_ns", "fingerprint", "title", "format", "duration")}
    old.add_library(lib)
    tid = old.add_track(fields)  # as a scan of that version left it: unchanged since
    old.execute("INSERT INTO ratings(profile_id, track_id, rating, rated_at, fingerprint) VALUES (1, ?, 1, 1, ?)",
                (tid, fields["fingerprint"]))
    old.close()
    cat = Catalog(path)
    assert cat.get_track(tid).rg_track_gain is None
    result = scan(cat, lib)
    t = cat.get_track(tid)
    assert t.rg_track_gain == -8.0 and t.title == "Old" and t.rating == 1
    assert result.added == 0
    cat.close()


def test_an_mp3gain_ape_tag_is_read_when_id3_has_none(tmp_path):
    from mutagen.apev2 import APEv2

    p = media.make(tmp_path / "a.mp3", seconds=0.5, tags={"title": "Gained"})
    ape = APEv2()
    ape["REPLAYGAIN_TRACK_GAIN"] = "-4.10 dB"
    ape["REPLAYGAIN_TRACK_PEAK"] = "0.812"
    ape["MP3GAIN_MINMAX"] = "090,210"
    ape.save(str(p))
    info = _read(p)
    assert info["title"] == "Gained"  # the ID3 tag is still read
    assert (info["rg_track_gain"], info["rg_track_peak"], info["rg_album_gain"]) == (-4.1, 0.812, None)
