"""Screenshots of the main window for the README (not a test).

    xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python tests/desktop/make_screenshots.py [OUT_DIR [--real [TITLE]]]

OUT_DIR defaults to resources/screenshots.

Without --real: the window filled with demo data (a log-mel from ../shared/data/gtzan_logmel, or
synthetic, with invented genre probabilities, a progress line and two failed files) is saved as
``main-window.png``, then with placeholders and the no-device notice as ``not-analysed.png``.

With --real: the app as a user sees it (``desktop.app.build`` on a fresh data directory). The
Creative Commons clips of ../shared/data/cc_music are copied and scanned (the untagged ones
tagged from ``CC_TAGS``); the track titled TITLE (default "Let's Go Fishin'") plays on the ALSA
null device, paced to real time, and is liked when TITLE is given. ``playing.png`` is saved
once the genre chart has data (or the app reports a model problem) and SHOT_AFTER seconds
(default 12) have passed. More conditions from the environment: SHOT_LIKES (titles to like,
separated by ``|``; waits for recommendations), SHOT_PREDICTED (how many tracks must have a
predicted genre), SHOT_TIMEOUT (seconds, default 240).
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

GENRES = ["blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock"]


def demo_logmel(seconds: float = 150.0) -> np.ndarray:
    path = ROOT.parent / "shared" / "data" / "gtzan_logmel" / "gtzan_logmel_trainval.npz"
    if path.exists():
        d = np.load(path)
        ids = list(d["ids"])
        rows = [ids.index(i) for i in ("rock.00003", "rock.00007", "rock.00011", "rock.00005", "rock.00009") if i in ids]
        if rows:
            return np.ascontiguousarray(np.concatenate([d["X"][r] for r in rows], axis=1), dtype=np.float32)
    rng = np.random.default_rng(0)
    n = int(seconds * 12.9)
    S = -80 + 60 * np.exp(-np.arange(128)[:, None] / 40.0) + 10 * rng.standard_normal((128, n))
    return np.clip(S, -80, 0).astype(np.float32)


def demo_probs(n_win: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    base = np.array([0.08, 0.01, 0.06, 0.03, 0.02, 0.04, 0.22, 0.08, 0.02, 0.44])
    t = np.linspace(0, 1, n_win)[:, None]
    drift = np.zeros((n_win, len(GENRES)))
    drift[:, 6] = 0.5 * np.sin(2 * np.pi * t[:, 0] * 2) ** 2
    drift[:, 0] = 0.3 * (t[:, 0] > 0.6)
    logits = np.log(base)[None, :] + 2.0 * drift + 0.35 * rng.standard_normal((n_win, len(GENRES)))
    p = np.exp(logits)
    p /= p.sum(1, keepdims=True)
    return p.astype(np.float32), p.mean(0).astype(np.float32)


#: titles for the Creative Commons clips that carry no tags (from ../shared/data/cc_music/CREDITS.txt)
CC_TAGS = {
    "147793__setuniman__sweet-waltz-0i-22mi.ogg": ("Sweet Waltz 0I_22mi", "Setuniman", "Freesound", "Waltz"),
    "198-209-0000.ogg": ("Sense and Sensibility, ch. 18", "Heather Barnett", "LibriSpeech", "Speech"),
    "3436-172162-0000.ogg": ("The Age of Chivalry, ch. 18", "Anders Lankford", "LibriSpeech", "Speech"),
    "442789__lena-orsa__happy-music-pistachio-ice-cream-ragtime.ogg": ("Pistachio Ice Cream Ragtime", "Lena Orsa", "Freesound", "Ragtime"),
    "456440__inspectorj__bird-whistling-robin-single-13.ogg": ("Robin, single call", "InspectorJ", "Freesound", ""),
    "5703-47212-0000.ogg": ("LibriSpeech 5703-47212", "LibriSpeech reader", "LibriSpeech", "Speech"),
    "admiralbob77_-_Choice_-_Drum-bass.ogg": ("Choice", "Admiral Bob", "ccMixter", "Drum & Bass"),
    "glacier-bay-humpback.ogg": ("Glacier Bay humpback", "NPS", "Field recordings", ""),
    "pibble.ogg": ("Pibble howling in her sleep", "Brian McFee", "Field recordings", ""),
    "sorohanro_-_solo-trumpet-06.ogg": ("Solo trumpet 06", "sorohanro", "Freesound", "Jazz"),
}


def real_library(dest: Path) -> Path:
    """Copy the Creative Commons clips to ``dest`` and tag the untagged ones."""
    import shutil

    import mutagen

    src = ROOT.parent / "shared" / "data" / "cc_music"
    dest.mkdir(parents=True, exist_ok=True)
    for p in sorted(src.glob("*.ogg")):
        q = dest / p.name
        shutil.copyfile(p, q)
        if p.name in CC_TAGS:
            title, artist, album, genre = CC_TAGS[p.name]
            f = mutagen.File(q)
            if f is not None:
                f["title"], f["artist"], f["album"] = title, artist, album
                if genre:
                    f["genre"] = genre
                f.save()
    return dest


def main_real(out: Path, title: str) -> int:
    """The app as a user sees it: a real library scanned, a real clip playing (paced null device)."""
    import os
    import time

    os.environ.setdefault("ALSA_CONFIG_PATH", str(ROOT / "tests" / "data" / "asoundrc"))
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from desktop.app import build

    app = QApplication.instance() or QApplication(["melograph"])
    tmp = Path(tempfile.mkdtemp(prefix="melograph-shot-"))
    lib = real_library(tmp / "Music")
    app, window, c = build(["--data-dir", str(tmp / "data"), str(lib)], app=app)
    from core.playback import Player

    holder = {}
    holder["p"] = c.player = Player(tap=lambda b: time.sleep(len(b) / (holder["p"].stream_rate or 44100)))
    # the window at its default size (a fresh data directory: nothing restored), as on a first start
    window.show()
    c.start()
    state = {"t0": time.time(), "played": False}

    def tick():
        if not state["played"] and c.library.model.rowCount() and not c.library.scanning:
            row = next((r for r in range(c.library.model.rowCount()) if c.library.model.row_data(r).title == title), 0)
            window.library_view.selectRow(row)
            c.playback.play_ids([c.library.model.track_id(row)])
            state["played"] = time.time()
            if len(sys.argv) > 3:
                c.library.rate([c.library.model.track_id(row)], 1)
            for t in filter(None, os.environ.get("SHOT_LIKES", "").split("|")):
                r = next((r for r in range(c.library.model.rowCount()) if c.library.model.row_data(r).title == t), None)
                if r is not None:
                    c.library.rate([c.library.model.track_id(r)], 1)
        elif state["played"] and (c.analysis.model_problem or window.genre_chart.has_data) and \
                time.time() - state["played"] > float(os.environ.get("SHOT_AFTER", "12")) and \
                sum(1 for r in range(c.library.model.rowCount()) if c.library.model.row_data(r).predicted) >= int(os.environ.get("SHOT_PREDICTED", "0")) and \
                (not os.environ.get("SHOT_LIKES") or window.recommendations.list.count() > 0):
            window.grab().save(str(out / "playing.png"))
            print("saved", out / "playing.png", "genre chart:", window.genre_chart.has_data)
            app.quit()
            return
        if time.time() - state["t0"] > float(os.environ.get("SHOT_TIMEOUT", "240")):
            print("timed out")
            app.quit()
            return
        QTimer.singleShot(200, tick)

    QTimer.singleShot(200, tick)
    app.exec()
    c.shutdown()
    sys.stdout.flush()
    os._exit(0)  # skip exit-time destruction (see desktop/app.py)


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else ROOT / "resources" / "screenshots"
    if len(argv) > 1 and argv[1] == "--real":
        out.mkdir(parents=True, exist_ok=True)
        return main_real(out, argv[2] if len(argv) > 2 else "Let's Go Fishin'")
    out.mkdir(parents=True, exist_ok=True)
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from desktop.app import build

    app = QApplication.instance() or QApplication(["melograph"])
    tmp = tempfile.mkdtemp(prefix="melograph-shot-")
    app, window, _app = build(["--data-dir", tmp], app=app)
    window.resize(1400, 860)
    window.show()
    S = demo_logmel()
    dur = S.shape[1] / 12.9
    window.set_now_playing("Highway Song", "The Demo Band", "Live at the Lab")
    window.spectrogram.set_spectrogram(S)
    n_win = int((dur - 3.0) // 1.5) + 1
    wp, tp = demo_probs(n_win)
    window.genre_chart.set_track(GENRES, wp, tp, 3.0, 1.5, duration=dur)
    window.transport.set_duration(dur)
    window.transport.set_playing(True)
    pos = dur * 0.37
    window.transport.set_position(pos)
    window.spectrogram.set_position(pos)
    window.genre_chart.set_position(pos)
    window.transport.set_rating(1)
    window.set_track_count(1234)
    window.set_progress("Analysing 312 of 1,234", 312, 1234)
    window.failures.add_failures([("/music/broken/track01.mp3", "decode failed: truncated MPEG frame"), ("/music/notes.mp3", "not an audio file (text)")])

    def shoot():
        window.grab().save(str(out / "main-window.png"))
        window.spectrogram.set_placeholder()
        window.genre_chart.set_placeholder()
        window.set_notice("player", "No audio output device was found: Melograph can browse and analyse, but not play.")
        app.processEvents()
        window.grab().save(str(out / "not-analysed.png"))
        app.quit()

    QTimer.singleShot(800, shoot)
    app.exec()
    print("screenshots in", out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
