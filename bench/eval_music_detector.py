"""How well the music / not-music detector labels audio it was not fitted on.

    python bench/eval_music_detector.py [--model DIR] [--json]

Prints, per set, how many clips the detector calls *not music* (track rule of
``models.music.track_decision``: the median of the 3 s cells' music probability below 0.5):

- held-out non-music of ``../shared/data/not_music`` (ESC-10 fold 4, the FSDD speaker nicolas;
  never fitted), per kind -- goal: at least 95 % flagged;
- held-out espeak-ng voices (languages and variants never fitted; needs ``espeak-ng``);
- held-out Festival voices (voices never fitted; needs Festival, ``models.music_training.FESTIVAL_PACKAGES``);
- music: the GTZAN *valid* arrays (never fitted), the ``gtzan_audio`` clips decoded from their
  files as the app does (these include training clips), and the ``cc_music`` songs -- goal: at
  most 2 % flagged;
- ``cc_music``'s non-music (the three LibriSpeech readings, the robin, the whale, the dog), which
  must all be flagged, a song with a 14 s spoken intro, which must stay music, and a podcast
  (talk over a music bed 25, 20 and 15 dB down between two jingles), which must be speech.

Files go through the app's own path (``analysis.worker.prepare_file``: decode, mono 22050 Hz,
log-mel excerpt by excerpt); the arrays through ``models.music.cell_inputs``.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CC_NOT_MUSIC = {"198-209-0000.ogg": "speech", "3436-172162-0000.ogg": "speech", "5703-47212-0000.ogg": "speech",
                "456440__inspectorj__bird-whistling-robin-single-13.ogg": "sound", "glacier-bay-humpback.ogg": "sound",
                "pibble.ogg": "sound"}


def verdict_of_file(detector, path) -> dict:
    from analysis.worker import prepare_file

    prep = prepare_file(str(path))
    return detector.analyse_track(prep["S"])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=None, help="detector directory (default: the shipped one)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    from models import music_training as T
    from models.music import MusicDetector, cell_inputs, track_decision

    det = MusicDetector.load(args.model)
    out: dict = {"model": det.version}
    say = (lambda *a: None) if args.json else print
    say(f"detector {det.version} ({det.runtime})")

    # held-out non-music clips of not_music/
    import csv

    with open(DATA / "not_music" / "manifest.csv", newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if T.split_of(r["file"]) == "valid"]
    per_kind: dict = {}
    wrong_kind = 0
    for r in rows:
        v = verdict_of_file(det, DATA / "not_music" / r["file"])
        k = per_kind.setdefault(r["kind"], [0, 0])
        k[0] += 1
        k[1] += v["is_music"] is False
        if r["kind"] == "speech" and v["is_music"] is False and v["kind"] != "speech":
            wrong_kind += 1
    n = sum(k[0] for k in per_kind.values())
    flagged = sum(k[1] for k in per_kind.values())
    out["heldout_not_music"] = {"clips": n, "flagged": flagged, "share": flagged / n,
                                "per_kind": {k: {"clips": a, "flagged": b} for k, (a, b) in sorted(per_kind.items())},
                                "speech_called_sound": wrong_kind}
    say(f"held-out not_music clips (ESC fold 4, FSDD nicolas): {flagged}/{n} flagged = {100 * flagged / n:.1f} %  (goal >= 95 %)")
    for k, (a, b) in sorted(per_kind.items()):
        say(f"    {k:12s} {b}/{a} = {100 * b / a:.1f} %")

    # held-out espeak voices
    import shutil

    if shutil.which("espeak-ng"):
        with tempfile.TemporaryDirectory() as tmp:
            items = [i for i in T.synthesise_speech(Path(tmp)) if i["split"] == "valid"]
            vs = [verdict_of_file(det, i["path"]) for i in items]
        b = sum(v["is_music"] is False for v in vs)
        sp = sum(v["kind"] == "speech" for v in vs if v["is_music"] is False)
        out["heldout_espeak"] = {"clips": len(vs), "flagged": b, "share": b / len(vs), "kind_speech": sp,
                                 "voices": sorted({i["voice"] for i in items})}
        say(f"held-out espeak-ng voices ({', '.join(T.VALID_LANGS)} x {', '.join(T.VALID_VARIANTS)}): "
            f"{b}/{len(vs)} flagged = {100 * b / len(vs):.1f} % (called speech: {sp})")
    else:
        say("held-out espeak-ng voices: skipped (espeak-ng is not installed)")

    # held-out Festival voices (voices cut from real speakers)
    if shutil.which("text2wave"):
        with tempfile.TemporaryDirectory() as tmp:
            items = [i for i in T.synthesise_festival(Path(tmp)) if i["split"] == "valid"]
            vs = [verdict_of_file(det, i["path"]) for i in items]
        per_voice = {}
        for i, v in zip(items, vs):
            a, b = per_voice.get(i["voice"], (0, 0))
            per_voice[i["voice"]] = (a + 1, b + (v["is_music"] is False))
        b = sum(v["is_music"] is False for v in vs)
        sp = sum(v["kind"] == "speech" for v in vs if v["is_music"] is False)
        out["heldout_festival"] = {"clips": len(vs), "flagged": b, "share": b / len(vs), "kind_speech": sp,
                                   "per_voice": {k: {"clips": a, "flagged": f} for k, (a, f) in per_voice.items()}}
        say(f"held-out Festival voices ({', '.join(T.FESTIVAL_VALID_VOICES)}): {b}/{len(vs)} flagged = "
            f"{100 * b / len(vs):.1f} % (called speech: {sp}); "
            + ", ".join(f"{k} {f}/{a}" for k, (a, f) in per_voice.items()))
    else:
        say("held-out Festival voices: skipped (Festival is not installed)")

    # music: GTZAN valid arrays
    d = np.load(T.GTZAN_NPZ)
    Xv = d["X"][d["split"] == "valid"].astype(np.float32)
    flagged_ids = []
    for S, cid in zip(Xv, d["ids"][d["split"] == "valid"]):
        x, silent = cell_inputs(S)
        p = np.full((len(x), 3), np.nan, np.float32)
        p[~silent] = det._backend.forward(x[~silent])
        if track_decision(p, silent)["is_music"] is False:
            flagged_ids.append(str(cid))
    out["gtzan_valid_arrays"] = {"clips": len(Xv), "flagged": len(flagged_ids), "share": len(flagged_ids) / len(Xv),
                                 "flagged_ids": flagged_ids}
    say(f"GTZAN valid arrays (music): {len(flagged_ids)}/{len(Xv)} flagged = {100 * len(flagged_ids) / len(Xv):.1f} %"
        f"  (goal <= 2 %) {' '.join(flagged_ids)}")

    # music: gtzan_audio files
    files = sorted((DATA / "gtzan_audio").glob("*.flac"))
    fl = [f.name for f in files if verdict_of_file(det, f)["is_music"] is False]
    out["gtzan_audio"] = {"clips": len(files), "flagged": len(fl), "share": len(fl) / max(1, len(files)), "flagged_files": fl}
    say(f"gtzan_audio files (music, decoded as the app does): {len(fl)}/{len(files)} flagged = "
        f"{100 * len(fl) / max(1, len(files)):.1f} %  {' '.join(fl)}")

    # cc_music
    cc = []
    for f in sorted((DATA / "cc_music").glob("*.ogg")):
        try:
            v = verdict_of_file(det, f)
        except Exception as exc:  # noqa: BLE001 - a file the decoder refuses is reported, not fatal
            cc.append({"file": f.name, "error": str(exc)})
            continue
        want = CC_NOT_MUSIC.get(f.name)
        cc.append({"file": f.name, "expected": "not music" if want else "music",
                   "is_music": v["is_music"], "kind": v["kind"], "music_probability": round(v["music_probability"], 3),
                   "ok": (v["is_music"] is False) if want else bool(v["is_music"])})
    songs = [c for c in cc if c.get("expected") == "music"]
    other = [c for c in cc if c.get("expected") == "not music"]
    out["cc_music"] = cc
    say(f"cc_music songs: {sum(not c['ok'] for c in songs)}/{len(songs)} flagged; "
        f"cc_music non-music: {sum(c['ok'] for c in other)}/{len(other)} flagged")
    for c in cc:
        if "error" in c:
            say(f"    {c['file']}: {c['error']}")
        else:
            say(f"    {'ok  ' if c['ok'] else 'MISS'} {c['file'][:60]:60s} p(music) {c['music_probability']:.3f}"
                f" -> {'music' if c['is_music'] else 'not music (' + str(c['kind']) + ')'}")

    # a song with a spoken intro stays music
    from analysis.worker import prepare_file
    from core.features import logmel_track

    speech = prepare_file(str(DATA / "cc_music" / "198-209-0000.ogg"))
    from core.audio import decode

    y_speech, _ = decode.read(DATA / "cc_music" / "198-209-0000.ogg", sr=22050, mono=True)
    y_song, _ = decode.read(DATA / "cc_music" / "Kevin_MacLeod_-_Vibe_Ace.ogg", sr=22050, mono=True)
    S = logmel_track(y=np.concatenate([y_speech, y_song]).astype(np.float32))
    v = det.analyse_track(S)
    out["spoken_intro_song"] = {"is_music": v["is_music"], "music_share": v["music_share"]}
    say(f"a song with a {speech['seconds']:.0f} s spoken intro: {'music' if v['is_music'] else 'NOT music'} "
        f"({100 * v['music_share']:.0f} % of its cells music)")

    # a podcast: a minute of talk over a music bed, a 5 s jingle before and after -- speech,
    # with the jingles music on its timeline
    talk = np.concatenate([decode.read(DATA / "cc_music" / n, sr=22050, mono=True)[0]
                           for n in ("198-209-0000.ogg", "3436-172162-0000.ogg")] * 2)
    bed = np.tile(y_song, int(np.ceil(len(talk) / len(y_song))))[: len(talk)]
    bed = bed * (np.sqrt(np.mean(talk ** 2)) / np.sqrt(np.mean(bed ** 2)))
    out["podcast"] = {}
    for db in (-25, -20, -15):
        y = np.concatenate([bed[: 5 * 22050], talk + bed * 10 ** (db / 20), bed[: 5 * 22050]]).astype(np.float32)
        v = det.analyse_track(logmel_track(y=y))
        cells = v["cell_music"]
        out["podcast"][db] = {"is_music": v["is_music"], "kind": v["kind"], "music_probability": v["music_probability"],
                              "jingles_music": bool(cells[0] > 0.5 and cells[-1] > 0.5)}
        say(f"a podcast, talk over a music bed {-db} dB down: "
            f"{'MUSIC' if v['is_music'] else 'not music (' + str(v['kind']) + ')'} (p {v['music_probability']:.2f}); "
            f"jingles on the timeline: {'music' if out['podcast'][db]['jingles_music'] else 'NOT music'}")
    if args.json:
        print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
