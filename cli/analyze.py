"""``melograph analyze [FOLDER]``: tag the genres of the library in worker processes.

Scans FOLDER first when given, then analyses every track the catalog has not analysed with the
current model (see analysis/service.py).  On a terminal a progress bar; otherwise one plain line per
finished track.  Ends with a summary: analysed, skipped (already done: unchanged files are never
analysed twice), failed with reasons.  Ctrl+C stops; what finished is kept, and the next run
goes on from there.
"""
from __future__ import annotations

import argparse
import sys
import time

from cli.common import (cancel_on_ctrl_c, emit, existing_folder, fail, music_folder, number, open_catalog, print_error,
                        shown)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", metavar="FOLDER", nargs="?", help="a music folder to scan before analysing")
    parser.add_argument("--workers", type=number(int, low=1), default=None, metavar="N",
                        help="worker processes (default: one per core)")
    parser.add_argument("--model", metavar="DIR", default=None, type=existing_folder,
                        help="model directory (default: the shipped model)")
    parser.add_argument("--retry-failed", action="store_true", help="try the files that failed before again")
    parser.add_argument("--quiet", action="store_true", help="no progress output, only the summary")


def _fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def run(args: argparse.Namespace) -> int:
    from analysis.service import run_analysis
    from cli.scan import scan_folder

    # what can be judged without the catalog is, before it is opened (or made)
    folder = music_folder(args.folder) if args.folder is not None else None
    if args.model is not None:
        from models.card import ModelError, read_card

        try:
            read_card(args.model)
        except ModelError as exc:
            return fail(args, f"cannot analyse: no genre model: {exc}")
    tty = sys.stdout.isatty() and not args.json
    show = not args.json and not args.quiet
    payload: dict = {}
    with open_catalog(args) as catalog, cancel_on_ctrl_c() as cancel:
        if folder is not None:
            if show:
                print(f"Scanning {shown(folder)} ...", flush=True)
            result = scan_folder(catalog, folder, cancel=cancel)
            payload["scan"] = result.as_dict()
            if show:
                c = result.counts()
                print(f"scanned {result.files} audio files: added {c['added']}, updated {c['updated']}, "
                      f"moved {c['moved']}, unchanged {c['unchanged']}, could not read {c['failed']}", flush=True)
            if result.cancelled:
                emit(args, payload, "cancelled")
                return 130
        if args.retry_failed:
            catalog.retry_analysis_failures()
        paths: dict[int, str] = {}

        def path_of(tid: int) -> str:
            if tid not in paths:
                t = catalog.get_track(tid)
                paths[tid] = t.path if t else str(tid)
            return paths[tid]

        last = [0.0]

        def on_progress(p) -> None:
            if not show or not tty:
                return
            now = time.monotonic()
            if now - last[0] < 0.2 and p.done != p.total:
                return
            last[0] = now
            width = 30
            frac = p.done / p.total if p.total else 1.0
            bar = "#" * int(width * frac) + "-" * (width - int(width * frac))
            line = (f"\r[{bar}] {p.done}/{p.total}  {p.tracks_per_minute:.0f} tracks/min  "
                    f"{_fmt_time(p.eta_s)} left  failed {p.failed}  ")
            sys.stdout.write(line)
            sys.stdout.flush()

        def on_track(e) -> None:
            if not show or tty or not e.final:
                return
            if e.ok:
                label = e.label[2] if e.label and not e.label[2].startswith(str(e.top_genre) + " ") else None
                print(f"ok {e.track_id} {e.top_genre} {e.confidence:.2f} " + (f"[{label}] " if label else "")
                      + shown(path_of(e.track_id)), flush=True)
            else:
                print(f"failed {e.track_id} {shown(path_of(e.track_id))}: {e.reason} [{e.kind}]", flush=True)

        summary = run_analysis(catalog, model_dir=args.model, workers=args.workers, on_progress=on_progress,
                               on_track=on_track, cancel=cancel)
        if show and tty:
            sys.stdout.write("\r" + " " * 100 + "\r")
        failures_now = catalog.analysis_failures(summary.model_version or None) if summary.model_version else []
        payload.update(summary.as_dict())
        payload["all_failures"] = [f.as_dict() for f in failures_now]
        if summary.state == "unavailable" or summary.state == "error":
            # nothing was analysed: one line on stderr; with --json the summary carries it too
            message = f"cannot analyse: {summary.reason}"
            if not args.json:
                return fail(args, message)
            print_error(message)
            emit(args, dict(payload, error=message))
            return 1
        emit(args, payload, _text(summary, failures_now))
        return 130 if summary.state == "cancelled" else 0


def _text(s, failures) -> str:
    lines = [
        f"Analysed {s.analysed} tracks in {s.seconds:.1f} s with model {s.model_version}"
        + (f" ({60 * s.analysed / s.seconds:.0f} tracks/min)" if s.seconds > 0 and s.analysed else "")
        + (" -- cancelled; the rest stays queued" if s.state == "cancelled" else ""),
        f"analysed {s.analysed}, skipped {s.skipped} (already analysed), failed {s.failed}"
        + (f", still queued {s.remaining}" if s.remaining else ""),
    ]
    if s.notes:
        lines.append("analysed with a note:")
        lines += [f"  {shown(n['path'])}: {n['note']}" for n in s.notes]
    if s.failures:
        lines.append("failed:")
        lines += [f"  {shown(f['path'])}: {f['reason']} [{f['kind']}]" for f in s.failures]
    earlier = len(failures) - s.failed
    if earlier > 0:
        lines.append(f"{earlier} files failed in earlier runs and were not retried (--retry-failed tries them again)")
    return "\n".join(lines)
