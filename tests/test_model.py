"""The network: scoring equals hand-computed log-softmax sums, cached decoding equals full recomputation,
and segment masking equals running packed documents separately, in every attention backend."""

import pytest
import torch

from minigen.config import ModelConfig
from minigen.inference import generate, score, score_contexts, score_shared
from minigen.model import KVCache, Transformer

BACKENDS = ["eager", "sdpa", "triton"]


def tiny(backend="sdpa", **kw):
    torch.manual_seed(0)
    cfg = ModelConfig(vocab_size=61, n_layer=2, d_model=64, n_head=4, n_kv_head=2, seq_len=32,
                      attn_backend=backend, **kw)
    return Transformer(cfg).eval()


def need_backend(backend):
    if backend == "triton":
        try:
            import minigen.kernels  # noqa: F401
            from minigen.kernels import flash_attention  # noqa: F401
        except Exception:
            pytest.skip("minigen.kernels.flash_attention not available")


def test_score_equals_hand_computed_log_softmax():
    model = tiny()
    prefixes = [[1, 5, 7], [2], [3, 4, 5, 6, 7]]
    conts = [[9, 10], [11, 12, 13], [14]]
    got = score(model, prefixes, conts)
    for p, c, g in zip(prefixes, conts, got, strict=True):
        seq = torch.tensor([p + c])
        logp = torch.log_softmax(model(seq)[0][0], dim=-1)
        want = sum(logp[len(p) - 1 + i, tok].item() for i, tok in enumerate(c))
        assert g == pytest.approx(want, abs=1e-5)


@pytest.mark.parametrize("backend, batch_tokens", [("sdpa", 2048), ("eager", 2048), ("sdpa", 3)])
def test_score_shared_equals_score(backend, batch_tokens):
    """Continuations packed in one row after the cached context (in chunks of `batch_tokens`) score as
    each one alone after the context."""
    model = tiny(backend)
    context = [1, 8, 3, 9, 4]
    conts = [[5], [6, 7, 8], [], [10, 11]]
    shared = score_shared(model, context, conts, batch_tokens=batch_tokens)
    assert [len(s) for s in shared] == [len(c) for c in conts]
    assert [sum(s) for s in shared] == pytest.approx(score(model, [context] * 4, conts), abs=1e-5)


@pytest.mark.parametrize("backend, batch_tokens, batch_contexts", [
    ("sdpa", 2048, 8), ("eager", 2048, 2), ("sdpa", 3, 2), ("sdpa", 4, 1)])
def test_score_contexts_equals_score(backend, batch_tokens, batch_contexts):
    """Contexts of different lengths scored side by side (left-padded, several rows of continuations
    each) give what each continuation gets alone after its own context."""
    model = tiny(backend)
    contexts = [[1, 8, 3, 9, 4], [2], [7, 7, 5, 1, 2, 3, 4, 9, 9, 10, 11], [3, 4]]
    conts = [[[5], [6, 7, 8], [], [10, 11]], [[12, 13]], [[1], [2, 3, 4, 5, 6], [7, 8]], []]
    got = score_contexts(model, contexts, conts, batch_tokens=batch_tokens, batch_contexts=batch_contexts)
    assert [[len(s) for s in g] for g in got] == [[len(c) for c in cs] for cs in conts]
    for ctx, cs, g in zip(contexts, conts, got, strict=True):
        if cs:
            assert [sum(s) for s in g] == pytest.approx(score(model, [ctx] * len(cs), cs), abs=1e-5)


@pytest.mark.parametrize("backend, canon", [("eager", 0), ("sdpa", 0), ("eager", 3), ("sdpa", 3)])
def test_cached_decoding_equals_full_recomputation(backend, canon):
    model = tiny(backend, canon=canon)
    with torch.no_grad():  # canon kernels start at zero: give them weights, or the canon case is vacuous
        for block in model.blocks if canon else ():
            block.canon.weight.normal_(0, 0.5)
    seq = torch.randint(0, 61, (2, 12))
    full = model(seq)[0]
    cache = KVCache(model.cfg.n_layer)
    steps = [model(seq[:, :5], cache=cache)[0]]
    for t in range(5, 12):
        steps.append(model(seq[:, t:t + 1], cache=cache)[0])
    torch.testing.assert_close(torch.cat(steps, dim=1), full, atol=1e-5, rtol=1e-5)


def test_generate_batched_equals_one_by_one_and_stops():
    model = tiny()
    prompts = [[1, 2, 3], [4, 5, 6, 7, 8, 9], [10]]
    batched = generate(model, prompts, 6)
    assert batched == [generate(model, [p], 6)[0] for p in prompts]
    # greedy continuation equals argmax of full recomputation
    seq = list(prompts[1])
    for _ in range(6):
        seq.append(int(model(torch.tensor([seq]))[0][0, -1].argmax()))
    assert batched[1] == seq[len(prompts[1]):]
    stop = batched[0][2]
    assert generate(model, [prompts[0]], 6, stop_id=stop)[0] == batched[0][: batched[0].index(stop) + 1]
    sampled = generate(model, prompts, 5, temperature=1.0, top_k=5, seed=3)
    assert sampled == generate(model, prompts, 5, temperature=1.0, top_k=5, seed=3)
    # sampling among the one likeliest token is greedy decoding; without the cut it is not
    assert generate(model, prompts, 6, temperature=1.0, top_k=1, seed=3) == batched
    assert generate(model, prompts, 6, temperature=1.0, seed=3) != batched


@pytest.mark.parametrize("backend", BACKENDS)
def test_segment_masking_equals_separate_documents(backend):
    need_backend(backend)
    model = tiny(backend)
    docs = [torch.randint(0, 61, (n,)) for n in (5, 9, 2)]
    packed = torch.cat(docs)[None]
    seg = torch.cat([torch.full((len(d),), i) for i, d in enumerate(docs)])[None]
    logits = model(packed, segment_ids=seg)[0][0]
    reference = tiny("eager")
    start = 0
    for d in docs:
        alone = reference(d[None])[0][0]  # RoPE is relative: position 0 gives the same logits
        torch.testing.assert_close(logits[start:start + len(d)], alone, atol=2e-4, rtol=2e-4)
        start += len(d)


def test_untied_embeddings_and_param_count():
    assert tiny(tie_embeddings=False).num_params() > tiny().num_params()
