#!/usr/bin/env bash
# Command 1: install (first time only) and start everything on the embedded default:
# the default model, the vLLM engine, the gateway on :8000. Ctrl-C stops it all.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
exec "${LORAGATE_VENV:-.venv}/bin/loragate" up "$@"
