#!/usr/bin/env bash
# One prepared GPU check of the attention kernel (H100/H200), in two parts that each fit one device call:
#   bash minigen/kernels/gpu_check.sh tests   # compiled kernels vs the float64 reference: small ragged shapes and
#                                     # real bf16 shapes, one pinned config per kernel (~3-5 min, mostly compiling)
#   bash minigen/kernels/gpu_check.sh bench   # autotuned kernel vs SDPA flash / cuDNN / eager, TFLOP/s (~4-6 min)
#   bash minigen/kernels/gpu_check.sh session # both, trimmed to fit one call, plus training MFU (~9 min)
# Results go to $OUT (the device tool's folder) when set, else to the current directory.
set -uo pipefail
out="${OUT:-.}"
export TRITON_INTERPRET=0
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"  # the repo, not an installed copy
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
python3 -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__)"
case "${1:-tests}" in
  tests)
    MINIGEN_ATTENTION_AUTOTUNE=0 timeout 540 python3 -m pytest -q -x -p no:cacheprovider tests/test_kernels.py \
      2>&1 | tee "$out/gpu_tests.txt" | tail -25 ;;
  bench)
    timeout 560 python3 -m minigen.kernels.bench --seqs "${SEQS:-1024,2048,4096,8192,16384}" \
      --out "$out/bench_attention.json" 2>&1 | tee "$out/bench_attention.txt" ;;
  session)  # everything one 15-minute device lease allows, in one call (~9 min): a smoke check, the tests
            # spread over 8 processes (compiling dominates), the benchmark at N >= 2k, training MFU
    timeout 60 python3 -c "
import torch; from minigen.kernels import flash_attention as fa
q, k, v = (torch.randn(2, 8, 1000, 64, device='cuda', dtype=torch.bfloat16, requires_grad=True) for _ in range(3))
ref = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
out = fa(q, k, v, causal=True); out.float().sum().backward()
print('smoke: max |triton - sdpa| =', (out - ref).abs().max().item())" 2>&1 | tee "$out/smoke.txt"
    MINIGEN_ATTENTION_AUTOTUNE=0 timeout 150 python3 -m pytest -q -n 8 --maxfail=3 --tb=short -p no:cacheprovider \
      tests/test_kernels.py 2>&1 | tee "$out/gpu_tests.txt" | tail -40
    timeout 250 python3 -m minigen.kernels.bench --seqs "${SEQS:-2048,4096,8192}" --impls triton,sdpa_flash,sdpa_cudnn \
      --out "$out/bench_attention.json" 2>&1 | tee "$out/bench_attention.txt"
    WANDB_MODE=disabled timeout 100 python3 benchmarks/bench_train.py --preset medium --device cuda --steps 10 \
      --rounds 2 2>&1 | tee "$out/bench_train.txt" ;;
  *) echo "usage: bash minigen/kernels/gpu_check.sh tests|bench|session" >&2; exit 2 ;;
esac
