"""The now-playing spectrogram helper process (desktop.specworker)."""
import os

import numpy as np
import pytest


@pytest.fixture
def service(qapp):
    from desktop.specworker import DisplaySpectrograms

    s = DisplaySpectrograms(qapp)
    yield s
    s.shutdown()
    s.deleteLater()


def _collect(service):
    got = []
    service.ready.connect(lambda tid, res: got.append(("ready", tid, res)))
    service.failed.connect(lambda tid, exc: got.append(("failed", tid, exc)))
    return got


def test_a_track_comes_back_as_a_full_resolution_logmel_from_another_process(service, qtbot, tmp_path):
    from core import features
    from tests import media

    path = tmp_path / "tone.flac"
    media.make(path, seconds=6, kind="tone", freq=440.0)
    got = _collect(service)
    service.request(7, str(path))
    qtbot.waitUntil(lambda: bool(got), timeout=60_000)
    kind, tid, (S, duration) = got[0]
    assert (kind, tid) == ("ready", 7)
    assert duration == pytest.approx(6.0, abs=0.05)
    # 128 mel bands, one column per hop (23 ms): nothing pooled away for a short track
    assert S.dtype == np.float32 and S.flags["C_CONTIGUOUS"]
    assert S.shape == (features.DISPLAY_N_MELS, 1 + int(6.0 * features.SR) // features.DISPLAY_HOP_LENGTH)
    assert S.max() == pytest.approx(0.0, abs=1e-4) and S.min() >= -80.0 - 1e-4
    # the 440 Hz tone is the loudest band
    from desktop.spectrogram import MelScale

    band = int(np.argmax(S[:, S.shape[1] // 2]))
    assert 380 < float(MelScale(n_mels=S.shape[0], sr=features.SR).band_to_hz(band + 0.5)) < 500
    # and it was computed elsewhere
    pid, _nice = service._executor().submit(_pid_and_nice).result(timeout=30)
    assert pid != os.getpid()


def _pid_and_nice():
    return os.getpid(), os.nice(0)


def test_a_long_track_is_pooled_to_the_display_width_at_the_given_priority(qapp, qtbot, tmp_path):
    from desktop.specworker import DisplaySpectrograms
    from tests import media

    path = tmp_path / "long.ogg"
    media.make(path, seconds=30, kind="noise")
    s = DisplaySpectrograms(qapp, max_columns=500, nice=3)
    got = _collect(s)
    s.request(1, str(path))
    qtbot.waitUntil(lambda: bool(got), timeout=60_000)
    _pid, nice = s._executor().submit(_pid_and_nice).result(timeout=30)
    s.shutdown()
    assert got[0][0] == "ready" and got[0][2][0].shape == (128, 500)
    assert nice >= 3  # the priority it was given


def test_a_broken_file_fails_with_its_reason_and_the_helper_goes_on(service, qtbot, tmp_path):
    from core.errors import MelographError
    from tests import media

    bad = tmp_path / "notes.mp3"
    media.make_text_as(bad)
    good = tmp_path / "ok.wav"
    media.make(good, seconds=2, kind="noise")
    got = _collect(service)
    service.request(1, str(bad))
    qtbot.waitUntil(lambda: len(got) == 1, timeout=60_000)
    kind, tid, exc = got[0]
    assert (kind, tid) == ("failed", 1) and isinstance(exc, MelographError) and str(exc)
    service.request(2, str(good))
    qtbot.waitUntil(lambda: len(got) == 2, timeout=60_000)
    assert got[1][:2] == ("ready", 2)


def test_a_newer_request_replaces_one_that_has_not_started(service, qtbot, tmp_path):
    from tests import media

    paths = []
    for i in range(3):
        p = tmp_path / f"t{i}.wav"
        media.make(p, seconds=2, kind="tone", freq=300.0 + 100 * i)
        paths.append(p)
    got = _collect(service)
    service.warm_up()  # the helper is busy starting: the first requests wait in the queue
    for i, p in enumerate(paths):
        service.request(i, str(p))
    qtbot.waitUntil(lambda: any(g[1] == 2 for g in got), timeout=60_000)
    qtbot.wait(300)
    ids = [g[1] for g in got]
    assert ids[-1] == 2 and 1 not in ids  # the middle one never started (the first may have)


def test_a_helper_that_died_is_replaced(service, qtbot, tmp_path):
    import signal
    import time

    from tests import media

    path = tmp_path / "t.wav"
    media.make(path, seconds=2, kind="noise")
    pid, _nice = service._executor().submit(_pid_and_nice).result(timeout=60)
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.5)
    got = _collect(service)
    service.request(1, str(path))  # fails (the pool is broken) or already runs in a new helper
    qtbot.waitUntil(lambda: len(got) == 1, timeout=60_000)
    service.request(2, str(path))
    qtbot.waitUntil(lambda: len(got) == 2, timeout=60_000)
    assert got[1][:2] == ("ready", 2)
    assert service._executor().submit(_pid_and_nice).result(timeout=60)[0] != pid
