#!/usr/bin/env bash
# Installs everything, then runs the test suite (real Spark, Delta, Dagster and tiny models).
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
# vLLM's own environment (it pins its own torch): tests/steps/test_vllm_sampling.py runs the sample
# step there on CPU, and fails in CI without it.
bash "$(dirname "${BASH_SOURCE[0]}")/vllm_env.sh"
# Debian's chromium for the Dagit browser test (installed when missing; an error if it cannot be).
bash scripts/install_chromium.sh
set +e
python -m pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  # pytest's 5 means no test was collected: for this suite that is a broken selection, not a pass.
  echo "error: pytest collected no tests (exit code 5)" >&2
fi
exit "$status"
