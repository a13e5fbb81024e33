"""Triton kernels for minigen. ``flash_attention`` is the model's fused attention (forward and backward).

- CPU tests (Triton interpreter): ``python -m pytest -q tests/test_kernels.py tests/test_kernels_compile.py``
- GPU tests (compiled kernels, small shapes + real bf16 shapes):
  ``TRITON_INTERPRET=0 python -m pytest -q tests/test_kernels.py``
- Benchmark vs SDPA: ``python -m minigen.kernels.bench --out bench_attention.json`` (on CPU: a
  correctness check only)
"""

from .attention import SUPPORTED_DTYPES, SUPPORTED_HEAD_DIMS, flash_attention

__all__ = ["SUPPORTED_DTYPES", "SUPPORTED_HEAD_DIMS", "flash_attention"]
