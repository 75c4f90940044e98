#!/usr/bin/env bash
# Install Grove into ./.venv: its dependencies from requirements.txt (exact pins), then Grove
# itself, editable, which gives .venv/bin/grove and .venv/bin/otree (the same as python -m server).
# With --system, also install the Debian packages the full test suite uses:
# PostgreSQL (the production database), Chromium (browser tests) and wrk (the benchmark
# harness test). Needs root or sudo.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--system" ]; then
    SUDO=""
    if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql chromium wrk >/dev/null
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -r requirements.txt
# setuptools, the build backend, is pinned in requirements.txt: the build downloads nothing.
# (PYTHONWARNINGS quiets setuptools' general warning about editable installs.)
PYTHONWARNINGS=ignore .venv/bin/python -m pip install -q --no-deps --no-build-isolation -e .
echo "Grove is installed in .venv"
