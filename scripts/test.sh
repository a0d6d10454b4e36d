#!/usr/bin/env bash
# Sets up .venv with every optional part and the test tools, then runs the test suite.
# Usage: scripts/test.sh [PYTEST ARGS]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh "ml,viz,parquet,medical,climate,ray,dev"
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
