#!/usr/bin/env bash
# Creates .venv at the repository root and installs pocketvox into it (editable).
# Usage: scripts/setup.sh [EXTRAS]   e.g. scripts/setup.sh ml,viz   (default: ml,viz,parquet)
# torch: the CPU wheel 2.13.0 is installed explicitly first, so pip never pulls a multi-GB CUDA
# build to satisfy pyproject's torch range. Re-running is cheap: pip skips what is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-ml,viz,parquet}"
py="${PYTHON:-}"
if [[ -z $py ]]; then
  for c in python3.11 python3.12 python3.10 python3; do command -v "$c" >/dev/null 2>&1 && { py=$c; break; }; done
fi
if [[ ! -x .venv/bin/python ]]; then
  "$py" -m venv .venv
fi
pip=(.venv/bin/python -m pip install --quiet --disable-pip-version-check)
if [[ $extras == *ml* ]] && ! .venv/bin/python -c "import torch" >/dev/null 2>&1; then
  "${pip[@]}" "torch==${POCKETVOX_TORCH:-2.13.0}" || "${pip[@]}" "torch>=2.2,<2.15" --index-url https://download.pytorch.org/whl/cpu
fi
"${pip[@]}" -e ".[${extras}]"
