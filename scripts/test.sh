#!/usr/bin/env bash
# Every test, as CI runs them (README, Quick start): the suite on SQLite, then on PostgreSQL.
# In each pass the fast tests share both cores (pytest-xdist, -n 2); the slow ones (several
# server processes, races, kill -9, browsers) then run one at a time, as their timing assumes a
# machine that is not also running other tests. Extra arguments go to every pytest call.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
for database in sqlite postgresql; do
    echo "== $database: fast tests on both cores"
    GROVE_TEST_DATABASE=$database $PY -m pytest -m "not slow" -n 2 "$@"
    echo "== $database: slow tests"
    GROVE_TEST_DATABASE=$database $PY -m pytest -m slow "$@"
done
