"""Print the comparison table (markdown) from trained run directories' model cards.

    .venv/bin/python -m models.results_table runs/*/
"""
from __future__ import annotations

import sys
from pathlib import Path

from models.card import CARD_NAME, read_card


def row(card: dict, name: str) -> str:
    v = card["metrics"].get("valid", {})
    tr = card.get("training", {})
    cfg = card.get("config", {})
    feature = cfg.get("feature", "stats" if card["arch"].startswith("floor") else "logmel")
    if card["arch"].startswith("floor"):
        window = "whole clip"
    else:
        window = f"{card['window']} ({card['window_seconds']:.1f} s)"
    epochs = tr.get("epochs_run")
    ep = f"{tr.get('best_epoch')}/{epochs}" if epochs else "-"
    members = card["metrics"].get("members_valid_accuracy")
    extra = f" (members {members['mean']:.3f} ± {members['sd']:.3f})" if members else ""
    last = card["metrics"].get("valid_last5_mean_accuracy")
    last_s = f"{last:.3f}" if last is not None else "-"
    return (f"| {name} | {card['arch']} | {feature} | {window} | {v.get('accuracy', float('nan')):.3f}{extra} | "
            f"{last_s} | {v.get('macro_f1', float('nan')):.3f} | {card['parameters']:,} | {ep} | "
            f"{tr.get('seconds', 0) / 60:.1f} |")


def main(argv: list[str]) -> int:
    print("| run | arch | input | window (columns) | valid acc (best epoch) | valid acc (mean of last 5 epochs) | "
          "valid macro-F1 | params | best/run epochs | train min |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for d in argv:
        if (Path(d) / CARD_NAME).is_file():
            print(row(read_card(d), Path(d).name))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
