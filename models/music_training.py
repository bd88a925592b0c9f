"""Train the music / not-music detector (:mod:`models.music`) and write it with its card.

    python main.py train-music [--out DIR] [--epochs N] [--seed S] [--festival] [--compress P] [--voice-shift P]

Data (``../shared/data``, see its README):

- music: the GTZAN log-mel arrays, ``train`` clips for fitting, ``valid`` clips for the report;
- non-music: ``not_music/`` (ESC-10 sounds, FSDD spoken digits), widened as its README asks:
  speech synthesised with ``espeak-ng`` (several languages and voices, at full bandwidth;
  ``apt-get install espeak-ng``, needed for training only), with ``--festival`` also read by
  Festival's voices cut from real speakers (``FESTIVAL_PACKAGES``), speech and sounds mixed over noise
  or quiet music, and every class band-limited at random (3-9 kHz) so that bandwidth cannot
  tell music from speech (FSDD's speech is 8 kHz audio, with nothing above 4 kHz); with
  ``--compress P`` a share ``P`` of the music cells get squashed dynamics (:func:`compress`), so
  that a steady, dense texture alone does not make a cell "sound".

Sources stay apart (:func:`split_of`): ESC fold 4, the FSDD speaker ``nicolas``, the espeak
languages/variants of ``VALID_LANGS`` / ``VALID_VARIANTS`` and the Festival voices of
``FESTIVAL_VALID_VOICES`` are held out; the held-out clips are
never fitted and only reported on.  Every setting (epochs, learning rate, threshold 0.5, the last
epoch kept) is fixed here before training; nothing is chosen on the held-out clips.

The run directory gets ``model.keras``, ``model.tflite`` (LiteRT, checked against Keras),
``card.json``, ``metrics.json`` and ``train.log``; copy it to ``models/shipped/music/`` to ship it.
"""
from __future__ import annotations

import csv
import datetime as _dt
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from core import features as F
from models.card import sha256_of, write_card
from models.music import CELL_COLUMNS, CLASSES, MUSIC_THRESHOLD, cell_inputs, standardise, track_decision

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
GTZAN_NPZ = DATA / "gtzan_logmel" / "gtzan_logmel_trainval.npz"
NOT_MUSIC = DATA / "not_music"

#: the settings, fixed before any run
DEFAULTS = {
    "epochs": 18, "steps_per_epoch": 160, "batch": 64, "lr": 2e-3, "seed": 0,
    "p_bandlimit": 0.5, "cutoff_hz": [3000.0, 9000.0], "p_mix": 0.5,
    "speech_over_music_db": [-30.0, -12.0], "noise_snr_db": [0.0, 20.0], "music_over_sound_db": [-25.0, -10.0],
    "tilt_db": 6.0, "class_share": {"music": 0.5, "speech": 0.25, "sound": 0.25},
    "p_reverb": 0.4, "rt60_s": [0.2, 1.2], "p_stretch": 0.5, "stretch": [0.8, 1.25],
    "selection": "last epoch (no selection on held-out data)",
    "festival": False,  # Festival's read speech in the speech class (--festival; the shipped detector has it)
    # music cells with their dynamics squashed (a limiter's or a distorted guitar's steady wall of
    # sound), so that a dense, steady texture alone does not make a cell "sound"
    "p_compress": 0.0, "compress": [0.35, 0.8],  # --compress P sets p_compress (the shipped detector: 0.3)
    # speech cells moved along the mel axis (deeper or higher voices than the few speakers here)
    "p_voice_shift": 0.0, "voice_shift_bands": [-8, 3],
}
VALID_ESC_FOLD = "4"
VALID_FSDD_SPEAKER = "nicolas"
TRAIN_LANGS = ("en-us", "en-gb", "de", "fr", "es", "it")
VALID_LANGS = ("pt", "pl", "sv")
TRAIN_VARIANTS = ("", "+m1", "+m3", "+f1", "+f3", "+klatt", "+croak")
VALID_VARIANTS = ("+m2", "+f2", "+f4", "+klatt2")
#: Festival voices (``apt-get install festival`` and the ``festvox-*`` packages): diphone and
#: unit-selection voices are cut from recordings of real speakers, closer to a human reading than
#: espeak's formant synthesis; voice -> the language of its texts.  No voice is on both sides.
FESTIVAL_TRAIN_VOICES = {"kal_diphone": "en", "ked_diphone": "en", "lp_diphone": "it", "czech_ph": "en",
                         "msu_ru_nsh_clunits": "en"}
