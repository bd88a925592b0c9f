#!/usr/bin/env bash
# Re-run the comparison table: every seed architecture under the same fixed budget.
#   bash models/train_table.sh [BUDGET_SECONDS]      (default 150 s of training each, on one core: MELOGRAPH_TF_THREADS=1)
# Runs go to runs/table-<name>/; the table is printed by:
#   .venv/bin/python -m models.results_table runs/table-*/
set -u
cd "$(dirname "$0")/.."
B=${1:-150}
PY=.venv/bin/python
export MELOGRAPH_TF_THREADS=${MELOGRAPH_TF_THREADS:-1}
common=(--epochs 25 --crops 4 --time-budget "$B" --patience 99 --seed 0)
run() { name=$1; shift; [ -f runs/table-$name/card.json ] && { echo "skip $name (done)"; return; }; mkdir -p runs/table-$name; $PY main.py train-genre "$@" --out runs/table-$name > runs/table-$name/log.txt 2>&1; tail -1 runs/table-$name/log.txt; }
run floor_svm      --arch floor_svm
run floor_logreg   --arch floor_logreg --config '{"C": 0.05}'
run cnn1d_mfcc_w39     --arch cnn1d "${common[@]}" --window 39
run cnn1d_logmel_w39   --arch cnn1d "${common[@]}" --window 39 --config '{"feature": "logmel"}'
run cnn1d_mfcc_w129    --arch cnn1d "${common[@]}" --window 129 --hop 64
run cnn2d_logmel_w39   --arch cnn2d "${common[@]}" --window 39
run cnn2d_mfcc_w39     --arch cnn2d "${common[@]}" --window 39 --config '{"feature": "mfcc"}'
run lstm_mfcc_w39      --arch lstm "${common[@]}" --window 39
run lstm_logmel_w39    --arch lstm "${common[@]}" --window 39 --config '{"feature": "logmel"}'
run crnn_logmel_w129   --arch crnn "${common[@]}" --window 129 --hop 64
run parallel_logmel_w39 --arch parallel "${common[@]}" --window 39
run conv1d_lstm_logmel_w129 --arch conv1d_lstm "${common[@]}" --window 129 --hop 64
run preproc_logmel_w39  --arch preproc "${common[@]}" --window 39
run preproc_logmel_w129 --arch preproc "${common[@]}" --window 129 --hop 64
# ours (one member of the shipped hybrid) under the same budget, for comparison
run ours_logmel_w39 --arch ours "${common[@]}" --window 39 --crops 8 --weight-decay 0.05 --eq-db 8 --band-shift 3 --contrast 0.15 --config '{"stem": 64, "channels": [64, 96, 128], "dropout": 0.5}'
