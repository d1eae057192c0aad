#!/usr/bin/env bash
# One prepared GPU check (issue #3): GPU tests + the three benchmarks, results under $OUT.
# Run on the device machine from the repository root, with wheels carried in .whl/ if the image lacks them
# (numba, llvmlite, qdrant-client, sentence-transformers>=6.2, ...: see the device README):
#   bash benchmarks/gpu_check.sh
set -uo pipefail
if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH="/tmp/site:${PYTHONPATH:-}"
fi
OUT="${OUT:-/tmp/gpu_out}"
mkdir -p "$OUT"
export HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1 PYTHONPATH="$PWD:${PYTHONPATH:-}"
nvidia-smi --query-gpu=name,memory.total --format=csv | tee "$OUT/gpu.txt"
python -m pytest -m gpu -q -p no:cacheprovider tests 2>&1 | tee "$OUT/gpu_tests.txt"
python benchmarks/bench_pooling.py --docs 20000 --reference-docs 1000 --rounds 3 2>&1 | tee "$OUT/pooling.txt"
python benchmarks/bench_maxsim.py --docs 20000 --gpu-docs 100000 2>&1 | tee "$OUT/maxsim.txt"
python benchmarks/bench_encode.py --docs 20000 --words 180 --cpu-docs 256 2>&1 | tee "$OUT/encode.txt"
cp docs/benchmarks/*.png "$OUT/" 2>/dev/null || true
