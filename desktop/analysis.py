"""Genre analysis of the now-playing track, in a separate process (TensorFlow never loads in the
UI process).

Until the library-wide analysis service stores results in the catalog, the now-playing view asks
for its track through ``python main.py predict FILE --json`` (``models/commands/predict.py``) run
by a ``QProcess`` at a lower CPU priority (``NICE``): one at a time, a newer request replaces an
older one, results are kept per track for the session.

Signals:
    analysed(object)       an ``Analysis`` (GUI thread)
    failed(int, str)       track id, one-line reason
"""
from __future__ import annotations

import dataclasses
import json
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, Signal, Slot

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHIPPED_CARD = PROJECT_ROOT / "models" / "shipped" / "card.json"


@dataclasses.dataclass
class Analysis:
    track_id: int
    classes: list[str]
    window_probs: "np.ndarray"  # (n_windows, n_classes) float32
    track_probs: "np.ndarray"  # (n_classes,)
    window_seconds: float
    hop_seconds: float
    duration: float

    @property
    def top(self) -> tuple[str, float]:
        k = int(self.track_probs.argmax())
        return self.classes[k], float(self.track_probs[k])


#: another model directory for the app (a trained run, before one is shipped)
ENV_MODEL_DIR = "MELOGRAPH_MODEL_DIR"


def model_dir_override() -> str | None:
    return os.environ.get(ENV_MODEL_DIR) or None


