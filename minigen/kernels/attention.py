"""``flash_attention``: fused attention with Triton forward and backward kernels, as an autograd Function.

Validation happens here, at the edge; the kernels themselves trust their inputs. On a GPU every kernel is
autotuned over a small, pruned set of block sizes / warps / stages; under ``TRITON_INTERPRET=1`` (CPU tests)
a single fixed configuration is used because the interpreter cannot time configurations.
"""

import math
import os

import torch
import triton

from ._backward import _bwd_delta_kernel, _bwd_dkdv_kernel, _bwd_dq_kernel
from ._forward import _fwd_kernel

# Triton decides at decoration time whether kernels are interpreted; read the same switch.
INTERPRET = os.environ.get("TRITON_INTERPRET", "0") == "1"

SUPPORTED_DTYPES = (torch.float16, torch.bfloat16, torch.float32)
SUPPORTED_HEAD_DIMS = (16, 32, 64, 128)
_AUTOTUNE_KEY = ["SEQ_BUCKET_Q", "SEQ_BUCKET_K", "HEAD_DIM", "CAUSAL", "HAS_SEGMENTS", "GROUP"]


# MINIGEN_ATTENTION_AUTOTUNE=0 pins one conservative configuration per kernel on the GPU too: quick GPU test
# runs compile 1 instead of ~8 variants per shape class.
AUTOTUNE = not INTERPRET and os.environ.get("MINIGEN_ATTENTION_AUTOTUNE", "1") != "0"


def _configs(candidates, fixed_gpu, interpreter):
    """triton.Configs from (BLOCK_M, BLOCK_N, num_warps, num_stages, largest head_dim it suits) tuples."""
    if INTERPRET:
        chosen = [interpreter]
    else:
        chosen = candidates if AUTOTUNE else [fixed_gpu]
    configs = []
    for m, n, w, s, max_head_dim in chosen:
        config = triton.Config({"BLOCK_M": m, "BLOCK_N": n}, num_warps=w, num_stages=s)
        config.max_head_dim = max_head_dim  # read by _prune; not a kernel argument
        configs.append(config)
    return configs


def _prune(configs, named_args, **kwargs):
    """Keep the configurations worth timing for this call: tiles no larger than the sequences (short
    prompts, one-token decode steps), no tiny tiles for long sequences, and none that spill registers
    badly at this head_dim (ptxas -v for sm_90a, bf16)."""
    if len(configs) == 1:
        return configs
    q_cap = max(16, named_args["SEQ_BUCKET_Q"])
    k_cap = max(16, named_args["SEQ_BUCKET_K"])
    head_dim = kwargs.get("HEAD_DIM", 128)
    min_area = 2048 if min(q_cap, k_cap) >= 512 else 0
    kept = [c for c in configs
            if c.kwargs["BLOCK_M"] <= q_cap and c.kwargs["BLOCK_N"] <= k_cap
            and c.kwargs["BLOCK_M"] * c.kwargs["BLOCK_N"] >= min_area
            and getattr(c, "max_head_dim", 128) >= head_dim]
    if kept:
        return kept
    smallest = min(c.kwargs["BLOCK_M"] * c.kwargs["BLOCK_N"] for c in configs)
    return [c for c in configs if c.kwargs["BLOCK_M"] * c.kwargs["BLOCK_N"] == smallest]


