#!/usr/bin/env bash
# One prepared GPU check of the attention kernel (H100/H200), in two parts that each fit one device call:
#   bash kernels/gpu_check.sh tests   # compiled kernels vs the float64 reference: small ragged shapes and
#                                     # real bf16 shapes, one pinned config per kernel (~3-5 min, mostly compiling)
#   bash kernels/gpu_check.sh bench   # autotuned kernel vs SDPA flash / cuDNN / eager, TFLOP/s (~4-6 min)
# Results go to $OUT (the device tool's folder) when set, else to the current directory.
set -uo pipefail
out="${OUT:-.}"
export TRITON_INTERPRET=0
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
python -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__)"
case "${1:-tests}" in
  tests)
    MINIGEN_ATTENTION_AUTOTUNE=0 timeout 540 python -m pytest -q -x -p no:cacheprovider tests/test_kernels.py \
      2>&1 | tee "$out/gpu_tests.txt" | tail -25 ;;
  bench)
    timeout 560 python -m kernels.bench --seqs "${SEQS:-1024,2048,4096,8192,16384}" \
      --out "$out/bench_attention.json" 2>&1 | tee "$out/bench_attention.txt" ;;
  *) echo "usage: bash kernels/gpu_check.sh tests|bench" >&2; exit 2 ;;
esac
