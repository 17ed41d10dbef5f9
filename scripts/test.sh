#!/usr/bin/env bash
# Command 2: install what the tests need, check style and types, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh test
scripts/system-deps.sh
venv="${LORAGATE_VENV:-.venv}"
export PATH="$PWD/$venv/bin:$PATH"
ruff check gateway trainer adapters tests bench
ruff format --check gateway trainer adapters tests bench
mypy gateway trainer adapters tests bench
exec python -m pytest -p no:cacheprovider -ra --durations=15 "$@"