# (BLOCK_M, BLOCK_N, num_warps, num_stages, largest head_dim). Candidates follow what wins for
# FlashAttention-2-style kernels: 128-row query tiles with 8 warps for long sequences, and a few small tiles
# for short sequences. Compiled for sm_90a without a GPU, configurations that spill hundreds of bytes at
# head_dim 128 are limited to head_dim <= 64. On an H100 (2026-11-27, docs/gpu/) the autotuned kernels ran
# 1.24-1.66x SDPA-flash at N >= 2k; which configurations won was not recorded. The
# interpreter choices use unequal BLOCK_M / BLOCK_N so that the CPU tests catch a mixed-up bound.
_FWD_CANDIDATES = [
    (128, 128, 8, 3, 128), (128, 64, 8, 3, 128), (128, 128, 8, 2, 128), (64, 32, 4, 4, 128),
    (128, 64, 4, 3, 64), (128, 32, 4, 4, 64), (64, 64, 4, 3, 64), (64, 128, 4, 3, 64),
    (32, 32, 4, 2, 128), (16, 32, 4, 2, 128), (16, 64, 4, 2, 128),
]
_DKDV_CANDIDATES = [  # BLOCK_N = key tile held in registers, BLOCK_M = query tile streamed
    (32, 128, 8, 3, 128), (64, 128, 8, 3, 128), (64, 128, 8, 2, 128), (32, 64, 4, 3, 128),
    (64, 64, 4, 3, 64), (16, 64, 4, 2, 128), (16, 32, 4, 2, 128),
]
_DQ_CANDIDATES = [  # BLOCK_M = query tile held in registers, BLOCK_N = key tile streamed
    (128, 32, 8, 3, 128), (128, 64, 8, 3, 128), (64, 32, 4, 3, 128), (128, 64, 8, 2, 128),
    (64, 64, 4, 3, 64), (64, 64, 4, 2, 64), (16, 64, 4, 2, 128), (32, 16, 4, 2, 128),
]
_tune = dict(key=_AUTOTUNE_KEY, prune_configs_by={"early_config_prune": _prune})
_fwd = triton.autotune(_configs(_FWD_CANDIDATES, (64, 32, 4, 3, 128), (32, 16, 4, 1, 128)),
                       **_tune)(_fwd_kernel)
_bwd_dkdv = triton.autotune(_configs(_DKDV_CANDIDATES, (32, 64, 4, 3, 128), (16, 32, 4, 1, 128)),
                            **_tune)(_bwd_dkdv_kernel)
_bwd_dq = triton.autotune(_configs(_DQ_CANDIDATES, (64, 32, 4, 3, 128), (32, 16, 4, 1, 128)),
                          **_tune)(_bwd_dq_kernel)
_DELTA_BLOCK = 64


def _bucket(n: int) -> int:
    return triton.next_power_of_2(n)


def _strides(t: torch.Tensor) -> tuple[int, int, int]:
    return t.stride(0), t.stride(1), t.stride(2)


def _last_dim_contiguous(t: torch.Tensor) -> torch.Tensor:
    return t if t.stride(-1) == 1 else t.contiguous()


def _dot_precision(dtype: torch.dtype) -> str:
    # fp32 inputs get true fp32 products: TF32 would lose ~3 decimal digits, more than a float32 caller
    # expects. fp16/bf16 dots ignore the setting.
    return "ieee" if dtype == torch.float32 else "tf32"


