"""UI responsiveness benchmark: start-up time with a big catalog, event-loop stalls.

    .venv/bin/python bench/bench_ui.py [--tracks 10000] [--files 60] [--reps 5] [--runs 3]
                                       [--no-startup] [--no-play] [--no-analysis] [--trace MS] [--json]

1. **Start-up** (``--runs`` fresh processes): a catalog of ``--tracks`` synthetic rows; the app
   (``desktop.app.build``) reports when the main window is first painted and when the library
   table holds every row.  Time is counted from just before the process is spawned (interpreter
   start and imports included).  Goal: window on screen within 1.5 s.
2. **Stalls**: in this process, a 5 ms timer measures how late the GUI event loop runs it while
   the app (a) loads the 10,000 rows, sorts by every column and filters as a user types,
   (b) scans a fresh folder of ``--files`` real audio files in the background (``--reps``
   times), (c) starts a 4-minute track on the fake (paced) output device (``--reps`` times):
   the playhead's frame rate in the 3 s after the start and in the 3 s after the track's
   spectrogram appears, and how long that takes, (d) analyses the library with the analysis
   service (worker processes) in a fresh app, when there is a model (shipped, or
   ``MELOGRAPH_MODEL_DIR``).  Goal: stalls at most 50 ms (99th percentile), playhead >= 25/s.
   The app's own background work runs meanwhile, as for a user (the analysis service tags the
   new files at a low priority); each repetition starts after a short settle so that one phase's
   leftovers do not land in the next.  Repetitions are summarised as min / median / max.

``--trace MS`` prints every event-loop turn longer than MS with the GUI thread's CPU time in it
and the Python handlers that ran (see ``SlotTracer``), to find what made the loop late.
Runs offscreen (QT_QPA_PLATFORM=offscreen) unless a display is set.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("ALSA_CONFIG_PATH", str(ROOT / "tests" / "data" / "asoundrc"))

LIB_ROOT = "/nonexistent-melograph-bench/Music"  # rows live under it; the scan says the folder is gone


def make_catalog(data_dir: Path, n: int) -> None:
    from core.catalog import Catalog
    from core.paths import catalog_path

    genres = ["Rock", "Jazz", "Pop", "Classical", "Hip-Hop", "Blues", "Metal", "Reggae", "Country", "Disco"]
    cat = Catalog(catalog_path(data_dir))
    now = time.time()
    with cat.transaction():
        for i in range(n):
            artist = f"Artist {i % 613:03d}"
            album = f"Album {i % 1777:04d}"
            cat.add_track({
                "path": f"{LIB_ROOT}/{artist}/{album}/{i:05d}.mp3", "size": 4_000_000 + i, "mtime_ns": i,
                "fingerprint": f"fp{i:08d}", "format": "mp3", "codec": "mp3", "duration": 120.0 + i % 300,
                "sample_rate": 44100, "channels": 2, "bitrate": 192000, "title": f"Song number {i:05d}",
                "artist": artist, "album": album, "track_no": i % 12 + 1, "year": 1960 + i % 60,
                "genre_tag": genres[i % len(genres)],
            }, now=now)
    cat.close()


# --- 1. start-up, in a child process --------------------------------------------------------------
def child_startup(data_dir: str, t0: float, expect: int) -> None:
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication([sys.argv[0]])
    t_imports = time.time() - t0
    from desktop.app import build, start_after_show, when_painted

    marks: dict[str, float] = {"qt_and_python_ready": t_imports}

    class FirstPaint(QObject):
        def eventFilter(self, obj, ev):  # noqa: N802
            if ev.type() == QEvent.Type.Paint and "window_painted" not in marks:
                marks["window_painted"] = time.time() - t0
            return False

    _app, window, c = build(["--data-dir", data_dir, LIB_ROOT], app=app, lazy_charts=True)
    marks["window_built"] = time.time() - t0
    spy = FirstPaint()
    window.installEventFilter(spy)
    window.library_view.viewport().installEventFilter(spy)
    window.show()
    marks["window_shown"] = time.time() - t0
    when_painted(window, lambda: (start_after_show(window, c), marks.setdefault("charts_built", time.time() - t0)))

    def poll():
        if c.library.model.total() >= expect and "rows_shown" not in marks:
            marks["rows_shown"] = time.time() - t0
        if "rows_shown" in marks and "window_painted" in marks or time.time() - t0 > 60:
            heavy = [m for m in ("tensorflow", "librosa", "keras", "sklearn") if m in sys.modules]
            print(json.dumps({**{k: round(v, 3) for k, v in marks.items()}, "heavy_modules": heavy}), flush=True)
            c.shutdown()
            app.quit()
            return
        QTimer.singleShot(5, poll)

    QTimer.singleShot(0, poll)
    app.exec()


def bench_startup(data_dir: Path, n: int, runs: int = 3) -> dict:
    results = []
    for _ in range(runs):
        t0 = time.time()
        out = subprocess.run(
            [sys.executable, __file__, "--child-startup", str(data_dir), "--t0", repr(t0), "--tracks", str(n)],
            capture_output=True, text=True, timeout=120, cwd=ROOT,
        )
        line = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
        if not line:
            raise RuntimeError(f"start-up child failed:\n{out.stderr[-3000:]}")
        results.append(json.loads(line[-1]))
    best = min(results, key=lambda r: r.get("window_painted", 1e9))
    return {"runs": results, "best": best,
            "median_window_painted": sorted(r.get("window_painted", 1e9) for r in results)[len(results) // 2],
            "median_rows_shown": sorted(r.get("rows_shown", 1e9) for r in results)[len(results) // 2]}


# --- 2. event-loop stalls, in this process ------------------------------------------------------
class StallProbe:
    """A 5 ms repeating timer; lateness = how much later than due it fired."""

    def __init__(self, interval_ms: int = 5):
        from PySide6.QtCore import QTimer

        self.interval = interval_ms / 1000.0
        self.samples: list[float] = []
        self._last = None
        self.timer = QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)

    def _tick(self):
        now = time.perf_counter()
        if self._last is not None:
            self.samples.append(max(0.0, now - self._last - self.interval))
        self._last = now

    def start(self):
        self.samples, self._last = [], None
        self._t0 = (time.perf_counter(), time.thread_time(), _runqueue_wait())
        self.timer.start()

    def stop(self) -> dict:
        """Lateness percentiles, and where the GUI thread's time went meanwhile: on a CPU, and
        runnable but waiting for one (the machine's other work; Linux only)."""
        self.timer.stop()
        wall, cpu, queued = (time.perf_counter() - self._t0[0], time.thread_time() - self._t0[1],
                             _runqueue_wait() - self._t0[2])
        s = sorted(self.samples) or [0.0]
        pct = lambda q: s[min(len(s) - 1, int(q * len(s)))]  # noqa: E731
        return {"ticks": len(self.samples), "p50_ms": round(1000 * pct(0.5), 1), "p99_ms": round(1000 * pct(0.99), 1),
                "max_ms": round(1000 * s[-1], 1), "gui_cpu_pct": round(100 * cpu / wall, 1),
                "gui_waiting_for_cpu_pct": round(100 * queued / wall, 1)}


def _runqueue_wait() -> float:
    """Seconds this thread has spent runnable but waiting for a CPU (Linux schedstat; 0 elsewhere)."""
    try:
        with open("/proc/thread-self/schedstat") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return 0.0


def frame_rate(frames: list[float], start: float, end: float) -> float:
    """Frames per second drawn in ``[start, end]``, counted from the first frame in it (the first
    frame of a track comes when the player says it plays)."""
    fs = [f for f in frames if start <= f <= end]
    return round((len(fs) - 1) / (end - fs[0]), 1) if len(fs) > 1 and end > fs[0] else 0.0


class SlotTracer:
    """``--trace MS``: what the GUI thread does when the event loop is late (finding causes).

    A profile hook on the GUI thread times every Python handler that Qt calls (slots, event
    handlers, paint methods of pyqtgraph items) and splits every long ``processEvents`` turn of
    the loop into the GUI thread's own CPU time, its time waiting for a core (Linux schedstat) and
    the rest: blocked, in practice waiting for the GIL that another thread of the process holds.
    Off (and free) unless ``ms`` is given; the hook slows Python handlers down a little.
    """

    def __init__(self, ms: float | None):
        self.limit = (ms or 0) / 1000.0
        self.on = ms is not None
        self._loop_frames = ("wait", "settle", "bench_stalls")
        self._handlers: list[tuple[float, str]] = []
        self._starts: dict = {}
        self._turn = None

    def mark(self, label: str) -> None:
        if self.on:
            print(f"--- trace: {label}", flush=True)
            sys.setprofile(self._hook)

    def _hook(self, frame, event, arg):
        if event == "call":
            b = frame.f_back
            if b is None or b.f_code.co_name in self._loop_frames:
                self._starts[id(frame)] = time.perf_counter()
        elif event == "return":
            t = self._starts.pop(id(frame), None)
            if t is not None and self._turn is not None:
                co = frame.f_code
                self._handlers.append((time.perf_counter() - t, f"{co.co_qualname} ({Path(co.co_filename).name}:{co.co_firstlineno})"))
        elif event == "c_call" and getattr(arg, "__name__", "") == "processEvents":
            self._turn = (time.perf_counter(), time.thread_time(), _runqueue_wait())
            self._handlers = []
        elif event == "c_return" and getattr(arg, "__name__", "") == "processEvents" and self._turn is not None:
            wall, cpu = time.perf_counter() - self._turn[0], time.thread_time() - self._turn[1]
            queued = _runqueue_wait() - self._turn[2]
            self._turn = None
            if wall > self.limit:
                top = sorted(self._handlers, reverse=True)[:3]
                names = ", ".join(f"{name} {1000 * d:.1f} ms" for d, name in top if d > 0.0005) or "no Python handler"
                many = collections.Counter(name.split(" (")[0] for _d, name in self._handlers).most_common(3)
                print(f"  turn {1000 * wall:.1f} ms: GUI thread on a CPU {1000 * cpu:.1f} ms, waiting for one "
                      f"{1000 * queued:.1f} ms, blocked (GIL, locks) {1000 * max(0.0, wall - cpu - queued):.1f} ms; "
                      f"{len(self._handlers)} "
                      f"handlers ({', '.join(f'{n} x{k}' for n, k in many)}); longest: {names}", flush=True)


def bench_stalls(data_dir: Path, n: int, n_files: int, reps: int = 3, trace_ms: float | None = None,
                 analysis: bool = True, play: bool = True) -> dict:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from desktop.app import build

    app = QApplication.instance() or QApplication([sys.argv[0]])
    _app, window, c = build(["--data-dir", str(data_dir)], app=app)
    # the fake output device (ALSA's null PCM) takes audio as fast as it is given: a player whose
    # test tap sleeps for each block's duration plays in real time, as on a sound card.  (The app's
    # own player on it would race through a 4-minute track in seconds, its decoder flat out.)
    try:
        from core.playback import Player

        holder = {}
        holder["p"] = c.player = Player(tap=lambda b: time.sleep(len(b) / (holder["p"].stream_rate or 44100)))
    except ImportError:
        pass
    window.show()
    c.start()
    out: dict = {}
    probe = StallProbe()

    tracer = SlotTracer(trace_ms)

    def wait(cond, timeout=120.0):
        t = time.time()
        while not cond():
            app.processEvents()
            time.sleep(0.002)
            if time.time() - t > timeout:
                raise TimeoutError

    def settle(seconds):
        sys.setprofile(None)
        t = time.time()
        while time.time() - t < seconds:
            app.processEvents()
            time.sleep(0.002)
    wait(lambda: c.catalog is not None)

    # (a) the big table
    tracer.mark("table")
    probe.start()
    c.library.root = LIB_ROOT
    c.library.reload_rows()
    wait(lambda: c.library.model.total() >= n)
    for col in range(7):
        for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
            window.library_view.sortByColumn(col, order)
            app.processEvents()
    for text in ("s", "so", "son", "song", "song 1", "song 12", "song 123", "", "artist 0", ""):
        window.filter_edit.setText(text)
        t = time.time()
        while time.time() - t < 0.1:
            app.processEvents()
            time.sleep(0.002)
    out["table_10k"] = probe.stop()
    sys.setprofile(None)

    # (b) background scans of real files: a fresh folder each time, so every file is read
    first_folder = None
    if n_files:
        from tests import media

        scans = []
        for rep in range(reps):
            folder = Path(tempfile.mkdtemp(prefix="melograph-bench-lib-"))
            for i in range(n_files):
                media.make(folder / f"a{i % 7}" / f"t{i:03d}.{('mp3', 'flac', 'ogg')[i % 3]}", seconds=3,
                           kind="tone" if i % 2 else "noise", freq=200.0 + 10 * i + rep,
                           tags={"title": f"T{i}", "artist": f"A{i % 7}"})
            first_folder = first_folder or folder
            settle(1.0)
            tracer.mark(f"scan {rep + 1}")
            probe.start()
            t0 = time.perf_counter()
            window.openFolderRequested.emit(str(folder))
            wait(lambda: c.library.scanning)
            wait(lambda: not c.library.scanning)
            wait(lambda: c.library.model.total() == n_files, timeout=30)
            scans.append({**probe.stop(), "seconds": round(time.perf_counter() - t0, 2)})
        out["scan"] = {"files": n_files, "runs": scans}

        # (c) play tracks on the fake (paced) output device: the 3 s right after each starts,
        # while its spectrogram is computed and the player's decoder fills its buffer
        if play and c.player is not None and c.player.available:
            names = []
            for rep in range(reps):
                name = f"Long {rep}"
                media.make(folder / "long" / f"long{rep}.{('mp3', 'ogg', 'flac')[rep % 3]}", seconds=240,
                           kind="noise", freq=300.0 + rep, tags={"title": name, "artist": "Z"})
                names.append(name)
            c.library.rescan()
            wait(lambda: not c.library.scanning and c.library.model.total() == n_files + reps, timeout=60)
            ids = {c.library.model.row_data(r).title: c.library.model.track_id(r) for r in range(c.library.model.rowCount())}
            frames: list[float] = []
            original = c.now_playing.show_position
            c.now_playing.show_position = lambda s: (frames.append(time.perf_counter()), original(s))[1]
            plays = []
            for rep, name in enumerate(names):
                settle(2.0)  # the helper process and the analysis settle
                tracer.mark(f"play {rep + 1}")
                frames.clear()
                probe.start()
                t0 = time.perf_counter()
                c.playback.play_ids([ids[name]])
                shown = None
                # until 3 s after the start and 3 s after the spectrogram is on screen
                while shown is None or time.perf_counter() - t0 < max(3.0, shown + 3.0):
                    app.processEvents()
                    time.sleep(0.002)
                    if shown is None and window.spectrogram.has_image:
                        shown = time.perf_counter() - t0
                    if time.perf_counter() - t0 > 90:
                        raise TimeoutError("no spectrogram after 90 s")
                plays.append({**probe.stop(), "playhead_fps": frame_rate(frames, t0, t0 + 3.0),
                              "playhead_fps_after_image": frame_rate(frames, t0 + shown, t0 + shown + 3.0),
                              "spectrogram_s": round(shown, 2)})
                c.playback.stop()
            c.now_playing.show_position = original
            out["play_and_spectrogram"] = {"runs": plays}
    sys.setprofile(None)

    c.shutdown()
    window.close()

    # (d) the whole (real-file) library analysed by the analysis service, in a fresh app
    from models.card import model_problem

    problem = model_problem()
    if not n_files:
        out["analysis"] = "skipped: no files (--files 0)"
    elif not analysis:
        out["analysis"] = "skipped (--no-analysis)"
    elif problem:
        out["analysis"] = f"skipped: {problem} (set MELOGRAPH_MODEL_DIR to a trained run)"
    else:
        try:
            import analysis.service  # noqa: F401
        except ImportError:
            out["analysis"] = "skipped: analysis.service is not there yet"
        else:
            d2 = Path(tempfile.mkdtemp(prefix="melograph-bench-analysis-"))
            _app, w2, c2 = build(["--data-dir", str(d2), str(first_folder)], app=app)
            w2.show()
            tracer.mark("analysis")
            probe.start()
            t0 = time.time()
            c2.start()
            wait(lambda: c2.analysis.service is not None, timeout=60)
            wait(lambda: c2.analysis.service.state in ("idle", "finished", "unavailable", "error", "cancelled")
                 and sum(1 for r in range(c2.library.model.rowCount()) if c2.library.model.row_data(r).predicted) > 0, timeout=900)
            out["analysis"] = {**probe.stop(), "files": n_files, "seconds": round(time.time() - t0, 1),
                               "state": c2.analysis.service.state,
                               "predicted": sum(1 for r in range(c2.library.model.rowCount()) if c2.library.model.row_data(r).predicted)}
            sys.setprofile(None)
            c2.shutdown()
            w2.close()
    return out


def spread(values) -> str:
    """``min / median / max`` of a few repetitions."""
    v = sorted(values)
    if not v:
        return "n/a"
    return f"{v[0]:g} / {v[len(v) // 2]:g} / {v[-1]:g}"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tracks", type=int, default=10_000)
    p.add_argument("--files", type=int, default=60)
    p.add_argument("--runs", type=int, default=3, help="start-up runs (fresh processes)")
    p.add_argument("--reps", type=int, default=5, help="background scans and track starts measured")
    p.add_argument("--no-startup", action="store_true", help="skip the start-up runs")
    p.add_argument("--no-play", action="store_true", help="skip the track starts")
    p.add_argument("--no-analysis", action="store_true", help="skip the whole-library analysis")
    p.add_argument("--trace", type=float, metavar="MS",
                   help="print every event-loop turn longer than MS with the GUI thread's CPU time and handlers")
    p.add_argument("--json", action="store_true")
    p.add_argument("--child-startup", metavar="DATA_DIR", help=argparse.SUPPRESS)
    p.add_argument("--t0", type=float, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child_startup:
        child_startup(args.child_startup, args.t0, args.tracks)
        return 0

    data_dir = Path(tempfile.mkdtemp(prefix="melograph-bench-ui-"))
    t = time.time()
    make_catalog(data_dir, args.tracks)
    made = time.time() - t
    # settings: the last library is the synthetic one (the app reopens it at start)
    from desktop.settings import Settings

    s = Settings.at(data_dir / "settings.ini")
    s.library_folder = LIB_ROOT
    s.sync()
    report = {"tracks": args.tracks, "catalog_build_s": round(made, 2), "load_average_before": os.getloadavg()}
    if not args.no_startup:
        report["startup"] = bench_startup(data_dir, args.tracks, args.runs)
    report["stalls"] = bench_stalls(data_dir, args.tracks, args.files, reps=args.reps, trace_ms=args.trace,
                                    analysis=not args.no_analysis, play=not args.no_play)
    report["load_average"] = os.getloadavg()
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"catalog of {args.tracks:,} tracks built in {made:.1f} s; load average {report['load_average_before'][0]:.1f} "
          f"before, {report['load_average'][0]:.1f} after, on {os.cpu_count()} cores")
    st = report.get("startup")
    if st:
        print(f"start-up (median of {args.runs}): window painted {st['median_window_painted']:.2f} s, "
              f"{args.tracks:,} rows shown {st['median_rows_shown']:.2f} s  (goal: window within 1.5 s)")
        print(f"  best run: {st['best']}")
    print("(min / median / max over the repetitions)")
    for name, r in report["stalls"].items():
        if not isinstance(r, dict):
            print(f"{name}: {r}")
        elif "runs" in r:
            runs = r["runs"]
            print(f"{name} x{len(runs)}: event-loop lateness p99 {spread(x['p99_ms'] for x in runs)} ms, "
                  f"max {spread(x['max_ms'] for x in runs)} ms, p50 {spread(x['p50_ms'] for x in runs)} ms  "
                  f"(goal: stalls <= 50 ms)")
            if "playhead_fps" in runs[0]:
                print(f"  playhead in the 3 s after the track starts: {spread(x['playhead_fps'] for x in runs)} "
                      f"frames/s, in the 3 s after its spectrogram appears: "
                      f"{spread(x['playhead_fps_after_image'] for x in runs)} frames/s (goal >= 25; timer at 33/s)")
                print(f"  spectrogram on screen {spread(x['spectrogram_s'] for x in runs)} s after the track starts")
            print(f"  GUI thread on a CPU {spread(x['gui_cpu_pct'] for x in runs)} % of the time, runnable but "
                  f"waiting for a CPU {spread(x['gui_waiting_for_cpu_pct'] for x in runs)} %")
            if "seconds" in runs[0]:
                print(f"  {r.get('files')} files scanned in {spread(x['seconds'] for x in runs)} s")
        else:
            extra = f"; {r['predicted']} of {r['files']} files tagged in {r['seconds']} s" if "predicted" in r else ""
            print(f"{name}: event-loop lateness p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, "
                  f"max {r['max_ms']} ms over {r['ticks']} ticks  (goal: p99 <= 50 ms){extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
