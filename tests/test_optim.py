"""The token-efficiency levers of the engine: Muon on the matrices (fp32 Newton-Schulz, fused matrices
per block, exact resume from its state dict) and the warmup-stable-decay schedule."""

import copy

import pytest
import torch

from minigen.config import ModelConfig, TrainConfig, apply_overrides, get_preset
from minigen.errors import UserError
from minigen.model import Transformer
from minigen.optim import Muon, MuonAdamW, orthogonalize
from minigen.train import lr_at, make_optimizer, targets_within_documents, train

V, T, B = 40, 16, 8


def batches(step):
    g = torch.Generator().manual_seed(step)
    return targets_within_documents(torch.randint(0, V, (B, T + 1), generator=g), None)


def model(n_kv_head=0):
    torch.manual_seed(0)
    return Transformer(ModelConfig(vocab_size=V, n_layer=2, d_model=32, n_head=4, n_kv_head=n_kv_head,
                                   seq_len=T))


@pytest.mark.parametrize("shape", [(48, 16), (16, 48), (32, 32)])
def test_newton_schulz_makes_singular_values_near_one(shape):
    g = torch.randn(*shape, generator=torch.Generator().manual_seed(0))
    s = torch.linalg.svdvals(orthogonalize(g))
    assert s.min() > 0.6 and s.max() < 1.25  # the quintic's band around 1, not exactly 1
    assert orthogonalize(g).dtype == torch.float32


def test_a_fused_matrix_is_orthogonalized_block_by_block():
    torch.manual_seed(0)
    fused = torch.nn.Parameter(torch.randn(24, 8))
    parts = [torch.nn.Parameter(fused.detach()[rows].clone()) for rows in (slice(0, 8), slice(8, 24))]
    fused.grad = torch.randn(24, 8)
    for part, rows in zip(parts, (slice(0, 8), slice(8, 24)), strict=True):
        part.grad = fused.grad[rows].clone()
    Muon([fused], lr=0.1, blocks=[[8, 16]]).step()
    Muon(parts, lr=0.1).step()
    torch.testing.assert_close(fused.detach(), torch.cat([p.detach() for p in parts]))


@pytest.mark.parametrize("n_kv_head", [0, 2])
def test_muon_takes_the_blocks_matrices_and_adamw_the_rest(n_kv_head):
    m = model(n_kv_head)
    opt = make_optimizer(m, TrainConfig(optimizer="muon", muon_lr_scale=2.0))
    assert isinstance(opt, MuonAdamW)
    muon = {id(p) for p in opt.muon.param_groups[0]["params"]}
    names = {name for name, p in m.named_parameters() if id(p) in muon}
    assert names == {name for name, p in m.named_parameters() if p.dim() == 2 and "blocks." in name}
    assert not any(id(p) in muon for g in opt.adamw.param_groups for p in g["params"])
    qkv = m.blocks[0].attn.qkv.weight
    kv = (n_kv_head or 4) * 8
    assert opt.muon.blocks[qkv] == [32, kv, kv]
    assert opt.muon.param_groups[0]["lr_scale"] == 2.0


def test_muon_training_lowers_loss_and_resumes_exactly():
    cfg = TrainConfig(batch_size=B, steps=6, warmup=1, lr=1e-2, optimizer="muon", compile=False)
    losses = []
    train(model(), lambda step: batches(0), cfg, on_step=lambda i: losses.append(i.loss), log_every=1)
    assert losses[-1] < losses[0] - 0.5  # one batch, fitted

    whole, saved = model(), {}
    opt = make_optimizer(whole, cfg)

    def snapshot(info):  # the state a checkpoint after step 3 would hold
        if info.step == 3:
            saved["model"] = copy.deepcopy(whole.state_dict())
            saved["optimizer"] = copy.deepcopy(opt.state_dict())

    train(whole, batches, cfg, optimizer=opt, on_step=snapshot, log_every=1)
    second = model()
    second.load_state_dict(saved["model"])
    resumed = make_optimizer(second, cfg)
    resumed.load_state_dict(saved["optimizer"])
    train(second, batches, cfg, optimizer=resumed, start_step=3, log_every=1)
    for a, b in zip(whole.parameters(), second.parameters(), strict=True):
        assert torch.equal(a, b)


def test_wsd_holds_the_rate_then_decays_linearly():
    cfg = TrainConfig(lr=1.0, min_lr=0.1, warmup=10, steps=110, schedule="wsd", decay_share=0.2)
    assert lr_at(0, cfg) == pytest.approx(0.1) and lr_at(9, cfg) == pytest.approx(1.0)
    assert lr_at(50, cfg) == 1.0 and lr_at(87, cfg) == 1.0  # stable until step 88
    assert lr_at(98, cfg) == pytest.approx(0.55, abs=0.03)
    assert lr_at(109, cfg) == pytest.approx(0.1)
    assert lr_at(50, TrainConfig(lr=1.0, min_lr=0.1, warmup=10, steps=110, schedule="wsd",
                                 decay_share=0.0)) == 1.0


@pytest.mark.parametrize("bad", ["train.schedule=linear", "train.optimizer=sgd", "train.decay_share=1.5"])
def test_unknown_levers_are_refused(bad):
    with pytest.raises(UserError):
        apply_overrides(get_preset("tiny-mixed"), [bad])
