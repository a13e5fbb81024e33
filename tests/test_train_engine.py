"""The training engine on random tokens (no corpus needed): schedule, accumulation, cross-document
targets, finetune, config overrides, and data parallelism (2 gloo processes == 1 process)."""

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from minigen.config import ModelConfig, TrainConfig, apply_overrides, get_preset
from minigen.errors import UserError
from minigen.model import Transformer
from minigen.train import IGNORE, finetune, lr_at, targets_within_documents, train

V, T, B = 40, 16, 8


def model():
    torch.manual_seed(0)
    return Transformer(ModelConfig(vocab_size=V, n_layer=2, d_model=32, n_head=2, seq_len=T))


def global_batch(step):
    g = torch.Generator().manual_seed(step)
    tokens = torch.randint(0, V, (B, T + 1), generator=g)
    segs = torch.cumsum((torch.rand(B, T + 1, generator=g) < 0.15).long(), dim=1)
    return targets_within_documents(tokens, segs)


def run(cfg, rank=0, world=1):
    local = B // world
    losses = []
    batches = lambda s: tuple(t[rank * local:(rank + 1) * local] for t in global_batch(s))
    m = model()
    train(m, batches, cfg, on_step=lambda info: losses.append(info.loss), log_every=1)
    return losses, m


def test_targets_crossing_into_next_document_are_ignored():
    tokens = torch.tensor([[1, 5, 6, 2, 1, 7, 2]])
    segs = torch.tensor([[0, 0, 0, 0, 1, 1, 1]])
    x, y, seg = targets_within_documents(tokens, segs)
    assert y.tolist() == [[5, 6, 2, IGNORE, 7, 2]]
    assert seg.tolist() == [[0, 0, 0, 0, 1, 1]]


def test_lr_schedule_warmup_then_cosine():
    cfg = TrainConfig(lr=1.0, min_lr=0.1, warmup=10, steps=110)
    assert lr_at(0, cfg) == pytest.approx(0.1) and lr_at(9, cfg) == pytest.approx(1.0)
    assert lr_at(60, cfg) == pytest.approx(0.55) and lr_at(110, cfg) == pytest.approx(0.1)


def test_grad_accumulation_equals_one_big_batch():
    one, m1 = run(TrainConfig(batch_size=B, steps=3, warmup=1, lr=1e-2))
    acc, m2 = run(TrainConfig(batch_size=B, grad_accum=4, steps=3, warmup=1, lr=1e-2))
    assert acc == pytest.approx(one, abs=1e-5)
    for a, b in zip(m1.parameters(), m2.parameters(), strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)


def test_finetune_lowers_loss_and_is_seeded():
    seqs = [[1, 3, 4, 5, 2], [1, 6, 7, 2], [1, 8, 9, 10, 11, 2]]
    a = finetune(model(), seqs, lr=1e-2, steps=15, batch_size=2, seed=1)
    b = finetune(model(), seqs, lr=1e-2, steps=15, batch_size=2, seed=1)
    assert a == b and len(a) == 15 and a[-1] < a[0]


def _ddp_worker(rank, world, store, queue):
    # A file store, not a TCP port: a port found free can be taken before the workers bind it.
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=world)
    torch.set_num_threads(1)
    losses, _ = run(TrainConfig(batch_size=B, steps=4, warmup=1, lr=1e-2), rank, world)
    queue.put((rank, losses))
    dist.destroy_process_group()


@pytest.mark.slow
def test_two_processes_give_the_same_losses_as_one(tmp_path):
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    mp.start_processes(_ddp_worker, args=(2, str(tmp_path / "store"), queue), nprocs=2, start_method="spawn")
    results = dict(queue.get() for _ in range(2))
    single, _ = run(TrainConfig(batch_size=B, steps=4, warmup=1, lr=1e-2))
    assert results[0] == pytest.approx(single, abs=1e-5)
    assert results[1] == pytest.approx(single, abs=1e-5)


def test_overrides_are_typed_and_checked():
    sets = ["train.lr=0.01", "model.tie_embeddings=false", "train.steps=7"]
    cfg = apply_overrides(get_preset("tiny-mixed"), sets)
    assert cfg.train.lr == 0.01 and cfg.model.tie_embeddings is False and cfg.train.steps == 7
    for bad in (["train.nope=1"], ["train.steps=ten"], ["lr=1"], ["train.steps"], ["model.attn_backend=x"]):
        with pytest.raises(UserError):
            apply_overrides(get_preset("tiny-mixed"), bad)
    with pytest.raises(UserError):
        get_preset("huge")


def test_presets_form_a_ladder():
    from minigen.config import PRESETS

    sizes = []
    for name in PRESETS:
        cfg = get_preset(name)
        m = cfg.model
        d, hidden = m.d_model, 32 * -(-int(m.mlp_ratio * m.d_model) // 32)
        kv = m.n_kv_head or m.n_head
        per_layer = d * d * (2 + 2 * kv / m.n_head) + 3 * d * hidden
        sizes.append(m.n_layer * per_layer)
    assert len(sizes) >= 5 and sizes == sorted(sizes) and sizes[-1] > 300e6


@pytest.mark.parametrize("optimizer", ["adamw", "muon"])
def test_frozen_parameters_keep_their_values_and_the_rest_train(optimizer):
    """train.frozen: the named prefixes get no update (nor weight decay); every other parameter trains,
    and freezing nothing trains everything again (the next curriculum stage)."""
    from minigen.train import freeze

    m = model()
    before = {name: p.detach().clone() for name, p in m.named_parameters()}
    cfg = TrainConfig(steps=3, warmup=1, lr=1e-2, compile=False, optimizer=optimizer,
                      frozen="blocks.1.attn, embed")
    freeze(m, cfg.frozen)
    train(m, global_batch, cfg)
    for name, p in m.named_parameters():
        frozen = name.startswith(("blocks.1.attn", "embed"))
        assert torch.equal(p, before[name]) == frozen, name
    freeze(m, "")
    assert all(p.requires_grad for p in m.parameters())
    with pytest.raises(UserError, match="names no parameter"):
        freeze(m, "blocks.7")