class _FlashAttention(torch.autograd.Function):
    @staticmethod
    def forward(ctx, q, k, v, causal, softmax_scale, segment_ids):
        q, k, v = (_last_dim_contiguous(t) for t in (q, k, v))
        batch, n_heads, q_len, head_dim = q.shape
        n_kv_heads, kv_len = k.shape[1], k.shape[2]
        out = torch.empty_like(q, memory_format=torch.contiguous_format)
        lse = torch.empty((batch * n_heads, q_len), device=q.device, dtype=torch.float32)
        seg = segment_ids if segment_ids is not None else lse  # any pointer; never read without segments
        grid = lambda meta: (triton.cdiv(q_len, meta["BLOCK_M"]), batch * n_heads)
        _fwd[grid](
            q, k, v, out, lse, seg, *_strides(q), *_strides(k), *_strides(v), *_strides(out),
            seg.stride(0), n_heads, q_len, kv_len, softmax_scale * math.log2(math.e),
            _bucket(q_len), _bucket(kv_len),
            GROUP=n_heads // n_kv_heads, HEAD_DIM=head_dim, CAUSAL=causal,
            HAS_SEGMENTS=segment_ids is not None, DOT_PRECISION=_dot_precision(q.dtype),
        )
        ctx.save_for_backward(q, k, v, out, lse, segment_ids)
        ctx.causal = causal
        ctx.softmax_scale = softmax_scale
        return out

    @staticmethod
    def backward(ctx, d_out):
        q, k, v, out, lse, segment_ids = ctx.saved_tensors
        d_out = _last_dim_contiguous(d_out)
        batch, n_heads, q_len, head_dim = q.shape
        n_kv_heads, kv_len = k.shape[1], k.shape[2]
        group = n_heads // n_kv_heads
        seg = segment_ids if segment_ids is not None else lse
        common = dict(GROUP=group, HEAD_DIM=head_dim, CAUSAL=ctx.causal, HAS_SEGMENTS=segment_ids is not None,
                      DOT_PRECISION=_dot_precision(q.dtype))
        scales = (ctx.softmax_scale * math.log2(math.e), ctx.softmax_scale)

        delta = torch.empty_like(lse)
        _bwd_delta_kernel[(triton.cdiv(q_len, _DELTA_BLOCK), batch * n_heads)](
            out, d_out, delta, *_strides(out), *_strides(d_out), n_heads, q_len,
            HEAD_DIM=head_dim, BLOCK_M=_DELTA_BLOCK,
        )
        dq = torch.empty_like(q, memory_format=torch.contiguous_format)
        dk = torch.empty_like(k, memory_format=torch.contiguous_format)
        dv = torch.empty_like(v, memory_format=torch.contiguous_format)
        grid_kv = lambda meta: (triton.cdiv(kv_len, meta["BLOCK_N"]), batch * n_kv_heads)
        _bwd_dkdv[grid_kv](
            q, k, v, d_out, lse, delta, dk, dv, seg, *_strides(q), *_strides(k), *_strides(v),
            *_strides(d_out), *_strides(dk), *_strides(dv), seg.stride(0),
            n_heads, n_kv_heads, q_len, kv_len, *scales, _bucket(q_len), _bucket(kv_len), **common,
        )
        grid_q = lambda meta: (triton.cdiv(q_len, meta["BLOCK_M"]), batch * n_heads)
        _bwd_dq[grid_q](
            q, k, v, d_out, lse, delta, dq, seg, *_strides(q), *_strides(k), *_strides(v),
            *_strides(d_out), *_strides(dq), seg.stride(0),
            n_heads, q_len, kv_len, *scales, _bucket(q_len), _bucket(kv_len), **common,
        )
        return dq, dk, dv, None, None, None


