#!/usr/bin/env bash
# The static checks every change passes before the tests: formatting, lint and types.
# Run from anywhere; uses the project's .venv (./scripts/install.sh creates it).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
echo "== ruff format --check"
$PY -m ruff format --check server otree tests bench scripts
echo "== ruff check"
$PY -m ruff check server otree tests bench scripts
echo "== mypy server/"
$PY -m mypy
echo "checks passed"
