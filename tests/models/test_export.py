"""models/export.py: any model the hybrid builder produces exports to LiteRT and computes the same
function there; the export is deterministic and refuses to touch a directory it cannot export."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from models.card import ModelError, read_card, sha256_of
from models.genre import GenreModel
from tests.models.conftest import ROOT

CLASSES = ["blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock"]


_BUILD = """
import sys
from pathlib import Path
import numpy as np
from models import architectures as A
from models.genre import configure_tensorflow
from models.hybrid import build_hybrid, fit_floor
from models.card import write_card
from models.training import WEIGHTS_NAME, make_card
out, members, sub_window, sub_hop, floor_weight, pool = Path(sys.argv[1]), *map(int, sys.argv[2:5]), float(sys.argv[5]), sys.argv[6]
medians, pooling = sys.argv[7] == "1", sys.argv[8]
configure_tensorflow(1)
ms = []
for i in range(members):
    m = A.build("ours", {"stem": 8, "channels": [8, 12], "pool": pool}, n_classes=10, window=sub_window)
    m.name = f"m{i}_{m.name}"
    ms.append(m)
X = np.random.default_rng(members).uniform(-80, 0, (20, 128, 387)).astype(np.float32)
scaler, lr = fit_floor(X, np.arange(20) % 10, C=0.03, smooth=3, medians=medians)
model = build_hybrid(ms, scaler, lr, floor_weight=floor_weight, sub_hop=sub_hop, pooling=pooling, floor_smooth=3,
                     floor_medians=medians)
out.mkdir(parents=True, exist_ok=True)
model.save(out / WEIGHTS_NAME)
card = make_card(arch="hybrid", config={"members": members, "sub_window": sub_window, "sub_hop": sub_hop,
                                        "floor_weight": floor_weight},
                 classes=CLASSES, window=387, hop=387, weights_path=out / WEIGHTS_NAME,
                 parameters=model.count_params(), data={"file": "none"}, training={}, metrics={})
write_card(out, card)
""".replace("CLASSES", repr(CLASSES))


def _hybrid_dir(out, *, members: int, sub_window: int, sub_hop: int, floor_weight: float, pool: str,
                medians: bool = True, pooling: str = "arithmetic") -> Path:
    """A small untrained hybrid built by ``models.hybrid.build_hybrid`` and saved with a card, as
    ``models.training`` ships one.  Built in a subprocess: Keras' global layer-name counters in
    this process stay as the other tests expect them."""
    subprocess.run([sys.executable, "-c", _BUILD, str(out), str(members), str(sub_window), str(sub_hop),
                    str(floor_weight), pool, "1" if medians else "0", pooling], cwd=ROOT, check=True,
                   capture_output=True, timeout=300)
    return out


def _export_command(d: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "models.export", str(d)], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)


def _windows(n: int, seed: int = 1) -> np.ndarray:
    """Log-mel-like windows: smooth spectra with a time structure (not white noise)."""
    rng = np.random.default_rng(seed)
    base = np.cumsum(rng.normal(0, 2, (n, 128, 1)), axis=1) + np.cumsum(rng.normal(0, 1, (n, 1, 387)), axis=2)
    x = base + rng.normal(0, 3, (n, 128, 387))
    x = -80 + 80 * (x - x.min(axis=(1, 2), keepdims=True)) / np.ptp(x, axis=(1, 2), keepdims=True)
    return x.astype(np.float32)


@pytest.mark.slow
@pytest.mark.parametrize("members, sub_window, sub_hop, floor_weight, pool, emb_per_member, medians, pooling", [
    # more members, wider sub-windows, another hop (a new model may); the floor with its medians
    (3, 129, 64, 0.5, "meanmax", 24, True, "arithmetic"),
    (1, 39, 13, 0.0, "stats", 36, True, "arithmetic"),  # one member, statistics pooling, no floor branch
    (2, 39, 39, 0.5, "meanmax", 24, False, "geometric"),  # the shipped kind: no medians, product of experts
])
def test_any_hybrid_exports_and_litert_computes_the_keras_function(tmp_path, members, sub_window, sub_hop, floor_weight,
                                                                   pool, emb_per_member, medians, pooling):
    from models.export import TFLITE_NAME

    d = _hybrid_dir(tmp_path / "m", members=members, sub_window=sub_window, sub_hop=sub_hop,
                    floor_weight=floor_weight, pool=pool, medians=medians, pooling=pooling)
    before = read_card(d)
    done = _export_command(d)  # the command a model shipper runs
    assert done.returncode == 0, done.stderr
    assert "largest difference to Keras" in done.stdout
    card = read_card(d)
    assert card["tflite"] == TFLITE_NAME and sha256_of(d / TFLITE_NAME) == card["tflite_sha256"]
    assert card["tflite_export"]["from_weights_sha256"] == before["weights_sha256"]
    assert card["version"] == before["version"]  # the same function: stored results stay valid
    assert card["tflite_export"]["check"]["max_abs_diff_probs"] <= 1e-4
    lite = GenreModel.load(d, threads=1)
    reference = GenreModel.load(d, runtime="keras", threads=1)
    assert lite.runtime == "litert" and lite.embedding_dim == reference.embedding_dim == members * emb_per_member
    X = _windows(5)
    for batch in (X[:1], X):  # the batch size is dynamic
        lp, le = lite.analyse_windows(batch)
        kp, ke = reference.analyse_windows(batch)
        np.testing.assert_allclose(lp, kp, atol=1e-4)
        np.testing.assert_allclose(le, ke, atol=1e-4)
    # re-running the command gives the same bytes (a reproducible export)
    first = (d / TFLITE_NAME).read_bytes()
    assert _export_command(d).returncode == 0
    assert (d / TFLITE_NAME).read_bytes() == first


def test_export_command_reports_an_unusable_model_in_one_line(tmp_path, capsys):
    from models.export import main

    assert main([str(tmp_path / "nowhere")]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no such model directory" in err
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "card.json").write_text(json.dumps({"version": "x"}))
    assert main([str(tmp_path / "m")]) == 1
    assert "model card is corrupt" in capsys.readouterr().err
    with pytest.raises(ModelError):
        GenreModel.load(tmp_path / "m")
