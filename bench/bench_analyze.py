"""Benchmark of the library analysis: tracks per minute end to end, peak memory of all
processes together, and how long the UI process's event loop is ever blocked.

    python bench/bench_analyze.py                      # 200 four-minute MP3s, 2 workers
    python bench/bench_analyze.py --tracks 60          # a shorter run on a busy machine
    python bench/bench_analyze.py --model DIR          # another model than models/shipped/

The library: real music -- the GTZAN clips in ../shared/data/gtzan_audio/ -- each clip encoded
once as a 30 s MP3 (44.1 kHz stereo, 192 kbit/s, like a ripped library; no Xing/ID3 headers), and
each four-minute track the byte concatenation of 8 clip MP3s drawn at random (so every file has
its own bytes and fingerprint; MP3 frames concatenate into one valid stream).  Cached in
``--cache`` (default: $TMPDIR/melograph-bench-analyze); generation is not measured.

Measured (the scan into a fresh catalog is reported apart):

- end to end: from ``AnalysisService.start()`` (workers spawn and load the model) until every
  track's result is committed to the catalog.
- memory: a separate sampler process reads the proportional set size (PSS, shared pages split
  between the processes that share them: the honest "all processes together") and the plain RSS
  sum of the bench process and all its descendants every 100 ms; the peaks are printed.  A spike
  shorter than that could fall between two samples, so the kernel's own per-process peak RSS
  (``VmHWM``, which misses nothing) is summed too: an upper bound on the processes together,
  since their peaks need not coincide.
- event loop: the bench's main thread runs a plain-Python stand-in for the UI event loop, with no
  threads of its own: it wakes every 10 ms and records how late each tick is, while the service
  runs on its own thread as in the app.  The maximum and the 99.9th percentile are printed.
- CPU: user+system seconds of all the processes, per track, per stage (the workers' own timings),
  and the load average, so a number taken on a busy machine can be put in context.

When models/shipped/ has no model yet, a stand-in with the shipped architecture's default size
(untrained weights; the cost is the same) is built and exported in the cache and the output says
so.  The workers run the model's LiteRT export (``python -m models.export``); the output names the
runtime they used.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GTZAN = ROOT.parent / "shared" / "data" / "gtzan_audio"


# --------------------------------------------------------------------------------------------
# the library


def _encode_clip(src: Path, dst: Path) -> None:
    tmp = dst.with_suffix(".part.mp3")
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(src), "-ar", "44100", "-ac", "2",
         "-c:a", "libmp3lame", "-b:a", "192k", "-write_xing", "0", "-id3v2_version", "0", "-map_metadata", "-1",
         str(tmp)],
        check=True,
    )
    tmp.replace(dst)


def make_library(cache: Path, n_tracks: int, minutes: float, seed: int = 0, jobs: int = 2) -> Path:
    clips_dir = cache / "clips"
    clips_dir.mkdir(parents=True, exist_ok=True)
    sources = sorted(GTZAN.glob("*.flac"))
    if not sources:
        sys.exit(f"no GTZAN clips in {GTZAN} (../shared/data is not part of the repository)")
    todo = [(s, clips_dir / (s.stem + ".mp3")) for s in sources if not (clips_dir / (s.stem + ".mp3")).exists()]
    if todo:
        print(f"encoding {len(todo)} clips as MP3 (once) ...", flush=True)
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(jobs) as ex:
            list(ex.map(lambda p: _encode_clip(*p), todo))
    clips = sorted(clips_dir.glob("*.mp3"))
    per_track = max(1, round(minutes * 60 / 30))
    lib = cache / f"library-{n_tracks}x{per_track}-{seed}"
    lib.mkdir(exist_ok=True)
    rng = random.Random(seed)
    blobs = {}
    for i in range(n_tracks):
        out = lib / f"track{i:04d}.mp3"
        picks = [rng.choice(clips) for _ in range(per_track)]
        if out.exists():
            continue
        with open(out.with_suffix(".part"), "wb") as f:
            for c in picks:
                if c not in blobs:
                    blobs[c] = c.read_bytes()
                f.write(blobs[c])
        out.with_suffix(".part").replace(out)
    return lib


def ensure_model(model: str | None, cache: Path) -> tuple[str | None, str]:
    from models.card import SHIPPED_DIR

    if model:
        return model, f"{model}"
    if (SHIPPED_DIR / "card.json").exists():
        return None, f"shipped ({SHIPPED_DIR})"
    stand_in = cache / "stand-in-model"
    if not (stand_in / "card.json").exists():
        print("models/shipped/ has no model yet: building an untrained stand-in of the same architecture ...",
              flush=True)
        script = "import sys; from models.training import write_untrained; write_untrained(sys.argv[1], export=True)"
        subprocess.run([sys.executable, "-c", script, str(stand_in)], cwd=ROOT, check=True)
    return str(stand_in), f"STAND-IN (untrained 'ours', default size, window 39 hop 19) at {stand_in}"


# --------------------------------------------------------------------------------------------
# process-tree sampling (runs in its own process, so it never holds the bench's GIL)


def _children(pid: int) -> list[int]:
    """Child processes of ``pid`` from /proc/PID/task/*/children (cheap: no scan of all of /proc)."""
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for t in tasks:
        try:
            with open(f"/proc/{pid}/task/{t}/children") as f:
                out.extend(int(c) for c in f.read().split())
        except (OSError, ValueError):
            continue
    return out


def _tree(root: int, exclude: int) -> list[int]:
    """``root`` and all its descendants except ``exclude`` (the sampler itself)."""
    out, stack = [], [root]
    while stack:
        p = stack.pop()
        if p == exclude:
            continue
        out.append(p)
        stack.extend(_children(p))
    return out


def _mem_kb(pid: int) -> tuple[int, int]:
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


def _hwm_kb(pid: int) -> int:
    """The kernel's high-water mark of the process's RSS (kB): its peak so far, however brief."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _cpu_s(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            parts = f.read().rsplit(b")", 1)[1].split()
        return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def sampler_main(root: int, conn, period: float = 0.1) -> None:
    me = os.getpid()
    peak_rss = peak_pss = 0
    peak_procs = 0
    cpu: dict[int, float] = {}
    hwm: dict[int, int] = {}
    while not conn.poll(period):
        pids = _tree(root, me)
        tot_rss = tot_pss = 0
        for p in pids:
            r, s = _mem_kb(p)
            tot_rss += r
            tot_pss += s
            c = _cpu_s(p)
            if c:
                cpu[p] = c
            h = _hwm_kb(p)
            if h:
                hwm[p] = max(hwm.get(p, 0), h)
        peak_rss, peak_pss = max(peak_rss, tot_rss), max(peak_pss, tot_pss)
        peak_procs = max(peak_procs, len(pids))
    conn.send({"peak_rss_mb": peak_rss / 1024, "peak_pss_mb": peak_pss / 1024, "processes": peak_procs,
               "sum_hwm_mb": sum(hwm.values()) / 1024, "max_hwm_mb": max(hwm.values(), default=0) / 1024,
               "cpu_s_children": sum(v for p, v in cpu.items() if p != root)})


# --------------------------------------------------------------------------------------------
# the event-loop stand-in


def event_loop(done, tick_ms: float, *, progress=None, t0: float | None = None):
    """Run a plain-Python stand-in of the UI event loop on this thread (no threads of its own):
    wake every ``tick_ms`` until ``done(0)`` is true.  Returns (lateness, own) in seconds per
    tick: how late each tick was, and the part of it not spent waiting for a CPU (the kernel's
    per-thread run-queue delay, /proc/thread-self/schedstat, is subtracted) -- waiting for the
    GIL, or blocked in a call or a page fault."""
    tick = tick_ms / 1000.0
    lateness: list[float] = []
    own: list[float] = []
    try:
        sched_fd = os.open("/proc/thread-self/schedstat", os.O_RDONLY)
    except OSError:
        sched_fd = None

    def run_delay() -> float:
        if sched_fd is None:
            return 0.0
        return int(os.pread(sched_fd, 200, 0).split()[1]) / 1e9

    t0 = time.perf_counter() if t0 is None else t0
    next_t = time.perf_counter() + tick
    last_print = t0
    rd_before = run_delay()
    while not done(0):
        now = time.perf_counter()
        if now < next_t:
            time.sleep(next_t - now)
            continue
        rd = run_delay()
        late = now - next_t
        lateness.append(late)
        own.append(max(0.0, late - (rd - rd_before)))
        next_t = max(next_t + tick, now + tick / 2)
        rd_before = run_delay()
        if progress is not None and now - last_print > 10:
            last_print = now
            p = progress()
            print(f"  {p.done}/{p.total}  {p.tracks_per_minute:.0f}/min  workers {p.workers}", flush=True)
    if sched_fd is not None:
        os.close(sched_fd)
    return lateness, own


def _lat_line(label: str, lateness, own, tick_ms) -> str:
    lat, ow = sorted(lateness), sorted(own)
    q = lambda a: a[min(len(a) - 1, int(0.999 * len(a)))]  # noqa: E731
    return (f"{label}: {len(lat)} ticks of {tick_ms:g} ms, max lateness {1000 * lat[-1]:.1f} ms, 99.9th percentile "
            f"{1000 * q(lat):.1f} ms, median {1000 * statistics.median(lat):.2f} ms; not waiting for a CPU: "
            f"max {1000 * ow[-1]:.1f} ms, 99.9th percentile {1000 * q(ow):.1f} ms")


def profile_in_process(lib: Path, model_dir, n: int) -> None:
    """Per-stage CPU time of the worker pipeline, in this process, one track after another."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np

    import analysis.worker as W
    from core import features as F
    from models.genre import GenreModel

    model = GenreModel.load(model_dir, threads=1)
    files = sorted(lib.glob("*.mp3"))[:n]
    W.prepare_file(str(files[0]))  # warm caches
    stages = {"decode at 22050 Hz (core.audio.decode.mono_stream)": [], "log-mel": [], "model": [], "pack+store-ready": []}
    for f in files:
        c0 = time.process_time()
        ys = list(W._excerpt_audio(str(f), {}))
        c1 = time.process_time()
        S = np.concatenate([F.logmel_track(y=y) for y in ys], axis=1)
        c2 = time.process_time()
        prep = {"path": str(f), "fingerprint": "x", "S": S, "seconds": sum(map(len, ys)) / F.SR, "note": None,
                "timings": {}}
        r = W.infer_prepared(model, prep)
        c3 = time.process_time()
        from core.catalog import pack_array

        for k in ("track_probs", "window_probs", "embeddings"):
            pack_array(r[k])
        c4 = time.process_time()
        for k, v in zip(stages, (c1 - c0, c2 - c1, c3 - c2, c4 - c3)):
            stages[k].append(v)
    total = sum(statistics.median(v) for v in stages.values())
    print(f"in-process CPU per track (median of {n}, one thread): " + ", ".join(
        f"{k} {1000 * statistics.median(v):.0f} ms" for k, v in stages.items()) + f"; total {1000 * total:.0f} ms "
        f"-> {2 * 60 / total:.0f} tracks/min on 2 free cores")


# --------------------------------------------------------------------------------------------
# the run


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tracks", type=int, default=200)
    ap.add_argument("--minutes", type=float, default=4.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--model", default=None, help="model directory (default: models/shipped/ or a stand-in)")
    ap.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "melograph-bench-analyze"))
    ap.add_argument("--tick-ms", type=float, default=10.0)
    ap.add_argument("--control-s", type=float, default=30.0,
                    help="first run the event-loop stand-in this long with no analysis (the machine's own noise)")
    ap.add_argument("--profile", type=int, default=0, metavar="N",
                    help="also time each stage in-process on N tracks (CPU seconds) after the run")
    ap.add_argument("--worker-nice", type=int, default=None,
                    help="workers' nice value (the app's default is 10; 0 competes on equal terms with "
                         "other work on a shared machine)")
    args = ap.parse_args()

    import multiprocessing as mp

    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    lib = make_library(cache, args.tracks, args.minutes)
    model_dir, model_desc = ensure_model(args.model, cache)

    from analysis.service import AnalysisService
    from core.catalog import Catalog
    from core.scanner import scan

    data = Path(tempfile.mkdtemp(prefix="bench-analyze-data-"))
    catalog = Catalog(data / "catalog.sqlite3")
    t = time.perf_counter()
    sr = scan(catalog, lib)
    scan_s = time.perf_counter() - t
    print(f"library: {sr.files} x {args.minutes:g}-minute MP3 (44.1 kHz stereo 192k) in {lib}; scan {scan_s:.1f} s")
    print(f"model:   {model_desc}")
    control = None
    if args.control_s > 0:
        end = time.perf_counter() + args.control_s
        control = event_loop(lambda _t: time.perf_counter() > end, args.tick_ms)
    load0 = os.getloadavg()

    ctx = mp.get_context("spawn")
    parent_end, child_end = ctx.Pipe()
    sampler = ctx.Process(target=sampler_main, args=(os.getpid(), child_end), daemon=True)
    sampler.start()
    stages: list[dict] = []
    done = []
    svc = AnalysisService(catalog, model_dir=model_dir, workers=args.workers, stop_when_done=True, nice=args.worker_nice,
                          on_track=lambda e: (done.append(time.perf_counter()), e.timings and stages.append(e.timings)))
    cpu0 = os.times()
    t0 = time.perf_counter()
    svc.start()
    lateness, own = event_loop(svc.wait, args.tick_ms, progress=svc.progress, t0=t0)
    wall = time.perf_counter() - t0
    cpu1 = os.times()
    parent_end.send("stop")
    mem = parent_end.recv()
    sampler.join(5)
    load1 = os.getloadavg()
    s = svc.summary
    first = (done[0] - t0) if done else float("nan")
    n = s.analysed
    cpu_parent = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    cpu_children = mem["cpu_s_children"]
    print()
    print(f"model runtime in the workers: {s.model_runtime or '?'}")
    print(f"analysed {n} tracks ({s.failed} failed) with {args.workers} workers in {wall:.1f} s "
          f"(first result after {first:.1f} s: worker start-up and model load)")
    print(f"END TO END: {60 * n / wall:.0f} tracks/min   (steady state after the first result: "
          f"{60 * (n - 1) / max(1e-9, done[-1] - done[0]) if len(done) > 1 else float('nan'):.0f} tracks/min)")
    print(f"MEMORY: peak PSS of all processes together {mem['peak_pss_mb']:.0f} MB "
          f"(plain RSS sum {mem['peak_rss_mb']:.0f} MB, {mem['processes'] - 1} processes besides the sampler)")
    print(f"MEMORY, kernel peaks (VmHWM, misses no spike): largest process {mem['max_hwm_mb']:.0f} MB; "
          f"all processes' peaks added up {mem['sum_hwm_mb']:.0f} MB (an upper bound: the peaks need not coincide)")
    print(_lat_line("EVENT LOOP during the analysis", lateness, own, args.tick_ms))
    if control is not None:
        print(_lat_line(f"EVENT LOOP control, {args.control_s:g} s before, no analysis", *control, args.tick_ms))
    if stages:
        dec = statistics.mean(t["decode+logmel"] for t in stages)
        mod = statistics.mean(t["model"] for t in stages)
        sto = statistics.mean(t.get("store", 0.0) for t in stages)
        print(f"per track in a worker (wall, mean): decode+log-mel {1000 * dec:.0f} ms, "
              f"model {1000 * mod:.0f} ms, catalog write {1000 * sto:.0f} ms")
        if "cpu_model" in stages[0]:
            cpu = {k: statistics.mean(t.get(k, 0.0) for t in stages) for k in ("cpu_decode", "cpu_logmel", "cpu_model")}
            print(f"per track in a worker (CPU of its threads, mean): decode (fingerprint, MP3 at 22050 Hz mono, "
                  f"excerpts) {1000 * cpu['cpu_decode']:.0f} ms, log-mel {1000 * cpu['cpu_logmel']:.0f} ms, "
                  f"network {1000 * cpu['cpu_model']:.0f} ms; sum {1000 * sum(cpu.values()):.0f} ms")
    print(f"CPU: workers {cpu_children:.0f} s, parent {cpu_parent:.1f} s -> {cpu_children / max(n, 1):.2f} CPU-s "
          f"per track in workers; at that cost 2 free cores would do {2 * 60 * n / max(cpu_children, 1e-9):.0f} tracks/min")
    print(f"load average before {load0[0]:.1f}, after {load1[0]:.1f} (on {os.cpu_count()} cores; other work "
          "on the machine slows every number above)")
    catalog.close()
    shutil.rmtree(data, ignore_errors=True)
    if args.profile:
        profile_in_process(lib, model_dir, args.profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
