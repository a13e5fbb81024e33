"""Canon layers (`model.canon`): the shift path is a causal depthwise convolution cut at document
boundaries, and every cached or masked path (prefill, packed continuations, left padding, decoding)
gives what the whole sequence gives (cached decoding: tests/test_model.py, with a canon model too)."""

import pytest
import torch
import torch.nn.functional as F

from minigen.config import ModelConfig
from minigen.errors import UserError
from minigen.inference import generate, score, score_contexts, score_shared
from minigen.model import Canon, CanonContext, Transformer


def canon_model(k=3, backend="sdpa"):
    torch.manual_seed(0)
    cfg = ModelConfig(vocab_size=61, n_layer=2, d_model=64, n_head=4, n_kv_head=2, seq_len=32,
                      attn_backend=backend, canon=k)
    model = Transformer(cfg).eval()
    with torch.no_grad():  # zero-initialised: give the kernels weights, or every check below is vacuous
        for block in model.blocks:
            block.canon.weight.normal_(0, 0.5)
    return model


def test_zero_initialised_canon_is_the_plain_model():
    torch.manual_seed(0)
    plain = Transformer(ModelConfig(vocab_size=61, n_layer=2, d_model=64, n_head=4, seq_len=32)).eval()
    torch.manual_seed(0)
    shape = dict(vocab_size=61, n_layer=2, d_model=64, n_head=4, seq_len=32)
    canon = Transformer(ModelConfig(**shape, canon=4)).eval()
    canon.load_state_dict(plain.state_dict(), strict=False)
    seq = torch.randint(0, 61, (2, 10))
    torch.testing.assert_close(canon(seq)[0], plain(seq)[0])
    assert not torch.allclose(canon_model(4)(seq)[0], plain(seq)[0], atol=1e-3)


def test_shift_path_is_a_causal_depthwise_convolution_cut_at_documents():
    torch.manual_seed(1)
    layer = Canon(8, 3)
    layer.weight.data.normal_()
    h = torch.randn(1, 9, 8)
    conv = F.conv1d(F.pad(h.transpose(1, 2), (2, 0)), layer.weight.flip(0).t()[:, None], groups=8)
    torch.testing.assert_close(layer(h, 0, CanonContext()), h + conv.transpose(1, 2))
    seg = torch.tensor([[0, 0, 0, 0, 1, 1, 1, 1, 1]])
    out = layer(h, 0, CanonContext(seg=seg))
    torch.testing.assert_close(out[:, 4:], layer(h[:, 4:], 0, CanonContext()))
    torch.testing.assert_close(out[:, :4], layer(h[:, :4], 0, CanonContext()))


def test_packed_and_padded_scoring_equals_score():
    model = canon_model()
    context = [1, 8, 3, 9, 4]
    conts = [[5], [6, 7, 8], [], [10, 11]]
    shared = score_shared(model, context, conts, batch_tokens=3)
    assert [sum(s) for s in shared] == pytest.approx(score(model, [context] * 4, conts), abs=1e-5)
    contexts = [[1, 8, 3, 9, 4], [2], [7, 7, 5, 1, 2, 3, 4, 9, 9, 10, 11]]
    many = [[[5], [6, 7, 8]], [[12, 13]], [[1], [2, 3, 4, 5, 6]]]
    got = score_contexts(model, contexts, many, batch_tokens=2048, batch_contexts=8)
    for ctx, cs, g in zip(contexts, many, got, strict=True):
        assert [sum(s) for s in g] == pytest.approx(score(model, [ctx] * len(cs), cs), abs=1e-5)


def test_generate_batched_equals_greedy_recomputation():
    model = canon_model()
    prompts = [[1, 2, 3], [4, 5, 6, 7, 8, 9], [10]]
    batched = generate(model, prompts, 6)
    for p, got in zip(prompts, batched, strict=True):
        seq = list(p)
        for _ in range(6):
            seq.append(int(model(torch.tensor([seq]))[0][0, -1].argmax()))
        assert got == seq[len(p):]


def test_segments_equal_separate_documents():
    model = canon_model()
    docs = [torch.randint(0, 61, (n,)) for n in (5, 9, 2)]
    seg = torch.cat([torch.full((len(d),), i) for i, d in enumerate(docs)])[None]
    logits = model(torch.cat(docs)[None], segment_ids=seg)[0][0]
    start = 0
    for d in docs:
        torch.testing.assert_close(logits[start:start + len(d)], model(d[None])[0][0], atol=2e-4, rtol=2e-4)
        start += len(d)


@pytest.mark.parametrize("k", [-1, 1])
def test_bad_kernel_is_a_user_error(k):
    with pytest.raises(UserError, match="model.canon"):
        ModelConfig(canon=k)


def test_muon_leaves_canon_kernels_to_adamw():
    from minigen.config import TrainConfig
    from minigen.train import make_optimizer

    model = canon_model()
    opt = make_optimizer(model, TrainConfig(optimizer="muon"))
    muon = {id(p) for g in opt.muon.param_groups for p in g["params"]}
    kernels = [b.canon.weight for b in model.blocks]
    assert muon and not any(id(w) in muon for w in kernels)
