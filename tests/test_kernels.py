"""Fused attention kernel vs an exact reference, by FlashAttention's rule.

The rule: the kernel's error against a float64 reference must be at most twice the error of plain PyTorch
attention computed in the same precision as the kernel's inputs (plus a small absolute floor), for the
output and for dq, dk, dv. On the CPU the kernels run in the Triton interpreter (tests/conftest.py sets
TRITON_INTERPRET=1), so shapes stay small. With ``TRITON_INTERPRET=0`` on a CUDA machine the same tests run
on the GPU, plus the ``gpu``-marked class at real shapes.
"""

import pytest
import torch

from minigen.kernels import flash_attention
from minigen.kernels.attention import INTERPRET
from minigen.kernels.reference import attention_reference

if INTERPRET:
    DEVICE = "cpu"
elif torch.cuda.is_available():
    DEVICE = "cuda"
else:
    pytest.skip("kernels need TRITON_INTERPRET=1 on a machine without CUDA", allow_module_level=True)

# Absolute floor added to 2x the eager error: covers the rare case where eager PyTorch is exact by luck.
FLOOR = {torch.float32: 1e-5, torch.float16: 2e-4, torch.bfloat16: 2e-3}


def make_inputs(batch, heads, q_len, head_dim, dtype, *, kv_heads=None, kv_len=None, seed=0):
    gen = torch.Generator().manual_seed(seed)
    kv_heads = kv_heads or heads
    kv_len = kv_len or q_len
    q = torch.randn(batch, heads, q_len, head_dim, generator=gen)
    k = torch.randn(batch, kv_heads, kv_len, head_dim, generator=gen)
    v = torch.randn(batch, kv_heads, kv_len, head_dim, generator=gen)
    d_out = torch.randn(batch, heads, q_len, head_dim, generator=gen)
    return [t.to(DEVICE, dtype) for t in (q, k, v, d_out)]


def packed_segments(batch, seq_len, mean_doc_len, seed=0):
    """Document ids 0, 0, ..., 1, 1, ... as the data pipeline packs them."""
    gen = torch.Generator().manual_seed(seed)
    starts = (torch.rand(batch, seq_len, generator=gen) < 1.0 / mean_doc_len).int()
    starts[:, 0] = 0
    return starts.cumsum(1).to(DEVICE)


def run_with_grads(fn, q, k, v, d_out, **kwargs):
    q, k, v = (t.detach().clone().requires_grad_() for t in (q, k, v))
    out = fn(q, k, v, **kwargs)
    grads = torch.autograd.grad(out, (q, k, v), d_out.to(out.dtype))
    return [out.detach(), *grads]


def assert_flash_rule(q, k, v, d_out, **kwargs):
    """Check output, dq, dk, dv of the kernel against float64 by the 2x-eager rule."""
    exact = run_with_grads(attention_reference, *(t.double() for t in (q, k, v, d_out)), **kwargs)
    eager = run_with_grads(attention_reference, q, k, v, d_out, **kwargs)
    kernel = run_with_grads(flash_attention, q, k, v, d_out, **kwargs)
    for name, got, low, ref in zip(("out", "dq", "dk", "dv"), kernel, eager, exact, strict=True):
        assert got.dtype == q.dtype and got.shape == ref.shape, name
        assert torch.isfinite(got).all(), f"{name} has NaN/inf"
        err = (got.double() - ref).abs().max().item()
        bound = 2 * (low.double() - ref).abs().max().item() + FLOOR[q.dtype]
        assert err <= bound, f"{name}: kernel error {err:.3g} > bound {bound:.3g}"


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
@pytest.mark.parametrize("causal", [True, False])
@pytest.mark.parametrize("seq_len,head_dim", [(1, 16), (17, 32), (113, 64), (203, 16)])
def test_ragged_lengths(seq_len, head_dim, causal, dtype):
    q, k, v, d_out = make_inputs(1, 2, seq_len, head_dim, dtype)
    assert_flash_rule(q, k, v, d_out, causal=causal)


@pytest.mark.parametrize("causal", [True, False])
@pytest.mark.parametrize("q_len,kv_len", [(1, 113), (17, 70), (48, 130)])
def test_queries_shorter_than_keys(q_len, kv_len, causal):
    """KV-cache layout: the queries are the last q_len positions of the keys."""
    q, k, v, d_out = make_inputs(2, 2, q_len, 32, torch.float16, kv_len=kv_len)
    assert_flash_rule(q, k, v, d_out, causal=causal)