FESTIVAL_VALID_VOICES = {"pc_diphone": "it", "czech_machac": "en", "cmu_us_slt_arctic_hts": "en"}
FESTIVAL_UTTERANCES = 8  #: per voice, each two or three sentences read in a row
FESTIVAL_PACKAGES = ("festival", "festvox-kallpc16k", "festvox-kdlpc16k", "festvox-itapc16k", "festvox-italp16k",
                     "festvox-czech-ph", "festvox-czech-machac", "festvox-ru", "festvox-us-slt-hts")

SENTENCES = {
    "en": ["The quick brown fox jumps over the lazy dog near the river bank this morning.",
           "Please remember to bring the documents to the meeting on Thursday afternoon.",
           "Yesterday the weather was cold and windy, but today the sun is shining again.",
           "In the beginning of the story, the young traveller leaves home to find his fortune.",
           "Our next train to the city centre departs from platform four in ten minutes.",
           "Scientists have discovered a new species of frog in the tropical rain forest.",
           "Could you tell me how to get to the nearest post office from here, please?",
           "The committee will publish its final report at the end of the month."],
    "de": ["Der schnelle braune Fuchs springt über den faulen Hund am Ufer des Flusses.",
           "Bitte denken Sie daran, die Unterlagen zur Besprechung am Donnerstag mitzubringen.",
           "Gestern war das Wetter kalt und windig, aber heute scheint wieder die Sonne.",
           "Der nächste Zug in die Innenstadt fährt in zehn Minuten von Gleis vier ab."],
    "fr": ["Le renard brun rapide saute par-dessus le chien paresseux au bord de la rivière.",
           "N'oubliez pas d'apporter les documents à la réunion de jeudi après-midi.",
           "Hier il faisait froid et venteux, mais aujourd'hui le soleil brille de nouveau.",
           "Le prochain train pour le centre-ville part du quai quatre dans dix minutes."],
    "es": ["El rápido zorro marrón salta sobre el perro perezoso junto a la orilla del río.",
           "Por favor, recuerde traer los documentos a la reunión del jueves por la tarde.",
           "Ayer el tiempo era frío y ventoso, pero hoy el sol vuelve a brillar.",
           "El próximo tren al centro de la ciudad sale del andén cuatro en diez minutos."],
    "it": ["La veloce volpe marrone salta sopra il cane pigro vicino alla riva del fiume.",
           "Per favore, ricordati di portare i documenti alla riunione di giovedì pomeriggio.",
           "Ieri il tempo era freddo e ventoso, ma oggi il sole splende di nuovo.",
           "Il prossimo treno per il centro parte dal binario quattro tra dieci minuti."],
    "pt": ["A rápida raposa marrom salta sobre o cão preguiçoso perto da margem do rio.",
           "Por favor, lembre-se de trazer os documentos para a reunião de quinta-feira.",
           "Ontem o tempo estava frio e ventoso, mas hoje o sol brilha outra vez."],
    "pl": ["Szybki brązowy lis przeskakuje nad leniwym psem przy brzegu rzeki.",
           "Proszę pamiętać, aby przynieść dokumenty na spotkanie w czwartek po południu.",
           "Wczoraj było zimno i wietrznie, ale dzisiaj znowu świeci słońce."],
    "sv": ["Den snabba bruna räven hoppar över den lata hunden vid flodens strand.",
           "Kom ihåg att ta med dokumenten till mötet på torsdag eftermiddag.",
           "Igår var det kallt och blåsigt, men idag skiner solen igen."],
}


def _log(path: Path | None, msg: str) -> None:
    line = f"{time.strftime('%H:%M:%S')} {msg}"
    print(line, flush=True)
    if path is not None:
        with open(path, "a", encoding="utf-8") as f:
            f.write(line + "\n")


