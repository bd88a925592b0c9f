"""Every reader of an audio file refuses a special file before reading it, with the same reason.

A FIFO with no writer makes a plain ``open()`` wait for ever: each entry point runs in a thread
that must answer within seconds (a stuck one is released by opening the FIFO's other end).
"""
from __future__ import annotations

import os
import threading

import pytest

from core.audio import decode, files, fingerprint, sniff
from core.errors import UnreadableFile
from core.scanner import read_file

ENTRY_POINTS = {
    "check_readable": files.check_readable,
    "open_readable": lambda p: files.open_readable(p).close(),
    "fingerprint": fingerprint.fingerprint,
    "read_file (scan, like)": read_file,
    "probe": decode.probe,
    "read": decode.read,
    "read mono (MP3 path)": lambda p: decode.read(p, sr=22050, mono=True),
    "mono_stream (analysis)": lambda p: list(decode.mono_stream(p, sr=22050)),
    "open_stream (player)": decode.open_stream,
}


def answer_within(seconds: float, fn, path: str):
    """What ``fn(path)`` raised or returned, or fail when it is still running after ``seconds``."""
    out: dict = {}

    def run():
        try:
            out["value"] = fn(path)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            out["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    if t.is_alive():
        if os.path.exists(path) and os.path.realpath(path) == path:
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))  # release an open() waiting on the FIFO
        pytest.fail(f"still running after {seconds} s")
    return out


@pytest.fixture(params=["fifo", "zero", "urandom"])
def special(request, tmp_path):
    path = tmp_path / "special.mp3"
    if request.param == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to(f"/dev/{request.param}")
    return request.param, str(path)


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_every_entry_point_refuses_a_special_file(special, entry):
    kind, path = special
    out = answer_within(5, ENTRY_POINTS[entry], path)
    err = out.get("error")
    assert isinstance(err, UnreadableFile), out
    assert err.reason.startswith("not a regular file: ")
    assert ("FIFO" in err.reason) if kind == "fifo" else (f"/dev/{kind}, a character device" in err.reason)


def test_sniffing_a_special_file_names_no_format(special):
    _, path = special
    assert answer_within(5, sniff.sniff_file, path) == {"value": None}


def test_a_folder_is_not_a_file(tmp_path):
    with pytest.raises(UnreadableFile, match="is a folder, not a file"):
        files.open_readable(tmp_path)
    with pytest.raises(UnreadableFile, match="is a folder, not a file"):
        files.check_readable(tmp_path)
