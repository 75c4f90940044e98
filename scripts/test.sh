#!/usr/bin/env bash
# Every test, as CI runs them (README, Quick start): the suite on SQLite, then on PostgreSQL.
# In each pass the fast tests (the inner loop's subset) and then the thorough ones (the other
# cases of parametrized tests and the slower functions: tests/thorough.py) share both cores
# (pytest-xdist, -n 2); the slow ones (several server processes, races, kill -9, browsers)
# then run one at a time, as their timing assumes a machine that is not also running other
# tests. Extra arguments go to every pytest call.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
# Python's default: cache compiled modules (and pytest's rewritten test modules) in
# __pycache__, which every pytest call and xdist worker would otherwise compile anew
# (about 4 s of CPU each where the environment sets PYTHONDONTWRITEBYTECODE).
unset PYTHONDONTWRITEBYTECODE
for database in sqlite postgresql; do
    echo "== $database: fast tests on both cores"
    GROVE_TEST_DATABASE=$database $PY -m pytest -m "not slow" -n 2 "$@"
    echo "== $database: thorough tests on both cores"
    GROVE_TEST_DATABASE=$database $PY -m pytest -m thorough -n 2 "$@"
    echo "== $database: slow tests, one at a time"
    GROVE_TEST_DATABASE=$database $PY -m pytest -m "slow and not thorough" "$@"
done
