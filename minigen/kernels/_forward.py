"""Triton forward kernel of fused attention, and the helpers the backward kernels share with it.

Conventions used by all kernels:
- Tensors are (batch, heads, seq, head_dim) with the last dimension contiguous; the other strides are passed.
- Queries are aligned to the END of the keys (``key_offset = kv_len - q_len``): query ``i`` sits at key
  position ``i + key_offset``, so causal attention lets it see keys ``j <= i + key_offset``.
- Scores live in the log2 domain: ``qk_scale = softmax_scale * log2(e)`` so that one ``exp2`` replaces ``exp``
  and the scale multiply is folded into the same multiply. The saved log-sum-exp is in that domain too.
- A row with no visible key gets output 0 and log-sum-exp ``+inf`` (so the backward's ``exp2(s - lse)`` is 0).
- ``segment_ids`` are one int32 row per batch over the keys; the queries' ids are its last ``q_len`` entries.
"""

import os

import triton
import triton.language as tl

INT32_MAX = tl.constexpr(2147483647)
INT32_MIN = tl.constexpr(-2147483648)
# Blocks of segment ids read per step of the block-skipping scan; small under the interpreter so that the
# CPU tests' short rows still take several steps.
SCAN_BLOCKS = tl.constexpr(2 if os.environ.get("TRITON_INTERPRET", "0") == "1" else 16)


@triton.jit
def _segment_range(seg_ptr, offs, n):
    """Smallest and largest segment id among positions ``offs`` (those ``< n``)."""
    ok = offs < n
    ids = tl.load(seg_ptr + offs, mask=ok, other=0)
    return tl.min(tl.where(ok, ids, INT32_MAX), 0), tl.max(tl.where(ok, ids, INT32_MIN), 0)


@triton.jit
def _blocks_meeting_segments(seg_ptr, lo, hi, n, seg_min, seg_max, BLOCK: tl.constexpr):
    """Block-aligned range ``[first, last)`` inside ``[lo, hi)`` outside which no block's segment ids can meet
    ``[seg_min, seg_max]`` (``lo`` is a multiple of ``BLOCK``).

    This is what lets packed documents skip whole blocks instead of masking them: for the usual packing
    (ids non-decreasing along the row) the range is exact. For unsorted ids it is still correct, only
    looser: blocks inside the range are masked element by element. The scan reads SCAN_BLOCKS blocks of
    ids per step, so even a 16k-token row takes a handful of steps, small next to one K/V tile.
    """
    offs = tl.arange(0, SCAN_BLOCKS * BLOCK)
    block_offs = tl.arange(0, SCAN_BLOCKS) * BLOCK
    # tl.zeros + x makes both int32 tensors even when lo/hi are compile-time constants (loop-carried
    # values must keep one type).
    first = tl.zeros([], tl.int32) + hi
    last = tl.zeros([], tl.int32) + lo
    for start in range(lo, hi, SCAN_BLOCKS * BLOCK):
        ok = (start + offs) < n
        ids = tl.load(seg_ptr + start + offs, mask=ok, other=0)
        ids = tl.reshape(ids, [SCAN_BLOCKS, BLOCK])
        ok = tl.reshape(ok, [SCAN_BLOCKS, BLOCK])
        block_min = tl.min(tl.where(ok, ids, INT32_MAX), 1)
        block_max = tl.max(tl.where(ok, ids, INT32_MIN), 1)
        starts = start + block_offs
        hit = (block_max >= seg_min) & (block_min <= seg_max) & (starts < hi)
        first = tl.minimum(first, tl.min(tl.where(hit, starts, hi), 0))
        last = tl.maximum(last, tl.max(tl.where(hit, starts + BLOCK, lo), 0))
    return first, last


