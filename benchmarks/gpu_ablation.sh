#!/usr/bin/env bash
# One network with ligand-channel dropout vs two specialised networks, same budget each, scored on the
# VALIDATION split (model selection; the test split is left for the final report). < 8 min on one GPU.
#   device run, carry=["runs/posebusters.h5"]:  bash benchmarks/gpu_ablation.sh
# CPU (2 cores, ~10 min): DEVICE=cpu EPOCHS=24 MINUTES=3 TRAIN_TIMEOUT=400 \
#   EXTRA_ARGS="--width 16 --batch-size 8 --lr 0.002" bash benchmarks/gpu_ablation.sh
# Writes $OUT/ablation.json: {variant: {mode: evaluate-JSON}} and $OUT/ablation.log.
set -euo pipefail
OUT=${OUT:-runs/ablation_out}
mkdir -p "$OUT"
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] && [ -z "${PYTHON:-}" ] && PY=.venv/bin/python
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
CACHE=${CACHE:-runs/posebusters.h5}
DEVICE=${DEVICE:-cuda}
MIN=${MINUTES:-1.8}
EP=${EPOCHS:-25}
for V in dropout:dropout complex:complex pocket:pocket; do
  NAME=${V%%:*}; TM=${V##*:}
  timeout "${TRAIN_TIMEOUT:-170}" "$PY" -m pocketvox.cli.main train --config configs/default.toml --device "$DEVICE" \
    --out-dir "runs/abl_$NAME" --epochs "$EP" --batch-size 16 --width 24 --lr 0.003 --max-minutes "$MIN" \
    -O cache="$CACHE" -O train_mode="$TM" --quiet ${EXTRA_ARGS:-} >> "$OUT/ablation.log" 2>&1
  for MODE in complex pocket; do
    "$PY" -m pocketvox.cli.main evaluate "$CACHE" --model "runs/abl_$NAME/best.pt" --mode $MODE --split val \
      --device "$DEVICE" --format json --quiet -o "runs/abl_${NAME}_$MODE.json" > /dev/null
  done
done
"$PY" - "$OUT/ablation.json" <<'PYEOF'
import json, sys
out = {}
for v in ("dropout", "complex", "pocket"):
    out[v] = {m: json.load(open(f"runs/abl_{v}_{m}.json")) for m in ("complex", "pocket")}
    print(v, {m: out[v][m]["model"]["mean_jaccard"] for m in ("complex", "pocket")})
json.dump(out, open(sys.argv[1], "w"), indent=2)
PYEOF
