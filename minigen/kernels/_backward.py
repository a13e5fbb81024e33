"""Triton backward kernels of fused attention (conventions: see ``_forward.py``).

Three launches, no atomics, so the gradients are deterministic:
1. ``_bwd_delta_kernel``: delta = rowsum(dO * O), the softmax-backward term shared by dK and dQ.
2. ``_bwd_dkdv_kernel``: one program per key block (and k/v head) walks the query blocks that can see it
   and accumulates dK, dV in registers; with grouped-query attention it also walks the query heads of the
   group, so a shared k/v head gets its summed gradient without atomics.
3. ``_bwd_dq_kernel``: one program per query block walks the key blocks it can see (same bounds as the
   forward) and accumulates dQ.
Each recomputes P = exp2(s - lse) from the saved log-sum-exp instead of storing the attention matrix.
"""

import triton
import triton.language as tl

from ._forward import _blocks_meeting_segments, _key_bounds, _segment_range, _visible


@triton.jit
def _bwd_delta_kernel(Out, DO, Delta, stride_ob, stride_oh, stride_om, stride_db, stride_dh, stride_dm,
                      n_heads, q_len, HEAD_DIM: tl.constexpr, BLOCK_M: tl.constexpr):
    pid_m = tl.program_id(0)
    pid_bh = tl.program_id(1)
    b = (pid_bh // n_heads).to(tl.int64)
    h = (pid_bh % n_heads).to(tl.int64)
    rows = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_d = tl.arange(0, HEAD_DIM)
    row_ok = rows[:, None] < q_len
    o = tl.load(Out + b * stride_ob + h * stride_oh + rows[:, None] * stride_om + offs_d[None, :],
                mask=row_ok, other=0.0)
    do = tl.load(DO + b * stride_db + h * stride_dh + rows[:, None] * stride_dm + offs_d[None, :],
                 mask=row_ok, other=0.0)
    delta = tl.sum(o.to(tl.float32) * do.to(tl.float32), 1)
    tl.store(Delta + pid_bh.to(tl.int64) * q_len + rows, delta, mask=rows < q_len)


@triton.jit
def _dkdv_inner(dk, dv, k, v, k_seg, q_base, do_base, lse_base, delta_base, qseg_ptr,
                stride_qm, stride_dom, cols, offs_m, offs_d, start, end, q_len, kv_len, qk_scale,
                CAUSAL: tl.constexpr, HAS_SEGMENTS: tl.constexpr, MASKED: tl.constexpr,
                DOT_PRECISION: tl.constexpr, BLOCK_M: tl.constexpr):
    """Accumulate dK, dV of one key block over query blocks ``[start, end)``, in transposed form
    (keys x queries) so that no tile needs a transpose before a store."""
    for start_m in range(start, end, BLOCK_M):
        rows = start_m + offs_m
        q_ptrs = q_base + rows[:, None] * stride_qm + offs_d[None, :]
        do_ptrs = do_base + rows[:, None] * stride_dom + offs_d[None, :]
        if MASKED:
            row_ok = rows < q_len
            q = tl.load(q_ptrs, mask=row_ok[:, None], other=0.0)
            lse = tl.load(lse_base + rows, mask=row_ok, other=float("inf"))
        else:
            q = tl.load(q_ptrs)
            lse = tl.load(lse_base + rows)
        p_t = tl.math.exp2(tl.dot(k, tl.trans(q), input_precision=DOT_PRECISION) * qk_scale - lse[None, :])
        if MASKED:
            # The (keys x queries) transpose of _visible's mask. Key rows past kv_len are never stored.
            vis = row_ok[None, :]
            if CAUSAL:
                vis = vis & (cols[:, None] <= rows[None, :] + (kv_len - q_len))
            if HAS_SEGMENTS:
                q_seg = tl.load(qseg_ptr + rows, mask=row_ok, other=-1)
                vis = vis & (k_seg[:, None] == q_seg[None, :])
            p_t = tl.where(vis, p_t, 0.0)
            do = tl.load(do_ptrs, mask=row_ok[:, None], other=0.0)
            delta = tl.load(delta_base + rows, mask=row_ok, other=0.0)
        else:
            do = tl.load(do_ptrs)
            delta = tl.load(delta_base + rows)
        dv = tl.dot(p_t.to(do.dtype), do, dv, input_precision=DOT_PRECISION)
        dp_t = tl.dot(v, tl.trans(do), input_precision=DOT_PRECISION)
        ds_t = p_t * (dp_t - delta[None, :])
        dk = tl.dot(ds_t.to(q.dtype), q, dk, input_precision=DOT_PRECISION)
    return dk, dv


@triton.jit
def _bwd_dkdv_kernel(Q, K, V, DO, LSE, Delta, DK, DV, SEG,
                     stride_qb, stride_qh, stride_qm, stride_kb, stride_kh, stride_kn,
                     stride_vb, stride_vh, stride_vn, stride_dob, stride_doh, stride_dom,
                     stride_dkb, stride_dkh, stride_dkn, stride_dvb, stride_dvh, stride_dvn, stride_sb,
                     n_heads, n_kv_heads, q_len, kv_len, qk_scale, softmax_scale,
                     SEQ_BUCKET_Q, SEQ_BUCKET_K,  # autotuning key only
                     GROUP: tl.constexpr, HEAD_DIM: tl.constexpr, CAUSAL: tl.constexpr,
                     HAS_SEGMENTS: tl.constexpr, DOT_PRECISION: tl.constexpr,
                     BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    pid_n = tl.program_id(0)
    pid_bh = tl.program_id(1)
    b = (pid_bh // n_kv_heads).to(tl.int64)
    hk = (pid_bh % n_kv_heads).to(tl.int64)

    n0 = pid_n * BLOCK_N
    cols = n0 + tl.arange(0, BLOCK_N)
    offs_m = tl.arange(0, BLOCK_M)
    offs_d = tl.arange(0, HEAD_DIM)
    col_ok = cols < kv_len
    k = tl.load(K + b * stride_kb + hk * stride_kh + cols[:, None] * stride_kn + offs_d[None, :],
                mask=col_ok[:, None], other=0.0)
    v = tl.load(V + b * stride_vb + hk * stride_vh + cols[:, None] * stride_vn + offs_d[None, :],
                mask=col_ok[:, None], other=0.0)
    dk = tl.zeros([BLOCK_N, HEAD_DIM], tl.float32)
    dv = tl.zeros([BLOCK_N, HEAD_DIM], tl.float32)

    # Query blocks [lo, full) see this key block partly (masked), [full, even) fully (fast path), and
    # [even, q_len) is the ragged tail (masked). Blocks before lo cannot see any of these keys.
    key_offset = kv_len - q_len
    if CAUSAL:
        lo = (tl.minimum(tl.maximum(n0 - key_offset, 0), q_len) // BLOCK_M) * BLOCK_M
        full = tl.cdiv(tl.minimum(tl.maximum(n0 + BLOCK_N - 1 - key_offset, 0), q_len), BLOCK_M) * BLOCK_M
    else:
        lo = 0
        full = 0
    even = (q_len // BLOCK_M) * BLOCK_M
    full = tl.maximum(tl.minimum(full, even), lo)
    even = tl.maximum(even, full)

    k_seg = cols  # placeholder when there are no segments
    qseg_ptr = SEG
    if HAS_SEGMENTS:
        kseg_ptr = SEG + b * stride_sb
        qseg_ptr = kseg_ptr + key_offset
        k_seg = tl.load(kseg_ptr + cols, mask=col_ok, other=-1)
        seg_min, seg_max = _segment_range(kseg_ptr, cols, kv_len)
        first, last = _blocks_meeting_segments(qseg_ptr, lo, q_len, q_len, seg_min, seg_max, BLOCK_M)

    for g in range(GROUP):
        h = hk * GROUP + g
        q_base = Q + b * stride_qb + h * stride_qh
        do_base = DO + b * stride_dob + h * stride_doh
        row_base = (b * n_heads + h) * q_len  # lse and delta are (batch * heads, q_len)
        if HAS_SEGMENTS:
            dk, dv = _dkdv_inner(dk, dv, k, v, k_seg, q_base, do_base, LSE + row_base, Delta + row_base,
                                 qseg_ptr, stride_qm, stride_dom, cols, offs_m, offs_d, first, last,
                                 q_len, kv_len, qk_scale, CAUSAL, True, True, DOT_PRECISION, BLOCK_M)
        else:
            dk, dv = _dkdv_inner(dk, dv, k, v, k_seg, q_base, do_base, LSE + row_base, Delta + row_base,
                                 qseg_ptr, stride_qm, stride_dom, cols, offs_m, offs_d, lo, full,
                                 q_len, kv_len, qk_scale, CAUSAL, False, True, DOT_PRECISION, BLOCK_M)
            dk, dv = _dkdv_inner(dk, dv, k, v, k_seg, q_base, do_base, LSE + row_base, Delta + row_base,
                                 qseg_ptr, stride_qm, stride_dom, cols, offs_m, offs_d, full, even,
                                 q_len, kv_len, qk_scale, CAUSAL, False, False, DOT_PRECISION, BLOCK_M)
            dk, dv = _dkdv_inner(dk, dv, k, v, k_seg, q_base, do_base, LSE + row_base, Delta + row_base,
                                 qseg_ptr, stride_qm, stride_dom, cols, offs_m, offs_d, even, q_len,
                                 q_len, kv_len, qk_scale, CAUSAL, False, True, DOT_PRECISION, BLOCK_M)

    dk = dk * softmax_scale  # s = scale * q.k, so both dS paths carry one factor of the scale
    tl.store(DK + b * stride_dkb + hk * stride_dkh + cols[:, None] * stride_dkn + offs_d[None, :],
             dk.to(DK.dtype.element_ty), mask=col_ok[:, None])
    tl.store(DV + b * stride_dvb + hk * stride_dvh + cols[:, None] * stride_dvn + offs_d[None, :],
             dv.to(DV.dtype.element_ty), mask=col_ok[:, None])


@triton.jit
def _dq_inner(dq, q, do, lse, delta, q_seg, k_base, v_base, kseg_ptr, stride_kn, stride_vn,
              rows, offs_n, offs_d, start, end, q_len, kv_len, qk_scale,
              CAUSAL: tl.constexpr, HAS_SEGMENTS: tl.constexpr, MASKED: tl.constexpr,
              DOT_PRECISION: tl.constexpr, BLOCK_N: tl.constexpr):
    for start_n in range(start, end, BLOCK_N):
        cols = start_n + offs_n
        k_ptrs = k_base + cols[:, None] * stride_kn + offs_d[None, :]
        v_ptrs = v_base + cols[:, None] * stride_vn + offs_d[None, :]
        if MASKED:
            col_ok = cols < kv_len
            k = tl.load(k_ptrs, mask=col_ok[:, None], other=0.0)
            v = tl.load(v_ptrs, mask=col_ok[:, None], other=0.0)
        else:
            k = tl.load(k_ptrs)
            v = tl.load(v_ptrs)
        p = tl.math.exp2(tl.dot(q, tl.trans(k), input_precision=DOT_PRECISION) * qk_scale - lse[:, None])
        if MASKED:
            k_seg = q_seg  # unused placeholder when there are no segments
            if HAS_SEGMENTS:
                k_seg = tl.load(kseg_ptr + cols, mask=col_ok, other=-1)
            p = tl.where(_visible(rows, cols, q_len, kv_len, q_seg, k_seg, CAUSAL, HAS_SEGMENTS), p, 0.0)
        dp = tl.dot(do, tl.trans(v), input_precision=DOT_PRECISION)
        ds = p * (dp - delta[:, None])
        dq = tl.dot(ds.to(k.dtype), k, dq, input_precision=DOT_PRECISION)
    return dq


@triton.jit
def _bwd_dq_kernel(Q, K, V, DO, LSE, Delta, DQ, SEG,
                   stride_qb, stride_qh, stride_qm, stride_kb, stride_kh, stride_kn,
                   stride_vb, stride_vh, stride_vn, stride_dob, stride_doh, stride_dom,
                   stride_dqb, stride_dqh, stride_dqm, stride_sb,
                   n_heads, q_len, kv_len, qk_scale, softmax_scale,
                   SEQ_BUCKET_Q, SEQ_BUCKET_K,  # autotuning key only
                   GROUP: tl.constexpr, HEAD_DIM: tl.constexpr, CAUSAL: tl.constexpr,
                   HAS_SEGMENTS: tl.constexpr, DOT_PRECISION: tl.constexpr,
                   BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    pid_m = tl.program_id(0)
    if CAUSAL:  # heaviest query blocks first, as in the forward
        pid_m = tl.num_programs(0) - 1 - pid_m
    pid_bh = tl.program_id(1)
    b = (pid_bh // n_heads).to(tl.int64)
    h = (pid_bh % n_heads).to(tl.int64)
    hk = h // GROUP

    m0 = pid_m * BLOCK_M
    rows = m0 + tl.arange(0, BLOCK_M)
    offs_n = tl.arange(0, BLOCK_N)
    offs_d = tl.arange(0, HEAD_DIM)
    row_ok = rows < q_len
    q = tl.load(Q + b * stride_qb + h * stride_qh + rows[:, None] * stride_qm + offs_d[None, :],
                mask=row_ok[:, None], other=0.0)
    do = tl.load(DO + b * stride_dob + h * stride_doh + rows[:, None] * stride_dom + offs_d[None, :],
                 mask=row_ok[:, None], other=0.0)
    lse = tl.load(LSE + pid_bh.to(tl.int64) * q_len + rows, mask=row_ok, other=float("inf"))
    delta = tl.load(Delta + pid_bh.to(tl.int64) * q_len + rows, mask=row_ok, other=0.0)
    k_base = K + b * stride_kb + hk * stride_kh
    v_base = V + b * stride_vb + hk * stride_vh
    dq = tl.zeros([BLOCK_M, HEAD_DIM], tl.float32)
    split, hi = _key_bounds(m0, q_len, kv_len, CAUSAL, BLOCK_M, BLOCK_N)

    if HAS_SEGMENTS:
        kseg_ptr = SEG + b * stride_sb
        qseg_ptr = kseg_ptr + (kv_len - q_len)
        q_seg = tl.load(qseg_ptr + rows, mask=row_ok, other=-1)
        seg_min, seg_max = _segment_range(qseg_ptr, rows, q_len)
        first, last = _blocks_meeting_segments(kseg_ptr, 0, hi, kv_len, seg_min, seg_max, BLOCK_N)
        dq = _dq_inner(dq, q, do, lse, delta, q_seg, k_base, v_base, kseg_ptr, stride_kn, stride_vn,
                       rows, offs_n, offs_d, first, last, q_len, kv_len, qk_scale,
                       CAUSAL, True, True, DOT_PRECISION, BLOCK_N)
    else:
        dq = _dq_inner(dq, q, do, lse, delta, rows, k_base, v_base, SEG, stride_kn, stride_vn,
                       rows, offs_n, offs_d, 0, split, q_len, kv_len, qk_scale,
                       CAUSAL, False, False, DOT_PRECISION, BLOCK_N)
        dq = _dq_inner(dq, q, do, lse, delta, rows, k_base, v_base, SEG, stride_kn, stride_vn,
                       rows, offs_n, offs_d, split, hi, q_len, kv_len, qk_scale,
                       CAUSAL, False, True, DOT_PRECISION, BLOCK_N)

    dq = dq * softmax_scale
    tl.store(DQ + b * stride_dqb + h * stride_dqh + rows[:, None] * stride_dqm + offs_d[None, :],
             dq.to(DQ.dtype.element_ty), mask=row_ok[:, None])
