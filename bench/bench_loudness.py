"""Benchmark: how close is the loudness the analysis measures to a full measurement?

    .venv/bin/python bench/bench_loudness.py [FOLDER ...]

The analysis measures each file's integrated loudness (EBU R128 / BS.1770) from the spectrogram
of the mono 22050 Hz mix it computes anyway (``core.audio.loudness``) and estimates the file's own
from it (``track_loudness``: +3 dB for two or more channels).  This prints, per file, that
estimate against libebur128 (the reference ReplayGain taggers use) run on the file's own channels
at its own rate, and the median / 95th percentile / largest absolute difference in dB: the error
of the ReplayGain-style gain Melograph gives a file without ReplayGain tags.  The column "mix"
is libebur128 on the same mono mix: the spectral measurement's own error, apart from the
channels.  Default folders: ``../shared/data/cc_music``
and ``../shared/data/gtzan_audio`` (both mono 22050 Hz: there the estimate is exact by
construction; point it at a folder of stereo files to see the stereo estimate's error, which lies
between 0 dB for alike channels and -3 dB for unrelated ones).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data"


def full_loudness(path) -> tuple[float | None, int]:
    from pyebur128 import MeasurementMode, R128State, get_loudness_global

    from core.audio import decode

    y, sr = decode.read(path)
    st = R128State(y.shape[1], sr, MeasurementMode.MODE_I)
    st.add_frames(np.ascontiguousarray(y, np.float32).reshape(-1), len(y))
    v = get_loudness_global(st)
    return (float(v) if np.isfinite(v) and v > -70 else None), y.shape[1]


def mix_loudness(path) -> float | None:
    """libebur128 on the mono 22050 Hz mix the analysis decodes."""
    from pyebur128 import MeasurementMode, R128State, get_loudness_global

    from core.audio import decode

    y, sr = decode.read(path, sr=22050, mono=True)
    st = R128State(1, sr, MeasurementMode.MODE_I)
    st.add_frames(np.ascontiguousarray(y, np.float64), len(y))
    v = get_loudness_global(st)
    return float(v) if np.isfinite(v) and v > -70 else None


def main(argv: list[str]) -> int:
    from analysis.worker import prepare_file
    from core.audio.loudness import track_loudness
    from core.errors import MelographError

    folders = [Path(a) for a in argv] or [DATA / "cc_music", DATA / "gtzan_audio"]
    diffs: dict[str, list[float]] = {}
    mixes: dict[str, list[float]] = {}
    for folder in folders:
        for p in sorted(folder.iterdir()):
            if p.suffix.lower() not in (".ogg", ".flac", ".mp3", ".wav", ".m4a", ".opus"):
                continue
            try:
                prep = prepare_file(str(p))
                ref, channels = full_loudness(p)
            except MelographError as exc:
                print(f"  skipped {p.name}: {exc}")
                continue
            est = track_loudness(prep["loudness"], channels)
            if est is None or ref is None:
                print(f"  {p.name}: silent")
                continue
            mix = mix_loudness(p)
            diffs.setdefault(folder.name, []).append(est - ref)
            mixes.setdefault(folder.name, []).append(prep["loudness"] - mix)
            print(f"  {p.name[:50]:50s} {channels} ch  full {ref:7.2f} LUFS  estimate {est:7.2f}  diff {est - ref:+.2f} dB"
                  f"  (mix: {prep['loudness'] - mix:+.2f})")
    for name, d in diffs.items():
        a, m = np.abs(np.asarray(d)), np.abs(np.asarray(mixes[name]))
        print(f"{name}: {len(a)} files; |estimate - full| median {np.median(a):.2f} dB, p95 {np.percentile(a, 95):.2f}, "
              f"max {a.max():.2f}; mean signed {np.mean(d):+.2f} dB; on the mono mix: median {np.median(m):.2f}, "
              f"max {m.max():.2f} dB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