@triton.jit
def _key_bounds(m0, q_len, kv_len, CAUSAL: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    """For the query block starting at ``m0``: ``(split, hi)`` such that key blocks in ``[0, split)`` are
    visible to every query row (no mask needed) and no key at or after ``hi`` is visible to any row."""
    if CAUSAL:
        key_offset = kv_len - q_len
        hi = tl.minimum(tl.maximum(m0 + BLOCK_M + key_offset, 0), kv_len)
        full_end = tl.minimum(tl.maximum(m0 + key_offset + 1, 0), kv_len)
    else:
        hi = kv_len
        full_end = kv_len
    return (full_end // BLOCK_N) * BLOCK_N, hi


@triton.jit
def _visible(rows, cols, q_len, kv_len, q_seg, k_seg, CAUSAL: tl.constexpr, HAS_SEGMENTS: tl.constexpr):
    """(rows x cols) mask of which key each query may attend to. ``q_seg``/``k_seg`` are ignored without
    segments. Rows past ``q_len`` are not masked: they are never stored and rows do not mix."""
    ok = cols[None, :] < kv_len
    if CAUSAL:
        ok = ok & (cols[None, :] <= rows[:, None] + (kv_len - q_len))
    if HAS_SEGMENTS:
        ok = ok & (q_seg[:, None] == k_seg[None, :])
    return ok


@triton.jit
def _fwd_inner(acc, m_i, l_i, q, q_seg, k_base, v_base, kseg_ptr, stride_kn, stride_vn,
               rows, offs_n, offs_d, start, end, q_len, kv_len, qk_scale,
               CAUSAL: tl.constexpr, HAS_SEGMENTS: tl.constexpr, MASKED: tl.constexpr,
               DOT_PRECISION: tl.constexpr, BLOCK_N: tl.constexpr):
    """Online softmax over key blocks ``[start, end)``. ``MASKED=False`` is the fast path for blocks every
    row fully sees: no bounds checks, no mask, no guard against all-masked rows."""
    for start_n in range(start, end, BLOCK_N):
        cols = start_n + offs_n
        k_ptrs = k_base + cols[:, None] * stride_kn + offs_d[None, :]
        v_ptrs = v_base + cols[:, None] * stride_vn + offs_d[None, :]
        if MASKED:
            col_ok = cols < kv_len
            k = tl.load(k_ptrs, mask=col_ok[:, None], other=0.0)
        else:
            k = tl.load(k_ptrs)
        s = tl.dot(q, tl.trans(k), input_precision=DOT_PRECISION) * qk_scale
        if MASKED:
            k_seg = q_seg  # unused placeholder when there are no segments
            if HAS_SEGMENTS:
                k_seg = tl.load(kseg_ptr + cols, mask=col_ok, other=-1)
            s = tl.where(_visible(rows, cols, q_len, kv_len, q_seg, k_seg, CAUSAL, HAS_SEGMENTS), s,
                         float("-inf"))
        m_new = tl.maximum(m_i, tl.max(s, 1))
        if MASKED:
            # A row that has seen no visible key yet has m = -inf; subtracting 0 instead keeps
            # exp2(-inf - -inf) = NaN out, and its p and alpha come out as exact zeros.
            m_new_safe = tl.where(m_new == float("-inf"), 0.0, m_new)
        else:
            m_new_safe = m_new
        p = tl.math.exp2(s - m_new_safe[:, None])
        alpha = tl.math.exp2(m_i - m_new_safe)
        l_i = l_i * alpha + tl.sum(p, 1)
        if MASKED:
            v = tl.load(v_ptrs, mask=col_ok[:, None], other=0.0)
        else:
            v = tl.load(v_ptrs)
        acc = tl.dot(p.to(v.dtype), v, acc * alpha[:, None], input_precision=DOT_PRECISION)
        m_i = m_new
    return acc, m_i, l_i


@triton.jit
def _fwd_kernel(Q, K, V, Out, LSE, SEG,
                stride_qb, stride_qh, stride_qm, stride_kb, stride_kh, stride_kn,
                stride_vb, stride_vh, stride_vn, stride_ob, stride_oh, stride_om, stride_sb,
                n_heads, q_len, kv_len, qk_scale,
                SEQ_BUCKET_Q, SEQ_BUCKET_K,  # autotuning key only (lengths rounded to a power of two)
                GROUP: tl.constexpr, HEAD_DIM: tl.constexpr, CAUSAL: tl.constexpr,
                HAS_SEGMENTS: tl.constexpr, DOT_PRECISION: tl.constexpr,
                BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    pid_m = tl.program_id(0)
    if CAUSAL:  # the last query blocks see the most keys: start them first so the tail of the grid is light
        pid_m = tl.num_programs(0) - 1 - pid_m
    pid_bh = tl.program_id(1)
    b = (pid_bh // n_heads).to(tl.int64)
    h = (pid_bh % n_heads).to(tl.int64)
    hk = h // GROUP  # grouped-query attention: GROUP query heads share one k/v head

    m0 = pid_m * BLOCK_M
    rows = m0 + tl.arange(0, BLOCK_M)
    offs_n = tl.arange(0, BLOCK_N)
    offs_d = tl.arange(0, HEAD_DIM)
    row_ok = rows < q_len

    q_ptrs = Q + b * stride_qb + h * stride_qh + rows[:, None] * stride_qm + offs_d[None, :]
    q = tl.load(q_ptrs, mask=row_ok[:, None], other=0.0)
    k_base = K + b * stride_kb + hk * stride_kh
    v_base = V + b * stride_vb + hk * stride_vh

    m_i = tl.full([BLOCK_M], float("-inf"), tl.float32)
    l_i = tl.zeros([BLOCK_M], tl.float32)
    acc = tl.zeros([BLOCK_M, HEAD_DIM], tl.float32)
    split, hi = _key_bounds(m0, q_len, kv_len, CAUSAL, BLOCK_M, BLOCK_N)

    if HAS_SEGMENTS:
        kseg_ptr = SEG + b * stride_sb
        qseg_ptr = kseg_ptr + (kv_len - q_len)
        q_seg = tl.load(qseg_ptr + rows, mask=row_ok, other=-1)
        seg_min, seg_max = _segment_range(qseg_ptr, rows, q_len)
        first, last = _blocks_meeting_segments(kseg_ptr, 0, hi, kv_len, seg_min, seg_max, BLOCK_N)
        acc, m_i, l_i = _fwd_inner(acc, m_i, l_i, q, q_seg, k_base, v_base, kseg_ptr, stride_kn, stride_vn,
                                   rows, offs_n, offs_d, first, last, q_len, kv_len, qk_scale,
                                   CAUSAL, True, True, DOT_PRECISION, BLOCK_N)
    else:
        acc, m_i, l_i = _fwd_inner(acc, m_i, l_i, q, rows, k_base, v_base, SEG, stride_kn, stride_vn,
                                   rows, offs_n, offs_d, 0, split, q_len, kv_len, qk_scale,
                                   CAUSAL, False, False, DOT_PRECISION, BLOCK_N)
        acc, m_i, l_i = _fwd_inner(acc, m_i, l_i, q, rows, k_base, v_base, SEG, stride_kn, stride_vn,
                                   rows, offs_n, offs_d, split, hi, q_len, kv_len, qk_scale,
                                   CAUSAL, False, True, DOT_PRECISION, BLOCK_N)

    empty = l_i == 0.0  # rows that see no key at all: output 0, never NaN
    out = acc / tl.where(empty, 1.0, l_i)[:, None]
    lse = tl.where(empty, float("inf"), m_i + tl.math.log2(tl.where(empty, 1.0, l_i)))
    o_ptrs = Out + b * stride_ob + h * stride_oh + rows[:, None] * stride_om + offs_d[None, :]
    tl.store(o_ptrs, out.to(Out.dtype.element_ty), mask=row_ok[:, None])
    tl.store(LSE + pid_bh.to(tl.int64) * q_len + rows, lse, mask=row_ok)
