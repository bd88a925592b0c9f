"""Simulated listeners: does the recommender find the rest of a taste from a few likes?

    .venv/bin/python bench/eval_recommender.py [--draws 30] [--seed 0] [--variants] [--history]

Data: the VALID clips of ../shared/data/gtzan_logmel/gtzan_logmel_trainval.npz (197 clips,
unseen by the genre network's weights).  Embeddings: the SHIPPED genre model's window
embeddings (``models/genre.py``) when ``models/shipped/card.json`` exists, else a stand-in
(PCA of per-window log-mel band statistics, fitted on the train clips), said loudly in the
output.  Embeddings are cached in the temp directory.

A listener's taste is one genre or two; 5, 10 or 20 likes are drawn from it; the rest of the
taste is held out.  For each method we rank every non-liked clip and report, averaged over the
draws: ROC-AUC of held-out taste clips against all other non-liked clips, and recall@10 (held-out
clips in the top 10 / held-out clips; its ceiling is min(10, held-out) / held-out, printed as
"max").  Under each table: the recommender's lead over the two standardised similarity
baselines on the same listeners (paired mean difference ± one standard error).  A setting is skipped for a genre with fewer than 3 clips left to hold out.

A second block ("with dislikes") simulates a listener who, shown the centroid baseline's top
non-taste clips, dislikes 5 of them; every method is then scored on the clips left.  The
recommender always leaves disliked tracks out of its ranking; the "hard negatives" rows also
train on them as weighted negatives (the default does not: it measured worse).

``--history`` adds a simulated listening history to every listener of both blocks: as many
5 tracks played through (each a held-out taste clip with probability 0.8, else another clip: a
track heard at a friend's) and 5 skipped (each a clip outside the taste with probability 0.8,
else a taste clip), leaving at least 3 held-out taste clips to rank.  The played and skipped clips leave the clips ranked for
every method (the listener knows them), and the "+ history" rows train with them as weak
signals (``RecommenderConfig.play_weight`` / ``skip_weight``); under each table, their lead
over the recommender without them on the same listeners.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # tiny matrices: threads only contend
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.recommend import Recommender, RecommenderConfig, TrackVectors  # noqa: E402

NPZ = ROOT.parent / "shared" / "data" / "gtzan_logmel" / "gtzan_logmel_trainval.npz"
CARD = ROOT / "models" / "shipped" / "card.json"
STANDIN_WIDTH, STANDIN_HOP = 129, 64  # 10 s windows, 5 s hop (the stand-in only)


# --------------------------------------------------------------------------- embeddings


def _cache_path(tag: str) -> Path:
    return Path(tempfile.gettempdir()) / f"melograph_eval_recommender_{tag}.npz"


def standin_embeddings(data) -> tuple[list[np.ndarray], str]:
    """Per-window mean and std of each mel band, PCA to 64 dims fitted on the train clips."""
    from core.features import windows

    def feats(S):
        W = windows(S.astype(np.float32), width=STANDIN_WIDTH, hop=STANDIN_HOP)
        return np.concatenate([W.mean(axis=2), W.std(axis=2)], axis=1)

    split = data["split"]
    train = [feats(S) for S in data["X"][split == "train"]]
    valid = [feats(S) for S in data["X"][split == "valid"]]
    A = np.concatenate(train)
    mu, sd = A.mean(0), A.std(0) + 1e-6
    _, _, Vt = np.linalg.svd((A - mu) / sd, full_matrices=False)
    P = Vt[:64].T
    return [((f - mu) / sd @ P).astype(np.float32) for f in valid], "STAND-IN (PCA of log-mel band stats; not the genre model)"


def shipped_embeddings(data, model_dir: Path | None = None) -> tuple[list[np.ndarray], str]:
    card_path = (model_dir / "card.json") if model_dir else CARD
    card = json.loads(card_path.read_text())
    version = str(card.get("version") or card.get("model_version") or card.get("version_id")
                  or hashlib.sha1(card_path.read_bytes()).hexdigest()[:12])
    what = "shipped genre model" if model_dir is None else f"genre model in {model_dir} (NOT the shipped one)"
    cache = _cache_path(f"model_{version}")
    valid = data["split"] == "valid"
    if cache.exists():
        z = np.load(cache)
        return [z[f"e{i}"] for i in range(int(z["n"]))], f"{what} {version} (cached)"
    from models.genre import GenreModel  # TensorFlow: only here

    model = GenreModel.load(model_dir)
    out = []
    for S in data["X"][valid]:
        S = S.astype(np.float32)
        if hasattr(model, "embed_logmel"):
            E = model.embed_logmel(S)
        else:
            from core.features import windows

            E = model.embed(windows(S, width=model.window, hop=model.hop))
        out.append(np.asarray(E, np.float32).reshape(len(E), -1))
    np.savez(cache, n=len(out), **{f"e{i}": e for i, e in enumerate(out)})
    return out, f"{what} {version}"


def load_embeddings(force_standin: bool = False, model_dir: Path | None = None):
    data = np.load(NPZ, allow_pickle=False)
    data = {k: data[k] for k in data.files}
    valid = data["split"] == "valid"
    y = data["y"][valid].astype(int)
    genres = [str(g) for g in data["genres"]]
    if model_dir is not None:
        E, source = shipped_embeddings(data, Path(model_dir))
    elif CARD.exists() and not force_standin:
        E, source = shipped_embeddings(data)
    else:
        cache = _cache_path("standin_v1")
        if cache.exists():
            z = np.load(cache)
            E = [z[f"e{i}"] for i in range(int(z["n"]))]
            source = "STAND-IN (PCA of log-mel band stats; not the genre model) (cached)"
        else:
            E, source = standin_embeddings(data)
            np.savez(cache, n=len(E), **{f"e{i}": e for i, e in enumerate(E)})
    return E, y, genres, source


# --------------------------------------------------------------------------- metrics and methods


def auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """ROC-AUC (Mann-Whitney, ties count half)."""
    allv = np.concatenate([pos, neg])
    order = np.argsort(allv, kind="mergesort")
    ranks = np.empty(len(allv))
    sv = allv[order]
    i = 0
    while i < len(sv):  # average ranks of ties
        j = i
        while j + 1 < len(sv) and sv[j + 1] == sv[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    rp = ranks[: len(pos)].sum()
    return float((rp - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def _unit(A):
    return A / np.maximum(np.linalg.norm(A, axis=1, keepdims=True), 1e-12)


def similarity_scores(vectors: TrackVectors, liked_rows, standardise: bool):
    M = vectors.track_means().astype(np.float64)
    if standardise:
        M = (M - vectors.X.mean(0)) / (vectors.X.std(0) + 1e-6)
    U = _unit(M)
    S = U @ U[liked_rows].T
    c = _unit(U[liked_rows].mean(0, keepdims=True))[0]
    return {"centroid": U @ c, "nearest": S.max(axis=1)}


VARIANTS = {
    # name: config
    "recommender (default)": RecommenderConfig(),
    "its network alone (prior_likes 0)": RecommenderConfig(prior_likes=0.0),
}
EXTRA_VARIANTS = {
    "larger net 1024-128, drop 0.5": RecommenderConfig(hidden=(1024, 128), dropout=0.5),
    "smaller net 128-32": RecommenderConfig(hidden=(128, 32)),
    "15 epochs": RecommenderConfig(epochs=15),
    "60 epochs": RecommenderConfig(epochs=60),
    "no dropout": RecommenderConfig(dropout=0.0),
    "ensemble of 3 seeds": RecommenderConfig(ensemble=3),
    "similarity prior of 2 likes": RecommenderConfig(prior_likes=2.0),
    "at least 64 negatives an epoch": RecommenderConfig(min_negatives=64),
    "similarity prior of 10 likes": RecommenderConfig(prior_likes=10.0),
}


#: --history: the weak-signal weights measured (play weight, skip weight)
HISTORY_WEIGHTS = ((0.3, 0.0), (0.0, 0.5), (0.3, 0.5))
PLAYED_FROM_TASTE = 0.8  #: a simulated full play is of a taste clip with this probability
SKIPPED_FROM_OTHER = 0.8  #: a simulated skip is of a clip outside the taste with this probability
HISTORY_TRACKS = 5  #: clips played through, and clips skipped, per simulated listener
KEEP_HELD = 3  #: held-out taste clips a simulated history leaves to rank


def history_variants(base: RecommenderConfig) -> dict[str, RecommenderConfig]:
    import dataclasses

    return {f"+ history, play {p:g} skip {s:g}": dataclasses.replace(base, play_weight=p, skip_weight=s)
            for p, s in HISTORY_WEIGHTS}


def _draw_history(rng, held, other, k=HISTORY_TRACKS):
    """``k`` clips played through and ``k`` skipped, as the module docstring says; at least
    ``KEEP_HELD`` held-out taste clips are left to rank."""
    pool_taste, pool_other = list(held), list(other)
    played, skipped = [], []
    for picks, from_taste in ((played, PLAYED_FROM_TASTE), (skipped, 1.0 - SKIPPED_FROM_OTHER)):
        for _ in range(k):
            taste = rng.random() < from_taste and len(pool_taste) > KEEP_HELD
            pool = pool_taste if taste else pool_other
            picks.append(pool.pop(int(rng.integers(len(pool)))))
    return np.array(sorted(played), int), np.array(sorted(skipped), int)


def run(E, y, genres, *, draws, seed, variants, with_dislikes, history=False):
    n = len(E)
    vectors = TrackVectors.from_tracks(list(range(n)), E)
    rng = np.random.default_rng(seed)
    n_genres = len(genres)
    settings = [(t, k) for t in (1, 2) for k in (5, 10, 20)]
    methods = ["random", "centroid cosine", "nearest liked", "centroid (std.)", "nearest (std.)", *variants]
    results = {m: {s: [] for s in settings} for m in methods}
    results_max = {s: [] for s in settings}
    counts = {s: 0 for s in settings}
    fit_seconds = []
    for (t, k) in settings:
        for d in range(draws * 3):
            if counts[(t, k)] >= draws:
                break
            if t == 1:
                taste_genres = [d % n_genres]
            else:
                taste_genres = sorted(rng.choice(n_genres, 2, replace=False).tolist())
            taste = np.flatnonzero(np.isin(y, taste_genres))
            if len(taste) - k < 3:
                continue
            liked = np.sort(rng.choice(taste, k, replace=False))
            held = np.setdiff1d(taste, liked)
            other = np.setdiff1d(np.arange(n), taste)
            disliked = np.zeros(0, int)
            sims_raw = similarity_scores(vectors, liked, standardise=False)
            sims_std = similarity_scores(vectors, liked, standardise=True)
            if with_dislikes:
                # the listener is shown the centroid baseline's best non-taste clips and dislikes 5 of its top 10
                top_wrong = other[np.argsort(-sims_std["centroid"][other])][:10]
                disliked = np.sort(rng.choice(top_wrong, 5, replace=False))
                other = np.setdiff1d(other, disliked)
            played = skipped = np.zeros(0, int)
            if history:
                played, skipped = _draw_history(rng, held, other)
                held, other = np.setdiff1d(held, played), np.setdiff1d(other, np.concatenate([played, skipped]))
            counts[(t, k)] += 1
            results_max[(t, k)].append(min(10, len(held)) / len(held))
            scores = {
                "random": rng.random(n),
                "centroid cosine": sims_raw["centroid"], "nearest liked": sims_raw["nearest"],
                "centroid (std.)": sims_std["centroid"], "nearest (std.)": sims_std["nearest"],
            }
            for name, cfg in variants.items():
                t0 = time.perf_counter()
                use_dis = disliked.tolist() if with_dislikes else []
                rec = Recommender(cfg).fit(vectors, liked.tolist(), use_dis, seed=d,
                                           played_ids=played.tolist(), skipped_ids=skipped.tolist())
                fit_seconds.append(time.perf_counter() - t0)
                scores[name] = rec.score(vectors)
            cand = np.concatenate([held, other])
            for name, s in scores.items():
                a = auc(s[held], s[other])
                top10 = cand[np.argsort(-s[cand], kind="stable")[:10]]
                r10 = np.isin(top10, held).sum() / len(held)
                results[name][(t, k)].append((a, r10))
    return results, results_max, counts, settings, fit_seconds


def print_table(title, results, results_max, counts, settings):
    print(f"\n{title}")
    head = "".join(f"| {('1 genre' if t == 1 else '2 genres')}, {k:>2} likes " for t, k in settings)
    print(f"{'method':34s}{head}|")
    print(f"{'':34s}" + "| AUC   R@10      " * len(settings) + "|")
    print("-" * (34 + 18 * len(settings) + 1))
    for name, per in results.items():
        cells = []
        for s in settings:
            v = np.array(per[s]) if per[s] else np.full((1, 2), np.nan)
            cells.append(f"| {v[:, 0].mean():.3f} {v[:, 1].mean():.3f}     ")
        print(f"{name[:33]:34s}" + "".join(cells) + "|")
    print(f"{'(recall@10 ceiling)':34s}" + "".join(
        f"|       {np.mean(results_max[s]):.3f}     " for s in settings) + "|")
    print(f"{'(draws)':34s}" + "".join(f"| {counts[s]:>4d}            " for s in settings) + "|")
    # paired differences (the same listeners): is the lead over a baseline more than noise?
    rec = next((n for n in results if n.startswith("recommender")), None)
    pairs = [(rec, base) for base in ("centroid (std.)", "nearest (std.)")]
    pairs += [(name, rec) for name in results if name.startswith("+ history")]
    for better, base in pairs:
        if better is None or base is None or base not in results:
            continue
        for j, metric in enumerate(("AUC", "R@10")):
            cells = []
            for s in settings:
                d = (np.array(results[better][s]) - np.array(results[base][s])).reshape(-1, 2)[:, j]
                se = d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else float("nan")
                cells.append(f"| {d.mean():+.3f} ±{se:.3f}    ")
            label = (f"(lead over {base}, {metric})" if better == rec
                     else f"({better[2:].replace('history, ', '')} vs rec., {metric})")
            print(f"{label[:33]:34s}" + "".join(cells) + "|")
    print(f"{'':34s}(paired over the same listeners, ± one standard error)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=30, help="listeners per setting (default 30)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the draws (tune on another seed than you report)")
    ap.add_argument("--variants", action="store_true", help="also evaluate the alternatives tried")
    ap.add_argument("--standin", action="store_true", help="use the stand-in embedding even if a model ships")
    ap.add_argument("--model", type=Path, default=None, help="a model directory (card.json + weights) other "
                    "than the shipped one (development only)")
    ap.add_argument("--no-dislikes", action="store_true", help="skip the block with dislikes")
    ap.add_argument("--history", action="store_true", help="simulate a listening history (plays, skips) and "
                    "measure the recommender with it as weak signals against the recommender without")
    args = ap.parse_args(argv)
    if not NPZ.exists():
        print(f"eval_recommender: {NPZ} is missing (../shared/data)", file=sys.stderr)
        return 2
    t0 = time.time()
    E, y, genres, source = load_embeddings(args.standin, args.model)
    print(f"embeddings: {source}")
    print(f"data: {len(E)} valid clips of GTZAN (artist-filtered split), {E[0].shape[0]} windows x "
          f"{E[0].shape[1]} dims per clip; {args.draws} listeners per setting, seed {args.seed}")
    variants = dict(VARIANTS)
    if args.variants:
        variants.update(EXTRA_VARIANTS)
    if args.history:
        variants.update(history_variants(VARIANTS["recommender (default)"]))
    res = run(E, y, genres, draws=args.draws, seed=args.seed, variants=variants, with_dislikes=False,
              history=args.history)
    print_table("Likes only (ROC-AUC and recall@10 of held-out taste clips; mean over listeners)", *res[:4])
    fit_s = res[4]
    if not args.no_dislikes:
        dv = {name: cfg for name, cfg in variants.items()}
        for w in ((0.5, 1.0, 2.0, 4.0) if args.variants else (1.0,)):
            dv[f"dislikes as hard negatives, w {w:g}"] = RecommenderConfig(dislike_weight=w)
        res = run(E, y, genres, draws=args.draws, seed=args.seed + 1000, variants=dv, with_dislikes=True,
                  history=args.history)
        print_table("With 5 dislikes among the centroid baseline's top-10 wrong clips", *res[:4])
        fit_s += res[4]
    print(f"\nfit time per listener: median {np.median(fit_s) * 1000:.0f} ms; total {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
