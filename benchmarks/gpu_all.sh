#!/usr/bin/env bash
# Everything that needs a GPU, in one call of at most ~9 minutes, on a machine whose python3 has
# torch with CUDA (no gemmi/RDKit: they come as wheels in .whl/, see below):
#   1. CUDA tests (grid kernels: torch on CUDA == numba on CPU; screening sampler)
#   2. benchmarks/gpu_grid.py   (batched grids/s on CUDA, max |CUDA - CPU|)
#   3. benchmarks/gpu_train.sh  (trains the default model with AMP, evaluates it on the test split)
# Outputs are bundled so that at most a few files come back: $OUT/default.pt and $OUT/gpu_logs.tgz.
#
# Prepare here (x86-64, Python 3.12 wheels for the GPU image):
#   pip download --no-deps --only-binary=:all: --python-version 3.12 --platform manylinux_2_28_x86_64 \
#       -d .whl gemmi==0.7.5 rdkit==2026.9.1
#   a few PoseBusters complexes copied under .gpu/shared/data/posebusters (ignored by git)
# and carry .whl, .gpu and runs/posebusters.h5.
set -uo pipefail
PY=${PY:-python3}
OUT=${OUT:-runs/gpu_all}
mkdir -p "$OUT/logs"
if ls .whl/*.whl >/dev/null 2>&1; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .whl/*.whl \
    && export PYTHONPATH=/tmp/site
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
[ -d .gpu/shared ] && export POCKETVOX_SHARED="$PWD/.gpu/shared"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/logs/env.txt"
"$PY" -c "import torch, sys; print(sys.version.split()[0], 'torch', torch.__version__)" | tee -a "$OUT/logs/env.txt"
T0=$(date +%s)
# the tests and configs read ../shared: point it at the carried copy when the real one is absent
[ -d ../shared ] || { [ -d .gpu/shared ] && ln -sfn "$PWD/.gpu/shared" ../shared; }
if [ -z "${SKIP_CHECKS:-}" ]; then
timeout 120 "$PY" -m pytest -q -p no:cacheprovider tests/test_grid.py tests/test_screen.py -k "cuda or gpu" \
  2>&1 | tail -15 | tee "$OUT/logs/cuda_tests.txt"
echo "tests: $(( $(date +%s) - T0 )) s"
timeout 120 env OUT="$OUT/logs" "$PY" benchmarks/gpu_grid.py 2>&1 | tail -25 | tee "$OUT/logs/gpu_grid.txt"
echo "grid bench: $(( $(date +%s) - T0 )) s"
fi
OUT="$OUT/logs" PYTHON="$PY" MAX_MINUTES=${MAX_MINUTES:-4.5} bash benchmarks/gpu_train.sh 2>&1 | tail -40 \
  | tee "$OUT/logs/gpu_train.txt"
if [ -n "${MEDICAL:-}" ]; then  # tissue segmentation on MNI152 (needs nibabel, carried as a wheel)
  timeout "${MEDICAL_TIMEOUT:-200}" "$PY" benchmarks/medical.py --train --device cuda --epochs "${MEDICAL_EPOCHS:-60}" \
    --max-minutes "${MEDICAL_MINUTES:-2.5}" 2>&1 | tail -60 | tee "$OUT/logs/medical.txt"
  cp runs/medical_tissue/best.pt "$OUT/medical_tissue.pt" 2>/dev/null || true
fi
# store the shipped weights in float16 (half the size; loading casts them back to float32). BatchNorm
# running statistics stay float32: a running variance can exceed float16's range (65504) and become inf.
[ -f "$OUT/logs/default.pt" ] && "$PY" -c "
import sys, torch
from pocketvox.volume.io import load_checkpoint, save_checkpoint
ck = load_checkpoint(sys.argv[1])
ck['model'] = {k: (v.half() if v.is_floating_point() and 'running_' not in k else v) for k, v in ck['model'].items()}
ck['meta']['weights_dtype'] = 'float16'
save_checkpoint(ck, sys.argv[1])" "$OUT/logs/default.pt"
[ -f "$OUT/logs/default.pt" ] && mv "$OUT/logs/default.pt" "$OUT/default.pt"
[ -f "$OUT/logs/default.json" ] && mv "$OUT/logs/default.json" "$OUT/default.json"
echo "total: $(( $(date +%s) - T0 )) s" | tee -a "$OUT/logs/env.txt"
tar czf "$OUT/gpu_logs.tgz" -C "$OUT" logs && rm -rf "$OUT/logs"
ls -la "$OUT"