@pytest.mark.parametrize("causal", [True, False])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_segment_ids(causal, dtype):
    q, k, v, d_out = make_inputs(2, 2, 97, 32, dtype)
    segment_ids = packed_segments(2, 97, mean_doc_len=20)
    assert_flash_rule(q, k, v, d_out, causal=causal, segment_ids=segment_ids)


@pytest.mark.parametrize("ids,q_len", [("packed", 30), ("packed", 1), ("unsorted", 30)])
def test_segment_ids_with_shorter_queries(ids, q_len):
    """The queries' ids are the last q_len of the keys' ids (q_len 1: a decode step with a KV cache).
    Unsorted ids (any integers) must be right too, even though they only get looser block skipping."""
    q, k, v, d_out = make_inputs(1, 2, q_len, 16, torch.float32, kv_len=90)
    if ids == "packed":
        segment_ids = packed_segments(1, 90, mean_doc_len=25, seed=3)
    else:
        segment_ids = torch.randint(0, 3, (1, 90), generator=torch.Generator().manual_seed(1)).to(DEVICE)
    assert_flash_rule(q, k, v, d_out, causal=True, segment_ids=segment_ids)


@pytest.mark.parametrize("kv_heads", [1, 2])
def test_grouped_query_attention(kv_heads):
    q, k, v, d_out = make_inputs(1, 4, 45, 32, torch.float16, kv_heads=kv_heads)
    assert_flash_rule(q, k, v, d_out, causal=True, segment_ids=packed_segments(1, 45, 15))


def test_custom_scale_and_strided_inputs():
    """(batch, seq, heads, dim) tensors transposed to (batch, heads, seq, dim), as a model produces them."""
    q, k, v, d_out = (t.transpose(1, 2).contiguous().transpose(1, 2)
                      for t in make_inputs(2, 2, 33, 64, torch.float16))
    assert not q.is_contiguous()
    assert_flash_rule(q, k, v, d_out, causal=True, softmax_scale=0.3)


def test_rows_that_see_no_key_give_zero():
    """Causal with more queries than keys: the first queries see nothing; they must give 0, not NaN."""
    q, k, v, d_out = make_inputs(1, 2, 40, 16, torch.float32, kv_len=25)
    out, dq, dk, dv = run_with_grads(flash_attention, q, k, v, d_out, causal=True)
    assert torch.all(out[:, :, :15] == 0) and torch.all(dq[:, :, :15] == 0)
    assert_flash_rule(q, k, v, d_out, causal=True)


def test_bfloat16_inputs():
    # Under the interpreter bf16 runs through float32 (the interpreter's bf16 dot is wrong), so this checks
    # the dtype plumbing; on a GPU it checks the native bf16 path.
    q, k, v, d_out = make_inputs(1, 2, 50, 32, torch.bfloat16)
    assert_flash_rule(q, k, v, d_out, causal=True, segment_ids=packed_segments(1, 50, 20))


@pytest.mark.filterwarnings("ignore:All-NaN slice")  # the poisoned document's own rows, in the interpreter
def test_blocks_of_other_documents_are_skipped():
    """Blocks whose documents cannot meet are not read at all, not just masked: poison another document's
    values (NaN * 0 is NaN, so a masked read would leak) and check this document's results stay finite."""
    # The document boundary must fall on a block boundary of every configuration that may run: blocks are at
    # most 32 in the interpreter and at most 128 on a GPU.
    half = 64 if INTERPRET else 256
    q, k, v, d_out = make_inputs(1, 2, 2 * half, 16, torch.float32)
    segment_ids = torch.zeros(1, 2 * half, dtype=torch.int32, device=DEVICE)
    segment_ids[:, half:] = 1
    for causal in (True, False):
        poisoned_v = v.clone()
        poisoned_v[:, :, half:] = float("nan")
        out, dq, _, _ = run_with_grads(flash_attention, q, k, poisoned_v, d_out, causal=causal,
                                       segment_ids=segment_ids)
        assert torch.isfinite(out[:, :, :half]).all() and torch.isfinite(dq[:, :, :half]).all()
        # And the other way: poisoned queries of document 0 must not reach document 1's dk, dv.
        poisoned_q = q.clone()
        poisoned_q[:, :, :half] = float("nan")
        _, _, dk, dv = run_with_grads(flash_attention, poisoned_q, k, v, d_out, causal=causal,
                                      segment_ids=segment_ids)
        assert torch.isfinite(dk[:, :, half:]).all() and torch.isfinite(dv[:, :, half:]).all()


