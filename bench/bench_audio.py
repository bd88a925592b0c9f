"""Audio benchmarks: front-end agreement, decode + front-end speed, playback robustness.

    .venv/bin/python bench/bench_audio.py [--play-seconds 10] [--runs 5] [--no-jack]

1. Front-end agreement with the training arrays over every clip of ../shared/data/gtzan_audio
   (whole files through core.audio.decode.read, 387 columns), as in tests/core/test_features.py.
2. Decode + front end of a 4-minute MP3 (8 GTZAN clips joined with ffmpeg, 44.1 kHz stereo,
   192 kb/s): core.features.logmel_file (streamed decode to 22050 Hz mono + the log-mel of each
   30 s excerpt), median and best of --runs, wall and CPU time; plus the whole-file variant
   (decode.read + logmel_track), libsndfile vs PyAV for mp3, and a seeking 30 s excerpt.
3. Playback of that MP3 for --play-seconds while a busy process keeps another core at 100 %:
   the audio callback's worst-case run time, how late PortAudio's thread got into Python
   (GIL wait), and underflows.  The device is a JACK server on the dummy driver (real-time
   pacing, Debian package jackd2) when jackd is installed, else the ALSA null PCM paced by a
   tap that sleeps for each block's duration (an approximation, labelled as such).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT / ".." / "shared" / "data"

os.environ.setdefault("ALSA_CONFIG_PATH", str(ROOT / "tests" / "data" / "asoundrc"))
os.environ.setdefault("JACK_NO_START_SERVER", "1")

import numpy as np  # noqa: E402

from core import features as F  # noqa: E402
from core.audio import decode  # noqa: E402


def _timeit(fn, runs: int, cpu: list | None = None) -> list[float]:
    """Wall-clock seconds of ``runs`` calls (their CPU seconds appended to ``cpu``)."""
    out = []
    for _ in range(runs):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
        if cpu is not None:
            cpu.append(time.process_time() - c0)
    return out


def bench_frontend_agreement() -> None:
    print("== 1. front end vs gtzan_logmel_trainval.npz (whole files via core.audio.decode.read)")
    from tests.core import test_features as T

    if not (T.GTZAN_AUDIO.is_dir() and T.GTZAN_NPZ.is_file()):
        print(f"   skipped: {T.GTZAN_AUDIO} or {T.GTZAN_NPZ} missing")
        return
    t0 = time.perf_counter()
    res = T.frontend_agreement()
    dt = time.perf_counter() - t0
    mae = np.array([m for m, _ in res.values()])
    r = np.array([c for _, c in res.values()])
    worst = max(res, key=lambda k: res[k][0])
    print(f"   clips {len(res)}  ({dt:.1f} s, {1000 * dt / max(1, len(res)):.0f} ms per clip)")
    print(f"   MAE dB: median {np.median(mae):.2f}  max {mae.max():.2f} ({worst})      [test: median <= 0.3, max <= 0.6; the arrays step 0.31 dB]")
    print(f"   Pearson r: median {np.median(r):.4f}  min {r.min():.4f}                 [test: median >= 0.998]")


def make_four_minute_mp3(folder: Path) -> Path:
    out = folder / "four-minutes.mp3"
    if out.exists():
        return out
    clips = sorted((SHARED / "gtzan_audio").glob("*.flac"))
    pick = [clips[i] for i in np.linspace(0, len(clips) - 1, 8).astype(int)] if len(clips) >= 8 else []
    lst = folder / "list.txt"
    if pick:
        lst.write_text("".join(f"file '{p.resolve()}'\n" for p in pick))
        src = ["-f", "concat", "-safe", "0", "-i", str(lst)]
    else:  # no shared data: pink noise stands in for music
        src = ["-f", "lavfi", "-i", "anoisesrc=color=pink:sample_rate=44100:duration=240:amplitude=0.3"]
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *src, "-ar", "44100", "-ac", "2",
         "-c:a", "libmp3lame", "-b:a", "192k", str(out)],
        check=True,
    )
    return out


def bench_decode(mp3: Path, runs: int) -> None:
    info = decode.probe(mp3)
    print(f"== 2. decode + front end, {info.duration:.0f} s MP3 ({info.sr} Hz, {info.channels} ch, {mp3.stat().st_size / 1e6:.1f} MB)")

    def full():  # the analyser's path: streamed decode, one 30 s excerpt at a time
        F.logmel_file(mp3)

    def whole():
        y, sr = decode.read(mp3, sr=F.SR, mono=True)
        F.logmel_track(y=y, sr=sr)

    full()  # warm caches (filterbank, imports)
    cpu: list[float] = []
    t_full = _timeit(full, runs, cpu)
    t_whole = _timeit(whole, runs)
    t_dec = _timeit(lambda: decode.read(mp3, sr=F.SR, mono=True), runs)
    y, _ = decode.read(mp3, sr=F.SR, mono=True)
    t_fe = _timeit(lambda: F.logmel_track(y=y), runs)
    t_lib = None
    print(f"   decode + front end (features.logmel_file): median {statistics.median(t_full):.3f} s, best {min(t_full):.3f} s   [goal <= 0.5 s]")
    print(f"     its CPU time (less sensitive to other load): median {statistics.median(cpu):.3f} s, best {min(cpu):.3f} s")
    print(f"   the same from one whole decode.read + logmel_track: median {statistics.median(t_whole):.3f} s")
    print(f"     decode (libsndfile mp3 -> mono -> soxr HQ 22050): median {statistics.median(t_dec):.3f} s")
    print(f"     front end (logmel_track, numpy/scipy mel):        median {statistics.median(t_fe):.3f} s")

    import av
    import soundfile as sf

    def via_av():  # decoded to numpy, as core.audio.decode would use it
        with av.open(str(mp3)) as c:
            s = c.streams.audio[0]
            return sum(f.to_ndarray().shape[-1] for f in c.decode(s))

    c_sf: list[float] = []
    c_av: list[float] = []
    for _ in range(3):
        _timeit(lambda: sf.read(str(mp3), dtype="float32"), 1, c_sf)
        _timeit(via_av, 1, c_av)
    print(f"   mp3 decode only to float32 at the native rate, CPU s (best of 3): libsndfile {min(c_sf):.3f}, PyAV {min(c_av):.3f}")
    t_ex = _timeit(lambda: decode.read(mp3, sr=F.SR, mono=True, start=info.duration - 35, duration=30), runs)
    print(f"   30 s excerpt near the end (seeks): median {statistics.median(t_ex):.3f} s")


def _busy_core() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def bench_playback(mp3: Path, seconds: float, use_jack: bool, period: int = 1024) -> None:
    from core.playback import PlaybackError, Player, jack_dummy, output_devices

    print(f"== 3. playback of the MP3 for {seconds:.0f} s with another core kept busy")
    import contextlib

    jack = jack_dummy(rate=44100, period=period) if use_jack else contextlib.nullcontext(None)
    with jack as server:
        tap = None
        if server:
            dev = next(d["index"] for d in output_devices() if d["hostapi"].startswith("JACK"))
            label = f"JACK dummy driver (real-time, 44100 Hz, 2 periods of {period} = {1000 * period / 44100:.1f} ms), device {dev}"
        else:
            dev = None
            label = "ALSA null PCM paced by a sleeping tap (jackd not installed: approximate real time)"

            def tap(out, _sr=44100):
                time.sleep(len(out) / _sr)

        print(f"   device: {label}")
        busy = _busy_core()
        try:
            p = Player(device=dev, tap=tap, blocksize=0 if server else 512)
            if not p.available:
                print(f"   skipped: {p.unavailable_reason}")
                return
            ends = []
            p.subscribe(lambda e: ends.append(e) if isinstance(e, PlaybackError) else None)
            p.play(mp3)
            time.sleep(seconds / 2)
            p.seek(120.0)  # a seek mid-run, as a user would
            time.sleep(seconds / 2)
            st = p.stats
            p.stop()
            p.close()
        finally:
            busy.terminate()
            busy.wait()
        cb_ms = 1000 * st.max_seconds
        mean_us = 1e6 * st.total_seconds / max(1, st.calls)
        print(f"   callbacks {st.calls}; run time mean {mean_us:.0f} us, worst {cb_ms:.2f} ms")
        print(f"   worst delay from PortAudio's call to our code (GIL wait): {1000 * st.max_late:.2f} ms")
        print(f"   underflows: ring empty {st.underflows}, device-reported {st.device_underflows}; errors {len(ends)}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--play-seconds", type=float, default=10.0)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--no-jack", action="store_true", help="use the paced ALSA null device even if jackd exists")
    ap.add_argument("--period", type=int, default=1024, help="JACK period in frames (default 1024 = 23 ms)")
    ap.add_argument("--skip", default="", help="comma list of parts to skip: agreement,decode,playback")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    print(f"machine: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}; python {sys.version.split()[0]}")
    if "agreement" not in skip:
        bench_frontend_agreement()
    work = Path(tempfile.gettempdir()) / "melograph-bench"
    work.mkdir(exist_ok=True)
    mp3 = make_four_minute_mp3(work)
    if "decode" not in skip:
        bench_decode(mp3, args.runs)
    if "playback" not in skip:
        bench_playback(mp3, args.play_seconds, use_jack=not args.no_jack, period=args.period)
    return 0


if __name__ == "__main__":
    sys.exit(main())
