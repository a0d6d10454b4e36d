#!/usr/bin/env bash
# Train the default interaction model on one CUDA GPU with mixed precision, in < 8 minutes, then
# calibrate per-mode thresholds on val and evaluate once on test (both modes). Everything goes to $OUT.
#
# Run from the repo root on the GPU machine, carrying the dataset cache (10 MB, built here with
# `pocketvox dataset build ../shared/data/posebusters -o runs/posebusters.h5`):
#   device run, carry=["runs/posebusters.h5"]:  bash benchmarks/gpu_train.sh
# The GPU image has torch, h5py, numba, scipy, click, tqdm, pyyaml; training from the cache needs no
# gemmi/RDKit. Outputs: $OUT/default.pt (+ .json), $OUT/metrics.csv, $OUT/metrics.jsonl,
# $OUT/train.log, $OUT/eval_complex.json, $OUT/eval_pocket.json, $OUT/env.txt.
set -euo pipefail
OUT=${OUT:-runs/gpu_out}
mkdir -p "$OUT"
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] && [ -z "${PYTHON:-}" ] && PY=.venv/bin/python
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
CACHE=${CACHE:-runs/posebusters.h5}
if [ ! -f "$CACHE" ]; then
  "$PY" -m pocketvox.cli.main dataset build "${SHARED:-../shared}/data/posebusters" -o "$CACHE" --quiet
fi
{ nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true; "$PY" -c "import torch,sys; print(sys.version.split()[0], torch.__version__, torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no CUDA')"; } > "$OUT/env.txt" 2>&1
cat "$OUT/env.txt"
RUN=runs/gpu_run
DEVICE=${DEVICE:-cuda}   # DEVICE=cpu EPOCHS=1 WIDTH=4 EXTRA_ARGS="-O limit=4" for a dry run
START=$(date +%s)
# The shipped model's recipe: configs/gpu.toml (width 32, 160 epochs, batch 16, lr 3e-3, per-class positive
# weights 5/5/25). Gridding stays on the CPU in the main process (WORKERS=0): a few s per epoch.
timeout 460 "$PY" -m pocketvox.cli.main train --config configs/gpu.toml --device "$DEVICE" --amp \
  --out-dir "$RUN" ${EPOCHS:+--epochs "$EPOCHS"} ${WIDTH:+--width "$WIDTH"} \
  --num-workers "${WORKERS:-0}" --max-minutes "${MAX_MINUTES:-6.5}" -O cache="$CACHE" --export "$OUT/default.pt" \
  --quiet ${EXTRA_ARGS:-} 2>&1 | tee "$OUT/train.log"
echo "train wall seconds: $(( $(date +%s) - START ))" | tee -a "$OUT/train.log"
cp "$RUN/metrics.csv" "$RUN/metrics.jsonl" "$OUT/"
for MODE in complex pocket; do
  "$PY" -m pocketvox.cli.main evaluate "$CACHE" --model "$OUT/default.pt" --mode $MODE --split test \
    --device "$DEVICE" --format json --quiet -o "$OUT/eval_$MODE.json" > /dev/null
  "$PY" -c "import json,sys; r=json.load(open(sys.argv[1])); print(sys.argv[2], 'model', r['model']['mean_jaccard'], 'baseline', r['baseline']['mean_jaccard'])" "$OUT/eval_$MODE.json" $MODE
done