def model_problem(card: Path | None = None) -> str | None:
    """Why genres cannot be tagged (no model), or None.  Cheap: no TensorFlow."""
    if card is None:
        override = model_dir_override()
        card = Path(override) / "card.json" if override else SHIPPED_CARD
    if not card.exists():
        if card != SHIPPED_CARD:
            return f"No genre model in {card.parent} (no card.json), so tracks play but their genres are not tagged."
        return "No genre model is installed (models/shipped/), so tracks play but their genres are not tagged."
    try:
        json.loads(card.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"The genre model's card cannot be read ({exc}), so tracks play but are not tagged."
    return None


def analysis_from_predict(track_id: int, result: dict) -> Analysis:
    """An ``Analysis`` from one entry of ``predict --json``'s ``results``."""
    import numpy as np

    timeline = result.get("timeline") or []
    if not timeline:
        raise ValueError("the model returned no windows")
    classes = list(timeline[0]["probs"].keys())
    wp = np.array([[w["probs"][c] for c in classes] for w in timeline], dtype=np.float32)
    tp = np.array([result["track"][c] for c in classes], dtype=np.float32)
    starts = np.array([w["start_s"] for w in timeline], dtype=np.float64)
    duration = float(result.get("seconds") or 0.0)
    if len(starts) > 2:
        hop = float(starts[1] - starts[0])
        window = max(hop, duration - float(starts[-1]))  # the last window is aligned to the end
    elif len(starts) == 2:
        window = max(0.1, duration - float(starts[-1]))
        hop = float(starts[1] - starts[0]) or window
    else:
        window = hop = max(duration, 0.1)
    return Analysis(track_id, classes, wp, tp, window, hop, duration)


#: the analysis process's CPU priority (POSIX nice): TensorFlow's start-up and the inference take
#: seconds of CPU right when a track starts; the UI and the audio come first
NICE = 5
#: ``python -c _NICE_MAIN NICE main.py ARGS...``: lower the priority, then run main.py
_NICE_MAIN = (
    "import os, runpy, sys\n"
    "n = int(sys.argv[1])\n"
    "if n and hasattr(os, 'nice'):\n"
    "    try:\n"
    "        os.nice(max(0, n - os.nice(0)))\n"
    "    except OSError:\n"
    "        pass\n"
    "sys.argv = sys.argv[2:]\n"
    "sys.path.insert(0, os.path.dirname(os.path.abspath(sys.argv[0])))\n"
    "runpy.run_path(sys.argv[0], run_name='__main__')\n"
)


class NowPlayingAnalyser(QObject):
    analysed = Signal(object)
    failed = Signal(int, str)

    def __init__(self, parent: QObject | None = None, *, model_dir: str | None = None, nice: int = NICE):
        super().__init__(parent)
        self.nice = int(nice)
        self.model_dir = model_dir or model_dir_override()
        self.cache: dict[int, Analysis] = {}
        self._proc: QProcess | None = None
        self._track: tuple[int, str] | None = None
        self._queued: tuple[int, str] | None = None

    @property
    def busy(self) -> bool:
        return self._proc is not None

    def request(self, track_id: int, path: str) -> None:
        """Analyse ``path`` (unless cached: then ``analysed`` is emitted at once)."""
        if track_id in self.cache:
            self.analysed.emit(self.cache[track_id])
            return
        if self._track and self._track[0] == track_id:
            return  # already running
        if self._proc is not None:
            self._queued = (track_id, path)
            self._proc.kill()  # finished() starts the queued one
            return
        self._start(track_id, path)

    def _start(self, track_id: int, path: str) -> None:
        proc = QProcess(self)
        env = QProcessEnvironment.systemEnvironment()
        env.insert("TF_CPP_MIN_LOG_LEVEL", "2")
        env.insert("MELOGRAPH_TF_THREADS", "1")
        proc.setProcessEnvironment(env)
        proc.setWorkingDirectory(str(PROJECT_ROOT))
        args = ["-c", _NICE_MAIN, str(self.nice), str(PROJECT_ROOT / "main.py"), "predict", path, "--json"]
        if self.model_dir:
            args += ["--model", self.model_dir]
        # bound methods, not lambdas: Qt drops the connections if this object goes away first
        proc.finished.connect(self._on_proc_finished)
        proc.errorOccurred.connect(self._on_proc_error)
        self._proc, self._track = proc, (track_id, path)
        proc.start(sys.executable, args)

    @Slot(int, QProcess.ExitStatus)
    def _on_proc_finished(self, code: int, _status=None) -> None:
        proc = self.sender()
        if isinstance(proc, QProcess):
            self._on_finished(proc, code)

    @Slot(QProcess.ProcessError)
    def _on_proc_error(self, err) -> None:
        proc = self.sender()
        if isinstance(proc, QProcess):
            self._on_error(proc, err)

    def _on_error(self, proc: QProcess, err) -> None:
        if err == QProcess.ProcessError.FailedToStart and proc is self._proc:
            tid = self._track[0] if self._track else -1
            self._done()
            self.failed.emit(tid, "the analysis process could not start")

    def _on_finished(self, proc: QProcess, code: int) -> None:
        if proc is not self._proc:
            return
        tid, path = self._track or (-1, "")
        out = bytes(proc.readAllStandardOutput()).decode("utf-8", "replace")
        err = bytes(proc.readAllStandardError()).decode("utf-8", "replace")
        queued = self._queued
        self._done()
        if queued is None:  # not replaced by a newer request
            try:
                payload = json.loads(out)
                results = payload.get("results") or []
                if results:
                    a = analysis_from_predict(tid, results[0])
                    self.cache[tid] = a
                    self.analysed.emit(a)
                else:
                    fails = payload.get("failures") or [{}]
                    self.failed.emit(tid, fails[0].get("error") or payload.get("error") or "analysis failed")
            except (ValueError, KeyError, TypeError) as exc:
                last = [ln for ln in err.splitlines() if ln.strip()][-1:] or [str(exc)]
                log.info("analysis of %s failed (exit %s): %s", path, code, err[-2000:])
                self.failed.emit(tid, last[0].replace("melograph: error: ", ""))
        else:
            self._start(*queued)

    def _done(self) -> None:
        proc = self._proc
        if proc is not None:
            proc.finished.disconnect(self._on_proc_finished)
            proc.errorOccurred.disconnect(self._on_proc_error)
            proc.deleteLater()
        self._proc, self._track, self._queued = None, None, None

    def shutdown(self) -> None:
        self._queued = None
        if self._proc is not None:
            self._proc.kill()
            self._proc.waitForFinished(2000)
            self._done()