def _check(q, k, v, segment_ids) -> None:
    """Raise ValueError, naming what is supported, for inputs the kernels cannot take."""

    def fail(message: str):
        raise ValueError(f"flash_attention: {message}")

    for name, t in (("q", q), ("k", k), ("v", v)):
        if not isinstance(t, torch.Tensor) or t.dim() != 4:
            fail(f"{name} must be a 4-D tensor (batch, heads, seq, head_dim); "
                 f"got {getattr(t, 'shape', type(t).__name__)}")
        if t.dtype not in SUPPORTED_DTYPES:
            fail(f"{name} has dtype {t.dtype}; supported: float16, bfloat16, float32")
        if t.device != q.device:
            fail(f"q, k, v must be on one device; got {q.device} and {t.device}")
    if q.device.type == "cpu" and not INTERPRET:
        fail("CPU tensors need TRITON_INTERPRET=1 set before importing kernels (slow, for tests); "
             "supported devices: cuda, or cpu under the Triton interpreter")
    if q.device.type not in ("cuda", "cpu"):
        fail(f"device {q.device.type} is not supported; use cuda")
    if not (q.dtype == k.dtype == v.dtype):
        fail(f"q, k, v must share one dtype; got {q.dtype}, {k.dtype}, {v.dtype}")
    batch, n_heads, q_len, head_dim = q.shape
    if k.shape != v.shape:
        fail(f"k and v must have the same shape; got {tuple(k.shape)} and {tuple(v.shape)}")
    if k.shape[0] != batch or k.shape[3] != head_dim:
        fail(f"q {tuple(q.shape)} and k/v {tuple(k.shape)} must agree on batch and head_dim")
    if head_dim not in SUPPORTED_HEAD_DIMS:
        fail(f"head_dim {head_dim} is not supported; supported: {', '.join(map(str, SUPPORTED_HEAD_DIMS))}")
    if k.shape[1] == 0 or n_heads % k.shape[1]:
        fail(f"k/v heads ({k.shape[1]}) must divide q heads ({n_heads}) "
             "(equal for multi-head attention, fewer for grouped-query attention)")
    if min(batch, n_heads, q_len, k.shape[2]) == 0:
        fail(f"empty input q {tuple(q.shape)}, k {tuple(k.shape)}; all sizes must be at least 1")
    if segment_ids is None:
        return
    kv_len = k.shape[2]
    if not isinstance(segment_ids, torch.Tensor) or tuple(segment_ids.shape) != (batch, kv_len):
        fail(f"segment_ids must be (batch, kv_seq) = ({batch}, {kv_len}); "
             f"got {getattr(segment_ids, 'shape', type(segment_ids).__name__)}")
    if segment_ids.dtype.is_floating_point or segment_ids.dtype.is_complex or segment_ids.dtype == torch.bool:
        fail(f"segment_ids must be an integer tensor; got {segment_ids.dtype}")
    if segment_ids.device != q.device:
        fail(f"segment_ids is on {segment_ids.device}, q on {q.device}")
    if q_len > kv_len:
        fail(f"with segment_ids, q ({q_len}) cannot be longer than k/v ({kv_len}); "
             "the queries' ids are the last q_len of the keys' ids")


# torch.compile would try to trace through the autotuner and the launch-grid lambdas; a graph break here is
# cheap next to the attention itself and keeps compiled models working with this kernel.
@torch.compiler.disable
def flash_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *, causal: bool = True,
    softmax_scale: float | None = None, segment_ids: torch.Tensor | None = None,
) -> torch.Tensor:
    """Softmax attention of ``q`` over ``k``, ``v``, like ``F.scaled_dot_product_attention``.

    Shapes: ``q`` (batch, heads, q_seq, head_dim); ``k``, ``v`` (batch, kv_heads, kv_seq, head_dim) with
    ``kv_heads`` dividing ``heads`` (grouped-query attention). Returns (batch, heads, q_seq, head_dim) in
    q's dtype; differentiable in q, k, v.

    - Queries are aligned to the END of the keys (KV-cache style): with ``causal``, query ``i`` sees keys
      ``j <= i + kv_seq - q_seq``. (SDPA's ``is_causal`` aligns to the start instead; the two agree when
      ``q_seq == kv_seq``.) A query that sees no key returns 0.
    - ``segment_ids`` (batch, kv_seq), integer: a query only sees keys with its own id (packed documents).
      The queries' ids are the last ``q_seq`` entries. Ids numbered in order along the row (0, 0, 1, 1, ...)
      give exact block skipping; any ids are correct.
    - ``softmax_scale`` defaults to ``1 / sqrt(head_dim)``.
    """
    _check(q, k, v, segment_ids)
    if softmax_scale is None:
        softmax_scale = 1.0 / math.sqrt(q.shape[-1])
    if segment_ids is not None:
        segment_ids = segment_ids.to(torch.int32).contiguous()
    if INTERPRET and q.dtype == torch.bfloat16:
        # The Triton interpreter computes bf16 dots wrongly (it has no bf16 numpy type), so on the CPU bf16
        # runs through float32; autograd casts the gradients back. On a GPU bf16 runs natively.
        out = _FlashAttention.apply(q.float(), k.float(), v.float(), bool(causal), float(softmax_scale),
                                    segment_ids)
        return out.to(torch.bfloat16)
    return _FlashAttention.apply(q, k, v, bool(causal), float(softmax_scale), segment_ids)
