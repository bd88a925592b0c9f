"""Screenshots of the main window for the README (not a test).

    xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python tests/desktop/make_screenshots.py OUT_DIR [--real]

Without --real the now-playing view shows a log-mel from ../shared/data/gtzan_logmel (or
synthetic data) and invented genre probabilities; with --real the app's own pieces are used
when they exist (catalog, player, analysis) on a clip from ../shared/data/gtzan_audio.
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


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else ROOT / "resources" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from desktop.app import build

    app = QApplication.instance() or QApplication(["melograph"])
    tmp = tempfile.mkdtemp(prefix="melograph-shot-")
    app, window, controller = build(["--data-dir", tmp], app=app)
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