# ----------------------------------------------------------------------------------- data
def split_of(name: str) -> str:
    """``"train"`` or ``"valid"`` for a not_music/ clip name (ESC fold, FSDD speaker)."""
    if name.startswith("fsdd_"):
        return "valid" if name.split("_")[1] == VALID_FSDD_SPEAKER else "train"
    fold = name.split("_")[-1].split("-")[0]
    return "valid" if fold == VALID_ESC_FOLD else "train"


def synthesise_speech(out_dir: Path, *, seed: int = 0) -> list[dict]:
    """Speech from ``espeak-ng`` (22050 Hz WAV, full bandwidth) into ``out_dir``: every training
    language x training variant, and the held-out languages x held-out variants (no voice on both
    sides).  Returns ``[{"path", "voice", "split"}]``."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise RuntimeError("espeak-ng is not installed (apt-get install espeak-ng); it is needed to train "
                           "the music detector")
    rng = np.random.default_rng(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    plans = [(lang, var, "train") for lang in TRAIN_LANGS for var in TRAIN_VARIANTS]
    plans += [(lang, var, "valid") for lang in VALID_LANGS for var in VALID_VARIANTS]
    items = []
    for lang, var, split in plans:
        base = lang.split("-")[0]
        texts = list(SENTENCES.get(base, [])) + list(rng.choice(SENTENCES["en"], 2, replace=False))
        for k, text in enumerate(texts):
            path = out_dir / f"espeak_{lang}{var.replace('+', '_')}_{k}.wav"
            speed, pitch = int(rng.integers(120, 200)), int(rng.integers(20, 80))
            subprocess.run([exe, "-v", lang + var, "-s", str(speed), "-p", str(pitch), "-w", str(path), text],
                           check=True, capture_output=True)
            items.append({"path": path, "voice": lang + var, "split": split})
    return items


def synthesise_festival(out_dir: Path, *, seed: int = 0) -> list[dict]:
    """Read speech from Festival's ``text2wave`` (each voice at its own rate: 16 kHz voices have
    nothing above 8 kHz, as many audiobook and podcast files) into ``out_dir``: for every voice of
    ``FESTIVAL_TRAIN_VOICES`` (split "train") and ``FESTIVAL_VALID_VOICES`` ("valid"),
    ``FESTIVAL_UTTERANCES`` passages of two or three sentences at a random pace.  Returns
    ``[{"path", "voice", "split"}]``."""
    exe = shutil.which("text2wave")
    if exe is None:
        raise RuntimeError("Festival is not installed (apt-get install " + " ".join(FESTIVAL_PACKAGES) + "); it is "
                           "needed to train the music detector")
    rng = np.random.default_rng(seed + 1)
    out_dir.mkdir(parents=True, exist_ok=True)
    plans = [(v, lang, "train") for v, lang in FESTIVAL_TRAIN_VOICES.items()]
    plans += [(v, lang, "valid") for v, lang in FESTIVAL_VALID_VOICES.items()]
    items = []
    for voice, lang, split in plans:
        for k in range(FESTIVAL_UTTERANCES):
            pool = SENTENCES[lang]
            text = " ".join(rng.choice(pool, int(rng.integers(2, 4)), replace=len(pool) < 3))
            src = out_dir / f"festival_{voice}_{k}.txt"
            src.write_text(text + "\n", encoding="latin-1")  # Festival reads 8-bit text
            path = out_dir / f"festival_{voice}_{k}.wav"
            stretch = float(rng.uniform(0.85, 1.3))
            done = subprocess.run([exe, "-eval", f"(voice_{voice})", "-eval",
                                   f"(Parameter.set 'Duration_Stretch {stretch:.2f})", str(src), "-o", str(path)],
                                  capture_output=True, text=True, errors="replace", timeout=300)
            if done.returncode != 0 or not path.is_file() or path.stat().st_size < 1000:
                raise RuntimeError(f"Festival voice {voice} did not speak (is its festvox package installed?): "
                                   f"{(done.stderr or done.stdout).strip().splitlines()[-1:]}")
            items.append({"path": path, "voice": voice, "split": split})
    return items


def load_clips(speech_dir: Path, *, seed: int = 0, festival: bool = False, log=print) -> list[dict]:
    """Every non-music clip's log-mel: ``[{"name", "S", "label" ("speech"/"sound"), "split", "source"}]``."""
    clips = []
    with open(NOT_MUSIC / "manifest.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        S = F.logmel_file(NOT_MUSIC / r["file"])
        label = "speech" if r["kind"] == "speech" else "sound"
        src = "fsdd" if r["file"].startswith("fsdd_") else "esc"
        clips.append({"name": r["file"], "S": S, "label": label, "split": split_of(r["file"]), "source": src,
                      "kind": r["kind"]})
    log(f"not_music: {len(rows)} clips")
    for it in synthesise_speech(speech_dir, seed=seed):
        S = F.logmel_file(it["path"])
        clips.append({"name": it["path"].name, "S": S, "label": "speech", "split": it["split"],
                      "source": "espeak", "kind": "speech", "voice": it["voice"]})
    log(f"espeak-ng: {sum(c['source'] == 'espeak' for c in clips)} utterances")
    if not festival:
        return clips
    for it in synthesise_festival(speech_dir, seed=seed):
        S = F.logmel_file(it["path"])
        clips.append({"name": it["path"].name, "S": S, "label": "speech", "split": it["split"],
                      "source": "festival", "kind": "speech", "voice": it["voice"]})
    log(f"Festival: {sum(c['source'] == 'festival' for c in clips)} passages")
    return clips


# ----------------------------------------------------------------------------------- augmentation
_BAND_HZ = F.mel_to_hz(np.linspace(F.hz_to_mel(0.0), F.hz_to_mel(F.SR / 2), F.N_MELS + 2))[1:-1]


def crop(S: np.ndarray, rng, width: int = CELL_COLUMNS, stretch: float = 1.0) -> np.ndarray:
    """A random ``width``-column crop of ``S`` (repeated to fill when shorter), time-stretched by
    ``stretch`` (>1: slower; the columns of a ``width / stretch`` crop picked at ``width`` points)."""
    span = max(2, int(round(width / stretch)))
    S = F.fill_window(S, max(width, span))
    a = int(rng.integers(0, S.shape[1] - span + 1))
    if span == width:
        return S[:, a : a + width].astype(np.float32)
    idx = a + np.minimum(np.floor(np.arange(width) * span / width).astype(np.int64), span - 1)
    return S[:, idx].astype(np.float32)


def reverb(x: np.ndarray, rt60_s: float) -> np.ndarray:
    """A room's tail, per band: each column's power plus the decayed power before it (-60 dB after
    ``rt60_s`` seconds)."""
    r = 10.0 ** (-6.0 / (rt60_s * F.COLUMNS_PER_SECOND))
    p = 10.0 ** (x / 10.0)
    for t in range(1, p.shape[1]):
        p[:, t] += r * p[:, t - 1]
    return renorm(10.0 * np.log10(np.maximum(p, 1e-10)))


def renorm(db: np.ndarray) -> np.ndarray:
    """dB relative to the cell's maximum, floored at -80 (as the front end leaves it)."""
    db = db - db.max()
    return np.maximum(db, -F.TOP_DB).astype(np.float32)


def shift_bands(x: np.ndarray, rng, bands: int) -> np.ndarray:
    """``x`` moved ``bands`` mel bands up (> 0) or down (< 0): a voice with its pitch and
    formants higher or lower, roughly (the mel axis is near logarithmic above 1 kHz).  What
    leaves the top or the bottom is lost; what comes in is the floor, with a little noise."""
    if bands == 0:
        return x
    y = np.empty_like(x)
    n = x.shape[0]
    floor = -F.TOP_DB + np.abs(rng.normal(0.0, 2.0, (abs(bands), x.shape[1]))).astype(x.dtype)
    if bands > 0:
        y[bands:] = x[: n - bands]
        y[:bands] = floor
    else:
        y[: n + bands] = x[-bands:]
        y[n + bands:] = floor
    return renorm(y)


def compress(x: np.ndarray, factor: float) -> np.ndarray:
    """Each band's swings about its own mean level scaled by ``factor`` (< 1: a compressor's or
    a distorted guitar's steady level), the spectral shape kept."""
    m = x.mean(axis=1, keepdims=True)
    return renorm(m + factor * (x - m))


def mix(a: np.ndarray, b: np.ndarray, gain_db: float) -> np.ndarray:
    """``a`` plus ``b`` ``gain_db`` below it, added as powers (both dB cells)."""
    p = 10.0 ** (a / 10.0) + 10.0 ** ((b + gain_db) / 10.0)
    return renorm(10.0 * np.log10(np.maximum(p, 1e-10)))


def bandlimit(x: np.ndarray, rng, cutoff_hz: float) -> np.ndarray:
    """Everything above ``cutoff_hz`` down to the floor (with a little noise), as a low-pass leaves it."""
    k = int(np.searchsorted(_BAND_HZ, cutoff_hz))
    if k >= F.N_MELS:
        return x
    y = x.copy()
    floor = -F.TOP_DB + float(rng.uniform(0.0, 12.0))
    y[k:] = np.minimum(y[k:], floor + np.abs(rng.normal(0.0, 2.0, y[k:].shape)))
    if k > 0:  # a roll-off over the band below the cut
        y[k - 1] = np.minimum(y[k - 1], 0.5 * (y[k - 1] + floor))
    return np.clip(y, -F.TOP_DB, 0.0)


def tilt(x: np.ndarray, rng, amount_db: float) -> np.ndarray:
    """A random linear spectral tilt of up to ``amount_db`` across the bands."""
    t = np.linspace(-1.0, 1.0, x.shape[0], dtype=np.float32)[:, None] * float(rng.uniform(-amount_db, amount_db))
    return renorm(x + t)


class Sampler:
    """Training batches: music crops of GTZAN train arrays, speech and sound crops of the training
    clips, mixed and band-limited at random (:data:`DEFAULTS`)."""

    def __init__(self, music: np.ndarray, clips: list[dict], cfg: dict, seed: int):
        self.music = music
        self.speech = [c["S"] for c in clips if c["label"] == "speech"]
        self.sound = [c["S"] for c in clips if c["label"] == "sound"]
        self.cfg = cfg
        self.rng = np.random.default_rng(seed)

    def _stretch(self) -> float:
        cfg = self.cfg
        return float(self.rng.uniform(*cfg["stretch"])) if self.rng.random() < cfg.get("p_stretch", 0.0) else 1.0

    def _music(self):
        rng = self.rng
        return crop(self.music[int(rng.integers(len(self.music)))], rng, stretch=self._stretch())

    def _from(self, pool):
        return crop(pool[int(self.rng.integers(len(pool)))], self.rng, stretch=self._stretch())

    def one(self, label: int) -> np.ndarray:
        rng, cfg = self.rng, self.cfg
        if label == 0:
            x = self._music()
            if rng.random() < cfg["p_mix"] * 0.5:  # music over quiet sounds or talk stays music
                other = self._from(self.sound if rng.random() < 0.7 else self.speech)
                x = mix(x, other, float(rng.uniform(*cfg["music_over_sound_db"])))
            if rng.random() < cfg.get("p_compress", 0.0):
                x = compress(x, float(rng.uniform(*cfg["compress"])))
        else:
            x = self._from(self.speech if label == 1 else self.sound)
            if label == 1 and rng.random() < cfg.get("p_voice_shift", 0.0):
                lo, hi = cfg["voice_shift_bands"]
                x = shift_bands(x, rng, int(rng.integers(lo, hi + 1)))
            if rng.random() < cfg["p_mix"]:
                if rng.random() < 0.5:  # over quiet music
                    x = mix(x, self._music(), float(rng.uniform(*cfg["speech_over_music_db"])))
                else:  # over noise (another sound)
                    x = mix(x, self._from(self.sound), -float(rng.uniform(*cfg["noise_snr_db"])))
        if rng.random() < cfg.get("p_reverb", 0.0):
            x = reverb(x, float(rng.uniform(*cfg["rt60_s"])))
        if rng.random() < cfg["p_bandlimit"]:
            x = bandlimit(x, rng, float(rng.uniform(*cfg["cutoff_hz"])))
        if cfg["tilt_db"]:
            x = tilt(x, rng, cfg["tilt_db"])
        return x

    def batch(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        share = self.cfg["class_share"]
        labels = self.rng.choice(3, size=n, p=[share["music"], share["speech"], share["sound"]])
        X = np.stack([self.one(int(k)) for k in labels])
        return standardise(X)[0], labels.astype(np.int64)


# ----------------------------------------------------------------------------------- network
def build_model(width: int = CELL_COLUMNS, seed: int = 0):
    """A small 2-D CNN over one standardised cell ``(128, width)`` -> softmax over :data:`CLASSES`."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    x_in = keras.Input((F.N_MELS, width), name="logmel")
    x = layers.Reshape((F.N_MELS, width, 1))(x_in)
    x = layers.Conv2D(16, (5, 3), strides=(2, 1), padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.MaxPooling2D((2, 2))(x)
    for ch in (32, 64):
        x = layers.Conv2D(ch, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        x = layers.MaxPooling2D((2, 2))(x)
    x = layers.Conv2D(64, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.Concatenate()([layers.GlobalAveragePooling2D()(x), layers.GlobalMaxPooling2D()(x)])
    x = layers.Dropout(0.3)(x)
    x = layers.Dense(32, activation="relu")(x)
    out = layers.Dense(len(CLASSES), activation="softmax", name="probs")(x)
    return keras.Model(x_in, out, name="music_detector")


def export_tflite(model, path: Path, width: int = CELL_COLUMNS) -> None:
    """The LiteRT file of ``model`` (input ``logmel``, output ``probs``; builtin ops, dynamic batch)."""
    import keras
    import tensorflow as tf

    def serve(x):
        return {"probs": model(x, training=False)}

    with tempfile.TemporaryDirectory(prefix="melograph-music-export-") as tmp:
        archive = keras.export.ExportArchive()
        archive.track(model)
        archive.add_endpoint("serve", serve,
                             input_signature=[tf.TensorSpec([None, F.N_MELS, width], tf.float32, name="logmel")])
        archive.write_out(tmp, verbose=False)
        conv = tf.lite.TFLiteConverter.from_saved_model(tmp)
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        path.write_bytes(conv.convert())


# ----------------------------------------------------------------------------------- evaluation
def clip_verdicts(predict_cells, clips: list[np.ndarray]) -> list[dict]:
    """:func:`models.music.track_decision` of each clip log-mel, its cells run in one batch."""
    inputs, owners, silents = [], [], []
    for i, S in enumerate(clips):
        x, silent = cell_inputs(S)
        inputs.append(x)
        silents.append(silent)
        owners += [i] * len(x)
    X = np.concatenate(inputs)
    p = np.full((len(X), len(CLASSES)), np.nan, np.float32)
    sil = np.concatenate(silents)
    if (~sil).any():
        p[~sil] = predict_cells(X[~sil])
    owners = np.asarray(owners)
    return [track_decision(p[owners == i], sil[owners == i]) for i in range(len(clips))]


def evaluate(predict_cells, music_valid: np.ndarray, clips: list[dict]) -> dict:
    """Held-out numbers: share of GTZAN valid clips called not music, and share of held-out
    non-music clips called not music, overall and per kind and source."""
    out: dict = {}
    v = clip_verdicts(predict_cells, list(music_valid))
    out["gtzan_valid_music_flagged"] = float(np.mean([not d["is_music"] for d in v]))
    out["gtzan_valid_clips"] = len(v)
    held = [c for c in clips if c["split"] == "valid"]
    hv = clip_verdicts(predict_cells, [c["S"] for c in held])
    flagged = np.array([d["is_music"] is False for d in hv])
    out["heldout_nonmusic_flagged"] = float(flagged.mean())
    out["heldout_nonmusic_clips"] = len(held)
    per: dict = {}
    for key in ("kind", "source"):
        for name in sorted({c[key] for c in held}):
            idx = [i for i, c in enumerate(held) if c[key] == name]
            per[f"{key}:{name}"] = {"clips": len(idx), "flagged": float(flagged[idx].mean())}
    out["heldout_per"] = per
    speech_idx = [i for i, c in enumerate(held) if c["label"] == "speech" and flagged[i]]
    out["heldout_speech_kind_correct"] = float(np.mean([hv[i]["kind"] == "speech" for i in speech_idx])) if speech_idx else None
    return out


# ----------------------------------------------------------------------------------- training
def train(out_dir: Path, *, epochs: int | None = None, seed: int | None = None, festival: bool | None = None,
          compress_share: float | None = None, voice_shift: float | None = None,
          log_path: Path | None = None) -> dict:
    """Train, export and write the detector into ``out_dir``; returns the card.  ``festival``:
    Festival's read speech in the speech class as well (``FESTIVAL_PACKAGES`` installed);
    ``compress_share``: the share of music cells given squashed dynamics (:func:`compress`);
    ``voice_shift``: the share of speech cells moved along the mel axis (:func:`shift_bands`)."""
    from models.genre import configure_tensorflow

    cfg = dict(DEFAULTS)
    if epochs is not None:
        cfg["epochs"] = int(epochs)
    if seed is not None:
        cfg["seed"] = int(seed)
    if festival is not None:
        cfg["festival"] = bool(festival)
    if compress_share is not None:
        if not 0.0 <= compress_share <= 1.0:
            raise ValueError(f"the compressed share of music cells must be between 0 and 1, got {compress_share}")
        cfg["p_compress"] = float(compress_share)
    if voice_shift is not None:
        if not 0.0 <= voice_shift <= 1.0:
            raise ValueError(f"the shifted share of speech cells must be between 0 and 1, got {voice_shift}")
        cfg["p_voice_shift"] = float(voice_shift)
    out_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_path or out_dir / "train.log"
    log = lambda m: _log(log_path, m)  # noqa: E731
    t_start = time.time()
    configure_tensorflow(2)
    import keras

    d = np.load(GTZAN_NPZ)
    split = d["split"]
    X = d["X"]
    music_train = X[split == "train"].astype(np.float32)
    music_valid = X[split == "valid"].astype(np.float32)
    log(f"GTZAN arrays: {len(music_train)} train clips (fitted), {len(music_valid)} valid clips (reported)")
    with tempfile.TemporaryDirectory(prefix="melograph-espeak-") as tmp:
        clips = load_clips(Path(tmp), seed=cfg["seed"], festival=cfg["festival"], log=log)
    train_clips = [c for c in clips if c["split"] == "train"]
    counts = {f"{s}/{lab}": sum(c["split"] == s and c["label"] == lab for c in clips)
              for s in ("train", "valid") for lab in ("speech", "sound")}
    log(f"non-music clips: {counts}")
    sampler = Sampler(music_train, train_clips, cfg, cfg["seed"])
    model = build_model(seed=cfg["seed"])
    total = cfg["epochs"] * cfg["steps_per_epoch"]
    sched = keras.optimizers.schedules.CosineDecay(cfg["lr"], decay_steps=total, alpha=0.05)
    model.compile(optimizer=keras.optimizers.Adam(sched), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = []
    for ep in range(cfg["epochs"]):
        t = time.time()
        losses, accs = [], []
        for _ in range(cfg["steps_per_epoch"]):
            xb, yb = sampler.batch(cfg["batch"])
            loss, acc = model.train_on_batch(xb, yb)
            losses.append(float(loss))
            accs.append(float(acc))
        history.append({"epoch": ep + 1, "loss": float(np.mean(losses)), "accuracy": float(np.mean(accs)),
                        "seconds": time.time() - t})
        log(f"epoch {ep + 1}/{cfg['epochs']}: loss {np.mean(losses):.4f} accuracy {np.mean(accs):.4f} "
            f"({time.time() - t:.0f} s)")
    model.save(out_dir / "model.keras")
    export_tflite(model, out_dir / "model.tflite")
    # the two runtimes must compute the same function
    from models.music import _LiteRT

    lite = _LiteRT(out_dir / "model.tflite")
    xb, _ = sampler.batch(64)
    diff = float(np.abs(lite.forward(xb) - model.predict(xb, verbose=0)).max())
    log(f"LiteRT vs Keras on 64 cells: largest difference {diff:.2e}")
    if diff > 1e-4:
        raise RuntimeError(f"the LiteRT export differs from Keras by {diff:.2e}")
    metrics = evaluate(lite.forward, music_valid, clips)
    log("held out: " + json.dumps(metrics))
    seconds = time.time() - t_start
    now = _dt.datetime.now(_dt.timezone.utc)
    version = f"music-cnn-{now:%Y%m%d}-{sha256_of(out_dir / 'model.keras')[:8]}"
    import importlib.metadata as md

    card = {
        "version": version,
        "task": "music / not-music detector, per 3 s cell",
        "classes": list(CLASSES),
        "frontend": F.FRONTEND_PARAMS,
        "window": CELL_COLUMNS, "hop": CELL_COLUMNS,
        "window_seconds": CELL_COLUMNS / F.COLUMNS_PER_SECOND,
        "input_shape": [F.N_MELS, CELL_COLUMNS],
        "input": "one 39-column cell of core.features.logmel_track(...), standardised by models.music.standardise",
        "output": "softmax over music, speech, sound per cell; track: median of the cells' music probability "
                  f">= {MUSIC_THRESHOLD} is music (models.music.track_decision)",
        "threshold": MUSIC_THRESHOLD,
        "weights": "model.keras", "weights_sha256": sha256_of(out_dir / "model.keras"),
        "parameters": int(model.count_params()),
        "tflite": "model.tflite", "tflite_sha256": sha256_of(out_dir / "model.tflite"),
        "tflite_bytes": (out_dir / "model.tflite").stat().st_size,
        "tflite_export": {"from_weights_sha256": sha256_of(out_dir / "model.keras"), "inputs": ["logmel"],
                          "outputs": ["probs"], "check": {"cells": 64, "max_abs_diff_probs": float(f"{diff:.3g}")}},
        "data": {
            "music": "GTZAN log-mel arrays (gtzan_logmel_trainval.npz): train clips fitted, valid clips reported",
            "non_music": "not_music/ (ESC-10 folds 1-3, FSDD speakers george, jackson, lucas fitted; ESC fold 4 and "
                         "FSDD speaker nicolas held out) + espeak-ng speech (fitted: "
                         f"{', '.join(TRAIN_LANGS)} x {', '.join(v or 'default' for v in TRAIN_VARIANTS)}; held out: "
                         f"{', '.join(VALID_LANGS)} x {', '.join(VALID_VARIANTS)})"
                         + (f" + Festival read speech (fitted: {', '.join(FESTIVAL_TRAIN_VOICES)}; held out: "
                            f"{', '.join(FESTIVAL_VALID_VOICES)})" if cfg["festival"] else ""),
            "clips": counts,
            "augmentation": "random band-limiting of every class (3-9 kHz), speech/sounds over quiet music "
                            "(-30..-12 dB) or noise (SNR 0-20 dB), music over quiet sounds/talk, spectral tilt, "
                            "time stretch (0.8-1.25) and room reverb (RT60 0.2-1.2 s) of every class",
        },
        "training": {**cfg, "history": history, "seconds": round(seconds, 1)},
        "metrics": metrics,
        "versions": {p: md.version(p) for p in ("tensorflow-cpu", "keras", "numpy") if _has(p)},
        "created": now.isoformat(timespec="seconds"),
        "command": "python main.py train-music",
    }
    write_card(out_dir, card)
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    log(f"wrote {out_dir} ({version}) in {seconds / 60:.1f} min")
    return card


def _has(pkg: str) -> bool:
    import importlib.metadata as md

    try:
        md.version(pkg)
        return True
    except md.PackageNotFoundError:
        return False
