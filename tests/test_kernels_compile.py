"""Compile the attention kernels for a Hopper GPU (sm_90) on a machine without one.

The interpreter runs kernels as NumPy and forgives what the compiler does not (a loop-carried value that
changes type, a non-constexpr global, a length specialized to the constant 1). Triton can compile down to
a cubin with no GPU present, so this catches those errors in CPU-only CI. It runs in a subprocess because
tests/conftest.py turns the interpreter on for this process.
"""

import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent('''
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    from minigen.kernels._backward import _bwd_delta_kernel, _bwd_dkdv_kernel, _bwd_dq_kernel
    from minigen.kernels._forward import _fwd_kernel

    POINTERS = {"Q", "K", "V", "Out", "DO", "DK", "DV", "DQ"}

    def compile_for_hopper(fn, dtype, constants, num_warps):
        signature = {}
        for name in fn.arg_names:
            if name in constants:
                signature[name] = "constexpr"
            elif name in POINTERS:
                signature[name] = "*" + dtype
            elif name in ("LSE", "Delta"):
                signature[name] = "*fp32"
            elif name == "SEG":
                signature[name] = "*i32"
            elif name in ("qk_scale", "softmax_scale"):
                signature[name] = "fp32"
            else:
                signature[name] = "i32"
        constexprs = {(fn.arg_names.index(name),): value for name, value in constants.items()}
        source = ASTSource(fn=fn, signature=signature, constexprs=constexprs)
        options = {"num_warps": num_warps, "num_stages": 3}
        triton.compile(source, target=GPUTarget("cuda", 90, 32), options=options)

    cases = [  # dtype, causal, segments, group, head_dim, extra constants (lengths Triton specializes to 1)
        ("bf16", True, True, 2, 128, {}),
        ("fp32", True, False, 1, 32, {"q_len": 1}),
        ("bf16", False, True, 4, 64, {"q_len": 1, "kv_len": 1}),
    ]
    for dtype, causal, segments, group, head_dim, extra in cases:
        base = dict(GROUP=group, HEAD_DIM=head_dim, CAUSAL=causal, HAS_SEGMENTS=segments,
                    DOT_PRECISION="ieee" if dtype == "fp32" else "tf32", **extra)
        kernels = ((_fwd_kernel, 128, 64), (_bwd_dkdv_kernel, 32, 128), (_bwd_dq_kernel, 128, 32))
        for fn, block_m, block_n in kernels:
            compile_for_hopper(fn, dtype, dict(base, BLOCK_M=block_m, BLOCK_N=block_n), num_warps=8)
    compile_for_hopper(_bwd_delta_kernel, "bf16", dict(HEAD_DIM=64, BLOCK_M=64), num_warps=4)
    print("compiled")
''')


@pytest.mark.slow
def test_kernels_compile_for_sm90_without_a_gpu():
    pytest.importorskip("triton.backends.nvidia", reason="Triton's CUDA backend is not installed")
    env = {**os.environ, "TRITON_INTERPRET": "0"}
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    result = subprocess.run([sys.executable, "-c", SCRIPT], env=env, cwd=root, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0 and "compiled" in result.stdout, result.stderr[-4000:]
