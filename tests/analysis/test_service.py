"""Library analysis: the worker service (crashes, kill -9, pause, priority, playing/idle workers)
and the ``analyze`` command, against a tiny untrained model built here (the results' numbers do
not matter, their shape, storage and bookkeeping do), plus one end-to-end run of the shipped
model on real clips."""
from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from analysis.service import AnalysisService, run_analysis
from analysis.worker import FAULT_ENV
from core import features
from core.catalog import Catalog
from core.scanner import scan
from tests import media

ROOT = Path(__file__).resolve().parents[2]
SHARED_AUDIO = ROOT.parent / "shared" / "data" / "gtzan_audio"

pytestmark = pytest.mark.skipif(not media.have_ffmpeg(), reason="ffmpeg is needed to generate fixture media")


# --------------------------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A small untrained 'ours' network (window 39 columns, hop 19) with a valid model card and
    its LiteRT export (what the workers run).  Built in a subprocess so this test process never
    loads TensorFlow."""
    out = tmp_path_factory.mktemp("tiny_model")
    script = ("import sys; from models.training import write_untrained\n"
              "write_untrained(sys.argv[1], config={'stem': 16, 'channels': [16, 16]}, hop=19, export=True)")
    subprocess.run([sys.executable, "-c", script, str(out)], cwd=ROOT, check=True, capture_output=True, timeout=300)
    return out


def _library(root: Path, n_music: int = 3, seconds: float = 8.0) -> dict[str, Path]:
    files = {}
    fmts = ["mp3", "ogg", "flac", "m4a", "wav"]
    for i in range(n_music):
        fmt = fmts[i % len(fmts)]
        kind = "noise" if i % 2 == 0 else "tone"
        files[f"music{i}"] = media.make(root / f"music{i:02d}.{fmt}", kind=kind, seconds=seconds + i,
                                        freq=220.0 * (i + 1))
    return files


def _open(data_dir) -> Catalog:
    return Catalog.open(data_dir)


# --------------------------------------------------------------------------------------------
# the service


@pytest.mark.slow
def test_service_analyses_the_library_records_failures_and_never_redoes_work(tmp_path, data_dir, tiny_model, monkeypatch):
    lib = tmp_path / "music"
    files = _library(lib, n_music=3)
    media.make(lib / "silence.wav", kind="silence", seconds=4.0)
    media.make(lib / "jingle.flac", kind="noise", seconds=1.5)
    media.make(lib / "crashme.flac", kind="noise", seconds=3.0)
    monkeypatch.setenv(FAULT_ENV, "crash:crashme")  # this file kills the worker that reads it
    cat = _open(data_dir)
    scan(cat, lib)
    events, progress, states = [], [], []
    svc = AnalysisService(cat, model_dir=tiny_model, workers=2, stop_when_done=True,
                          on_track=events.append, on_progress=progress.append,
                          on_state=lambda s, r: states.append(s))
    svc.start()
    assert svc.wait(240), "the analysis did not finish"
    s = svc.summary
    assert svc.state == "finished", (svc.state, svc.reason)
    assert s.model_runtime == "litert"  # the workers ran the LiteRT export, not TensorFlow
    assert states[0] == "starting" and "running" in states and states[-1] == "finished"
    assert s.analysed == 4 and s.failed == 2 and s.skipped == 0 and s.remaining == 0
    by_path = {f["path"]: f for f in s.failures}
    assert by_path[str(lib / "silence.wav")]["kind"] == "silent"
    crash = by_path[str(lib / "crashme.flac")]
    assert crash["kind"] == "crashed" and "SIGSEGV" in crash["reason"]
    # the crashing file was tried twice (alone the second time), the others were not harmed
    assert [e.final for e in events if e.kind == "crashed"] == [False, True]
    assert {f.path for f in cat.analysis_failures()} == {str(lib / "silence.wav"), str(lib / "crashme.flac")}
    assert progress[-1].done == progress[-1].total == 6 and progress[-1].tracks_per_minute > 0
    # what landed in the catalog
    for key, path in files.items():
        t = cat.track_by_path(path)
        r = cat.track_analysis(t.id)
        assert r is not None and r.model_version == svc.model_version and len(r.classes) == 10
        n = r.window_probs.shape[0]
        assert r.window_probs.shape == (n, 10) and r.embeddings.shape[0] == n == r.n_windows
        assert r.window_probs.dtype == np.float32 and r.embeddings.dtype == np.float16
        assert np.allclose(r.window_probs.sum(axis=1), 1.0, atol=1e-3)
        assert np.allclose(r.track_probs, r.window_probs.mean(axis=0), atol=1e-5)
        assert r.top_genre == r.classes[int(np.argmax(r.track_probs))] and r.confidence == pytest.approx(r.track_probs.max())
        assert r.window_s == pytest.approx(39 / features.COLUMNS_PER_SECOND) and r.hop_s == pytest.approx(19 / features.COLUMNS_PER_SECOND)
        assert r.duration == pytest.approx(t.duration, abs=0.2)
        assert -60 < r.loudness < 0 and 0 < r.sample_peak <= 1.0  # measured for volume levelling
    # the table hears the loudness with the result (no reload needed to level the track)
    stored = {e.track_id: e.loudness for e in events if e.ok}
    assert all(v is not None and v[1] > 0 for v in stored.values()) and len(stored) == 4
    jingle = cat.track_analysis(cat.track_by_path(lib / "jingle.flac").id)
    assert jingle.n_windows == 1 and "repeated to fill it" in jingle.note
    # a second run: nothing to do, no worker is even started
    monkeypatch.delenv(FAULT_ENV)
    t0 = time.monotonic()
    again = run_analysis(cat, model_dir=tiny_model, workers=2)
    assert again.analysed == 0 and again.failed == 0 and again.skipped == 4 and again.previously_failed == 2
    assert time.monotonic() - t0 < 10
    # a moved file keeps its result; a changed file is queued again
    moved = lib / "sub" / "moved.mp3"
    moved.parent.mkdir()
    shutil.move(files["music0"], moved)
    scan(cat, lib)
    assert cat.track_analysis(cat.track_by_path(moved).id) is not None
    assert cat.enqueue_analysis(svc.model_version) == 0
    media.make(files["music1"], kind="noise", seconds=5.0, fmt="ogg")
    scan(cat, lib)
    assert cat.enqueue_analysis(svc.model_version) == 1
    # a new model version queues everything that plays again
    assert cat.enqueue_analysis("genre-next-version") == 6
    cat.close()


@pytest.mark.slow
def test_pause_resume_priority_playing_workers_and_a_killed_worker(tmp_path, data_dir, tiny_model, monkeypatch):
    lib = tmp_path / "music"
    for i in range(10):
        media.make(lib / f"t{i:02d}.flac", kind="noise", seconds=4.0 + i * 0.1)
    monkeypatch.setenv(FAULT_ENV, "slow:0.4")
    cat = _open(data_dir)
    scan(cat, lib)
    last = cat.track_by_path(lib / "t09.flac").id
    done: list = []
    cond = threading.Condition()

    def on_track(e):
        with cond:
            done.append(e)
            cond.notify_all()

    def wait_for(pred, timeout=180):
        with cond:
            assert cond.wait_for(pred, timeout), f"timed out; {len(done)} done"

    svc = AnalysisService(cat, model_dir=tiny_model, workers=2, playing_workers=1, playing=True,
                          stop_when_done=False, on_track=on_track)
    svc.prioritize(last)  # the "playing" track jumps the queue
    svc.start()
    wait_for(lambda: len(done) >= 1)
    assert done[0].track_id == last and done[0].ok
    assert len(svc.worker_pids) == 1  # music plays: one worker
    svc.pause()
    time.sleep(2.0)  # the in-flight files finish, nothing new starts
    n_paused = len(done)
    time.sleep(1.5)
    assert len(done) == n_paused and svc.state == "paused"
    svc.resume()
    svc.set_playing(False)  # idle: one worker per core (2 here)
    wait_for(lambda: len(done) >= n_paused + 1)
    deadline = time.monotonic() + 120
    while len(svc.worker_pids) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(svc.worker_pids) == 2
    os.kill(svc.worker_pids[0], signal.SIGKILL)  # a worker dies mid-run: replaced, nothing lost
    wait_for(lambda: sum(e.ok for e in done) >= 10)
    deadline = time.monotonic() + 30
    while svc.state != "idle" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert svc.state == "idle"
    svc.close()
    assert cat.analysis_counts(svc.model_version) == {"tracks": 10, "analysed": 10, "queued": 0, "running": 0, "failed": 0}
    assert len({e.track_id for e in done if e.ok}) == 10
    cat.close()


def test_service_without_a_model_says_why(tmp_path, data_dir):
    cat = _open(data_dir)
    states = []
    svc = AnalysisService(cat, model_dir=tmp_path / "no-model", on_state=lambda s, r: states.append((s, r)))
    svc.start()
    assert svc.wait(30)
    assert svc.state == "unavailable" and svc.reason.startswith("no genre model")
    assert states[-1] == ("unavailable", svc.reason)
    cat.close()


# --------------------------------------------------------------------------------------------
# the command, and kill -9


def _cli(args, data_dir, env_extra=None, **kw):
    env = dict(os.environ, MELOGRAPH_DATA_DIR=str(data_dir), **(env_extra or {}))
    return subprocess.Popen([sys.executable, "main.py", "analyze", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


@pytest.mark.slow
def test_kill_9_mid_run_then_restart_loses_only_the_tracks_in_flight(tmp_path, data_dir, tiny_model):
    lib = tmp_path / "music"
    for i in range(12):
        media.make(lib / f"song{i:02d}.flac", kind="noise" if i % 2 else "tone", seconds=5.0, freq=200.0 + 50 * i)
    proc = _cli([str(lib), "--workers", "2", "--model", str(tiny_model)], data_dir, {FAULT_ENV: "slow:0.6"})
    first_ok: list[int] = []
    try:
        for line in proc.stdout:
            if line.startswith("ok "):
                first_ok.append(int(line.split()[1]))
                if len(first_ok) == 3:
                    break
        assert len(first_ok) == 3, proc.stderr.read()[-2000:]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    time.sleep(1.0)
    cat = _open(data_dir)
    version = cat.fetchone("SELECT model_version FROM analysis_queue LIMIT 1")[0]
    counts = cat.analysis_counts(version)
    k = counts["analysed"]
    assert 3 <= k < 12 and counts["failed"] == 0
    assert counts["queued"] + counts["running"] == 12 - k  # nothing lost: not done = still in the queue
    # no half-written rows: every stored result is whole and readable
    assert cat.integrity_problems() == []
    for (fp,) in cat.fetchall("SELECT fingerprint FROM analysis"):
        r = cat.analysis_by_fingerprint(fp)
        assert r.window_probs.shape[0] == r.embeddings.shape[0] == r.n_windows >= 1
    finished = {tid for (tid,) in cat.fetchall(
        "SELECT t.id FROM tracks t JOIN analysis a ON a.fingerprint = t.fingerprint")}
    cat.close()
    # restart: the rest is analysed, nothing finished is redone
    proc = _cli(["--workers", "2", "--model", str(tiny_model)], data_dir)
    out, err = proc.communicate(timeout=240)
    assert proc.returncode == 0, err[-2000:]
    second_ok = {int(line.split()[1]) for line in out.splitlines() if line.startswith("ok ")}
    assert not (second_ok & finished)
    assert len(second_ok) == 12 - k
    assert f"analysed {12 - k}, skipped {k} (already analysed), failed 0" in out
    cat = _open(data_dir)
    assert cat.analysis_counts(version) == {"tracks": 12, "analysed": 12, "queued": 0, "running": 0, "failed": 0}
    cat.close()


@pytest.mark.slow
def test_analyze_json_summary_lists_failures(tmp_path, data_dir, tiny_model):
    lib = tmp_path / "music"
    media.make(lib / "a.flac", kind="noise", seconds=3.0)
    media.make(lib / "quiet.wav", kind="silence", seconds=3.0)
    media.make_text_as(lib / "fake.mp3")
    proc = _cli([str(lib), "--json", "--model", str(tiny_model), "--workers", "1"], data_dir)
    out, err = proc.communicate(timeout=240)
    assert proc.returncode == 0, err[-2000:]
    import json

    payload = json.loads(out)
    assert payload["analysed"] == 1 and payload["failed"] == 1
    assert payload["failures"][0]["kind"] == "silent" and payload["scan"]["failed"] == 1
    assert payload["state"] == "finished"


# --------------------------------------------------------------------------------------------
# the shipped model on real music


@pytest.mark.slow
@pytest.mark.shared_data
def test_shipped_model_tags_real_clips_end_to_end(tmp_path, data_dir):
    from models.card import SHIPPED_DIR

    for need, what in ((SHIPPED_DIR / "card.json", "the shipped model (models/shipped/)"),
                       (SHARED_AUDIO / "manifest.csv", "../shared/data/gtzan_audio")):
        if not need.exists():
            msg = f"{what} is not there: {need}"
            if os.environ.get("CI"):
                pytest.fail(msg + " -- required in CI")
            pytest.skip(msg)
    rows = list(csv.DictReader(open(SHARED_AUDIO / "manifest.csv")))
    picked = {}
    for r in rows:
        picked.setdefault(r["genre"], r)
    lib = tmp_path / "music"
    lib.mkdir()
    for r in picked.values():
        shutil.copy(SHARED_AUDIO / r["file"], lib / r["file"])
    cat = _open(data_dir)
    scan(cat, lib)
    s = run_analysis(cat, workers=2)
    assert s.analysed == len(picked) and s.failed == 0, s.failures
    assert s.model_runtime == "litert"
    # what the workers stored (LiteRT) is what the Keras reference computes from the same files
    from analysis.worker import analyse_file
    from models.genre import GenreModel

    reference = GenreModel.load(runtime="keras", threads=1)
    for r in picked.values():
        res = cat.track_analysis(cat.track_by_path(lib / r["file"]).id)
        want = analyse_file(reference, str(lib / r["file"]))
        np.testing.assert_allclose(res.window_probs, want["window_probs"], atol=1e-4)
        np.testing.assert_allclose(res.track_probs, want["track_probs"], atol=1e-4)
        # embeddings are stored as float16 (3 significant digits)
        np.testing.assert_allclose(res.embeddings.astype(np.float32), want["embeddings"].astype(np.float32),
                                   rtol=2e-3, atol=1e-3)
    right = 0
    for r in picked.values():
        res = cat.track_analysis(cat.track_by_path(lib / r["file"]).id)
        cols = int(round(res.duration * features.COLUMNS_PER_SECOND))
        # the stored timeline: the shipped hybrid's 3 s sub-windows on a regular grid (10 per 30 s)
        cell = round(res.window_s * features.COLUMNS_PER_SECOND)
        assert cell == 39 and res.hop_s == res.window_s
        assert abs(res.n_windows - -(-cols // cell)) <= 1 and res.window_probs.shape == (res.n_windows, 10)
        # the embeddings: one per 30 s model window (a 30.0x s GTZAN clip: one, or two overlapping)
        assert res.embeddings.shape[0] in (1, 2) and res.embeddings.shape[1] >= 16
        assert res.duration == pytest.approx(30.0, abs=0.5)
        right += res.top_genre == r["genre"]
    assert right >= 0.6 * len(picked), f"only {right} of {len(picked)} real clips tagged with their genre"
    cat.close()
