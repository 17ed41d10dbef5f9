#!/usr/bin/env bash
# The GPU check: the LoRA SFT recipe's tests and the trainer benchmark, on a machine that has
# torch, transformers, peft and accelerate but none of the gateway's packages (no vLLM,
# pydantic, SQLAlchemy, openai, TRL or datasets). Imports nothing of the gateway.
#
#   bench/gpu_check.sh --download   here, where pip reaches an index: put the wheels the check
#                                   brings (pytest and its dependencies, ~4 MB) in bench/wheels/
#   bench/gpu_check.sh              there: install those wheels into a temporary folder (the
#                                   machine's environment is left as it is), run the recipe's
#                                   tests (tests/trainer/sft, GPU tests included) and
#                                   bench/trainer_throughput.py; prints both results.
#
# Without a GPU it runs on the CPU and says so. What it cannot bring is skipped with a reason:
# no wheels -> no tests; no TRL -> the benchmark runs without the TRL baseline.
# PYTHON picks the interpreter (default python3); GPU_CHECK_EXAMPLES the benchmark's size.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
wheels=bench/wheels
examples="${GPU_CHECK_EXAMPLES:-480}"

if [ "${1:-}" = "--download" ]; then
  mkdir -p "$wheels"
  "$python" -m pip download --quiet --only-binary=:all: --dest "$wheels" \
    "pytest>=8" "pytest-timeout>=2.3"
  du -sh "$wheels"
  exit 0
fi

echo "== machine"
"$python" - <<'PY'
import torch
if torch.cuda.is_available():
    name = torch.cuda.get_device_name(0)
    bf16 = torch.cuda.is_bf16_supported(including_emulation=False)
    print(f"GPU: {name}, training dtype {'bf16' if bf16 else 'fp16 (no native bf16)'}")
else:
    print("no GPU found: running on the CPU in fp32")
print(f"torch {torch.__version__}")
PY
"$python" -c 'import transformers, peft, accelerate; print("transformers", transformers.__version__, "peft", peft.__version__, "accelerate", accelerate.__version__)'

site="$(mktemp -d -t gpu-check-XXXXXX)"
trap 'rm -rf "$site"' EXIT
tests_rc=skipped
echo "== recipe tests (tests/trainer/sft)"
if compgen -G "$wheels/pytest-*.whl" >/dev/null; then
  "$python" -m pip install --quiet --no-index --find-links "$wheels" --target "$site" \
    pytest pytest-timeout
  # --confcutdir: only tests/trainer/sft/conftest.py is read (the suite's root conftest needs
  # the gateway's packages); -o clears the suite's asyncio settings (no pytest-asyncio here).
  set +e
  PYTHONPATH="$PWD:$site" "$python" -m pytest tests/trainer/sft -p no:cacheprovider -q -rs \
    --confcutdir=tests/trainer/sft -o asyncio_mode=strict -W ignore::pytest.PytestConfigWarning
  tests_rc=$?
  set -e
else
  echo "skipped: no pytest wheel in $wheels (run bench/gpu_check.sh --download where pip works)"
fi

echo "== trainer benchmark (bench/trainer_throughput.py --examples $examples)"
set +e
PYTHONPATH="$PWD" "$python" bench/trainer_throughput.py --examples "$examples"
bench_rc=$?
set -e

case "$tests_rc" in
  0) tests_said=passed ;;
  skipped) tests_said="skipped (no pytest wheels)" ;;
  *) tests_said="FAILED (pytest exit $tests_rc)" ;;
esac
bench_said=$([ "$bench_rc" = 0 ] && echo "met its target" || echo "missed its target or failed (exit $bench_rc)")
echo "== result: recipe tests $tests_said; trainer benchmark $bench_said"
[ "$tests_rc" = 0 ] || [ "$tests_rc" = skipped ]