def test_bad_inputs_raise_value_error():
    q, k, v, _ = make_inputs(1, 2, 8, 16, torch.float32)
    bad = [
        ((q[..., :12], k[..., :12], v[..., :12]), {}, "head_dim 12 is not supported; supported: 16, 32"),
        ((q.double(), k.double(), v.double()), {}, "supported: float16, bfloat16, float32"),
        ((q, k, v[:, :, :5]), {}, "same shape"),
        ((q, k.half(), v), {}, "share one dtype"),
        ((q[0], k, v), {}, "4-D"),
        ((q, k[:, :, :, :8].repeat(1, 1, 1, 4), v[:, :, :, :8].repeat(1, 1, 1, 4)), {}, "head_dim"),
        ((q.repeat(1, 3, 1, 1), k.repeat(1, 2, 1, 1), v.repeat(1, 2, 1, 1)), {}, "must divide"),
        ((q, k, v), {"segment_ids": torch.zeros(1, 7, dtype=torch.long)}, "segment_ids must be"),
        ((q, k, v), {"segment_ids": torch.zeros(1, 8)}, "integer"),
    ]
    for args, kwargs, message in bad:
        if "segment_ids" in kwargs:
            kwargs = {"segment_ids": kwargs["segment_ids"].to(DEVICE)}
        with pytest.raises(ValueError, match=message):
            flash_attention(*args, **kwargs)
    if INTERPRET:
        return
    with pytest.raises(ValueError, match="supported devices"):  # CPU tensors without the interpreter
        flash_attention(q.cpu(), k.cpu(), v.cpu())


def test_autotune_pruning_fits_blocks_to_the_call():
    # Pure Python (the interpreter runs one fixed configuration, so the GPU pruning is checked here).
    import triton

    from minigen.kernels.attention import _FWD_CANDIDATES, _prune

    configs = []
    for m, n, w, s, max_head_dim in _FWD_CANDIDATES:
        configs.append(triton.Config({"BLOCK_M": m, "BLOCK_N": n}, num_warps=w, num_stages=s))
        configs[-1].max_head_dim = max_head_dim
    long = _prune(configs, {"SEQ_BUCKET_Q": 4096, "SEQ_BUCKET_K": 4096}, HEAD_DIM=64)
    assert long and all(c.kwargs["BLOCK_M"] * c.kwargs["BLOCK_N"] >= 2048 for c in long)
    long_128 = _prune(configs, {"SEQ_BUCKET_Q": 4096, "SEQ_BUCKET_K": 4096}, HEAD_DIM=128)
    assert long_128 and len(long_128) < len(long)
    decode = _prune(configs, {"SEQ_BUCKET_Q": 1, "SEQ_BUCKET_K": 512}, HEAD_DIM=64)
    assert decode and all(c.kwargs["BLOCK_M"] == 16 for c in decode)
    tiny = _prune(configs, {"SEQ_BUCKET_Q": 1, "SEQ_BUCKET_K": 1}, HEAD_DIM=64)
    assert tiny and all(c.kwargs["BLOCK_M"] * c.kwargs["BLOCK_N"] == 16 * 32 for c in tiny)


@pytest.mark.gpu
@pytest.mark.skipif(INTERPRET or not torch.cuda.is_available(),
                    reason="needs CUDA and TRITON_INTERPRET=0 (conftest sets 1 unless it is set)")
class TestOnGPU:
    """Real shapes on a real GPU, bf16 included: compiled kernels, autotuned configurations."""

    @pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
    @pytest.mark.parametrize("causal", [True, False])
    @pytest.mark.parametrize("seq_len,head_dim", [(1023, 64), (2048, 128), (4096, 64)])
    def test_flash_rule(self, seq_len, head_dim, causal, dtype):
        q, k, v, d_out = make_inputs(2, 8, seq_len, head_dim, dtype)
        assert_flash_rule(q, k, v, d_out, causal=causal)

    @pytest.mark.parametrize("causal", [True, False])
    def test_packed_documents_gqa_and_cache_layout(self, causal):
        q, k, v, d_out = make_inputs(2, 8, 1500, 128, torch.bfloat16, kv_heads=2, kv_len=2048)
        segment_ids = packed_segments(2, 2048, mean_doc_len=300)
        assert_flash_rule(q, k, v, d_out, causal=causal, segment_ids=segment_ids)

    def test_matches_sdpa(self):
        q, k, v, _ = make_inputs(4, 16, 2048, 128, torch.bfloat16)
        expected = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        assert (flash_attention(q, k, v, causal=True).float() - expected.float()).abs().max() < 2e-2
