"""``python main.py train-music [--out DIR] [--epochs N] [--seed S] [--festival] [--compress P]
[--voice-shift P]``: train the music / not-music
detector (:mod:`models.music_training`) and write it, its card and its log into ``--out``.

Needs ``espeak-ng`` (``apt-get install espeak-ng``; training only) and ``../shared/data``.
Copy the run directory to ``models/shipped/music/`` to ship it.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import shutil
from pathlib import Path

from cli.common import emit, fail, new_or_folder, number


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", metavar="DIR", default=None, type=new_or_folder,
                        help="output directory (default: runs/music-<time>)")
    parser.add_argument("--epochs", type=number(int, low=1), default=None, help="epochs (default 18)")
    parser.add_argument("--seed", type=number(int, low=0), default=None, help="random seed (default 0)")
    parser.add_argument("--festival", action="store_true", default=None,
                        help="also train on read speech from Festival's voices (apt-get install festival and the "
                             "voices of models.music_training.FESTIVAL_PACKAGES)")
    parser.add_argument("--compress", type=number(float, low=0.0, high=1.0), default=None, metavar="P",
                        help="share of music cells given squashed dynamics, as a limiter or distortion leaves "
                             "them (default 0)")
    parser.add_argument("--voice-shift", type=number(float, low=0.0, high=1.0), default=None, metavar="P",
                        help="share of speech cells moved up or down the mel axis: deeper and higher voices "
                             "(default 0)")


def run(args: argparse.Namespace) -> int:
    from models import music_training as T

    if shutil.which("espeak-ng") is None:
        return fail(args, "espeak-ng is not installed (apt-get install espeak-ng); the detector's training "
                          "synthesises speech with it")
    if args.festival and shutil.which("text2wave") is None:
        return fail(args, "Festival is not installed (apt-get install " + " ".join(T.FESTIVAL_PACKAGES) + ")")
    for need in (T.GTZAN_NPZ, T.NOT_MUSIC / "manifest.csv"):
        if not need.is_file():
            return fail(args, f"{need}: training data is missing (see ../shared/data/README.md)")
    out = Path(args.out) if args.out else Path("runs") / f"music-{_dt.datetime.now():%Y%m%d-%H%M%S}"
    card = T.train(out, epochs=args.epochs, seed=args.seed, festival=args.festival,
                   compress_share=args.compress, voice_shift=args.voice_shift)
    emit(args, {"out": str(out), "version": card["version"], "metrics": card["metrics"]},
         f"wrote {out} ({card['version']})")
    return 0
