"""The training engine, one for pretraining and finetuning: AdamW (or Muon on the matrices), warmup +
cosine or warmup-stable-decay LR, gradient
clipping and accumulation, bf16 autocast on CUDA / fp32 on CPU, optional torch.compile, data-parallel
(DDP, or a model already sharded with FSDP2: `minigen.parallel`).

The engine knows nothing about corpora or run directories: it asks `batches(step)` for the step's
local batch and reports each step through `on_step`. Loss is the mean over all valid targets of the
*global* batch (summed per token, divided by the global count), so N data-parallel processes compute
exactly the gradient of one process with the same global batch.
"""

from __future__ import annotations

import contextlib
import math
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.distributed as dist
import torch.nn.functional as F

from minigen.config import TrainConfig
from minigen.errors import UserError
from minigen.optim import Muon, MuonAdamW
from minigen.parallel import gradient_sync, is_sharded, local_value

IGNORE = -100


@dataclass
class StepInfo:
    step: int  # optimizer steps done (1-based after the first step)
    loss: float | None  # global mean loss of this step (None on steps that are not logged)
    lr: float
    tokens_per_s: float
    grad_norm: float | None


def world() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def lr_at(step: int, cfg: TrainConfig) -> float:
    """Linear warmup to cfg.lr, then (cosine) a cosine decay to cfg.min_lr at cfg.steps, or (wsd) cfg.lr
    held until the last cfg.decay_share of the steps, which decay linearly to cfg.min_lr (0-based step)."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    if cfg.schedule == "wsd":
        decay_steps = max(1, round(cfg.decay_share * cfg.steps))
        start = max(cfg.warmup, cfg.steps - decay_steps)
        progress = min(1.0, max(0, step + 1 - start) / max(1, cfg.steps - start))
        return cfg.lr + (cfg.min_lr - cfg.lr) * progress
    progress = min(1.0, (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup))
    return cfg.min_lr + 0.5 * (cfg.lr - cfg.min_lr) * (1 + math.cos(math.pi * progress))


def frozen_prefixes(model: torch.nn.Module, prefixes: str) -> tuple[str, ...]:
    """The comma-separated parameter-name prefixes of train.frozen, each checked to name a parameter."""
    wanted = tuple(p.strip() for p in prefixes.split(",") if p.strip())
    names = [name for name, _ in model.named_parameters()]
    for prefix in wanted:
        if not any(name.startswith(prefix) for name in names):
            raise UserError(f"train.frozen: {prefix!r} names no parameter; parameters are named like "
                            f"{', '.join(names[1:4])}, ...")
    return wanted


def freeze(model: torch.nn.Module, prefixes: str) -> None:
    """Train every parameter but those whose names start with one of `prefixes` (train.frozen)."""
    wanted = frozen_prefixes(model, prefixes)
    for name, p in model.named_parameters():
        p.requires_grad_(not (wanted and name.startswith(wanted)))


def make_optimizer(model: torch.nn.Module, cfg: TrainConfig):
    """AdamW; weight decay on matrices (incl. embeddings), not on norm gains. With cfg.optimizer=muon,
    the blocks' matrices go to Muon (their fused qkv / gate_up orthogonalized per block) and the rest
    (canon layers' per-channel kernels included) stays with AdamW."""
    params = {id(p): p for p in model.parameters() if p.requires_grad}.values()
    muon, blocks = [], []
    if cfg.optimizer == "muon":
        if is_sharded(model):
            raise UserError("train.optimizer=muon needs whole matrices; use train.parallel=ddp, not fsdp")
        tied = {id(p) for name, p in model.named_parameters() if name.startswith(("embed.", "head."))}
        for name, p in model.named_parameters():
            if p.requires_grad and p.dim() == 2 and id(p) not in tied and ".canon." not in name:
                muon.append(p)
                blocks.append(_row_blocks(model, name, p))
    taken = {id(p) for p in muon}
    decay = [p for p in params if p.dim() >= 2 and id(p) not in taken]
    no_decay = [p for p in params if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    # fused: one kernel for the whole update, on CPU (torch >= 2.4) as on CUDA
    adamw = torch.optim.AdamW(groups, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), fused=True)
    if not muon:
        return adamw
    matrices = Muon(muon, lr=cfg.lr * cfg.muon_lr_scale, momentum=cfg.muon_momentum,
                    weight_decay=cfg.weight_decay, blocks=blocks)
    matrices.param_groups[0]["lr_scale"] = cfg.muon_lr_scale
    return MuonAdamW(matrices, adamw)


def _row_blocks(model: torch.nn.Module, name: str, p: torch.Tensor) -> list[int] | None:
    """The row sizes a fused matrix splits into: q, k, v for an attention's qkv, gate and up for gate_up."""
    owner = model.get_submodule(name.rpartition(".")[0].rpartition(".")[0]) if "." in name else model
    if name.endswith("qkv.weight"):
        q, kv = owner.n_head * owner.head_dim, owner.n_kv * owner.head_dim
        return [q, kv, kv]
    if name.endswith("gate_up.weight"):
        return [p.shape[0] // 2, p.shape[0] // 2]
    return None


def targets_within_documents(tokens: torch.Tensor, segments: torch.Tensor | None):
    """Rows of seq_len+1 tokens -> inputs, targets, input segment ids; a target that starts the next
    document is ignored (nothing in the current document predicts it)."""
    x, y = tokens[:, :-1], tokens[:, 1:].clone()
    if segments is None:
        return x, y, None
    y[segments[:, :-1] != segments[:, 1:]] = IGNORE
    return x, y, segments[:, :-1]


def autocast_for(device: torch.device, dtype: str):
    if device.type == "cuda" and dtype in ("auto", "bfloat16"):
        return torch.autocast("cuda", dtype=torch.bfloat16)
    if device.type == "cpu" and dtype == "bfloat16":
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def train(model: torch.nn.Module, batches: Callable[[int], tuple], cfg: TrainConfig, *,
          optimizer: torch.optim.Optimizer | None = None, start_step: int = 0,
          on_step: Callable[[StepInfo], None] | None = None, log_every: int | None = None,
          distributed: bool = True) -> torch.optim.Optimizer:
    """Run optimizer steps start_step .. cfg.steps-1. batches(step) -> (x, y, segment_ids or None), this
    process's share of the step's global batch, already on the model's device."""
    device = next(model.parameters()).device
    optimizer = optimizer or make_optimizer(model, cfg)
    world_size = world()[1] if distributed else 1
    wrapped = net = model  # an FSDP-sharded model reduces its own gradients; otherwise DDP does
    if world_size > 1 and not is_sharded(model):
        ids = [device.index] if device.type == "cuda" else None
        wrapped = net = torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)
    if cfg.compile and cfg.steps - start_step >= cfg.compile_min_steps:
        torch._dynamo.config.suppress_errors = True  # no C++ compiler etc.: fall back to eager, not fail
        if cfg.deterministic:
            make_deterministic()
        net = torch.compile(wrapped)
    log_every = log_every or cfg.log_every
    params = [p for p in model.parameters() if p.requires_grad]
    amp = autocast_for(device, cfg.dtype)
    last_time, last_step = time.perf_counter(), start_step
    tokens_per_s, paused = 0.0, 0.0  # paused: time spent in on_step (eval, checkpoints), not training
    model.train()
    for step in range(start_step, cfg.steps):
        lr = lr_at(step, cfg)
        for group in optimizer.param_groups:
            group["lr"] = lr * group.get("lr_scale", 1.0)
        x, y, seg = batches(step)
        count = (y != IGNORE).sum()
        if world_size > 1:
            dist.all_reduce(count)
        micro = x.shape[0] // cfg.grad_accum
        loss_sum = torch.zeros((), device=device)
        for m in range(cfg.grad_accum):
            part = slice(m * micro, (m + 1) * micro)
            with gradient_sync(model, wrapped, m == cfg.grad_accum - 1):
                with amp:
                    logits = net(x[part], segment_ids=None if seg is None else seg[part])[0]
                    loss = F.cross_entropy(logits.float().flatten(0, 1), y[part].flatten(),
                                           ignore_index=IGNORE, reduction="sum")
                # DDP and FSDP average gradients over processes; scale so the result is the global-token mean.
                (loss * (world_size / count.clamp(min=1))).backward()
            loss_sum += loss.detach()
        grad_norm = torch.nn.utils.clip_grad_norm_(params, cfg.clip) if cfg.clip > 0 else None
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        done = step + 1
        logged = done % log_every == 0 or done == cfg.steps
        if on_step is None:
            continue
        loss_value = norm_value = None
        if logged:
            if world_size > 1:
                dist.all_reduce(loss_sum)
            loss_value = (loss_sum / count.clamp(min=1)).item()
            norm_value = None if grad_norm is None else local_value(grad_norm).item()
            now = time.perf_counter()
            elapsed = max(1e-9, now - last_time - paused)
            tokens_per_s = (done - last_step) * x.shape[0] * x.shape[1] * world_size / elapsed
            last_time, last_step, paused = now, done, 0.0
        before = time.perf_counter()
        on_step(StepInfo(done, loss_value, lr, tokens_per_s, norm_value))
        paused += time.perf_counter() - before
    return optimizer


def make_deterministic() -> None:
    """Deterministic algorithms (ops without one warn instead of failing) and inductor's deterministic
    mode (fixed reduction order, no autotuning, deterministic fallbacks for scatter / index_put)."""
    import torch._inductor.config as inductor

    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # cuBLAS's condition for determinism
    torch.use_deterministic_algorithms(True, warn_only=True)
    inductor.deterministic = True


def finetune(model: torch.nn.Module, sequences: list[list[int]], *, lr: float, steps: int, batch_size: int,
             seed: int, device: torch.device | str | None = None, warmup: int = 0, weight_decay: float = 0.0,
             min_lr_ratio: float = 0.1, log: Callable[[int, float], None] | None = None) -> list[float]:
    """Full-parameter finetuning on token sequences (each already [BOS]+tokens+[EOS]), in place, with the
    same engine as pretraining. Batches are drawn epoch by epoch in a seeded order, right-padded
    (padding targets ignored). Returns the loss of every step."""
    assert sequences and steps > 0
    if device is not None:
        model.to(device)
    dev = next(model.parameters()).device
    max_len = getattr(getattr(model, "cfg", None), "seq_len", None) or max(len(s) for s in sequences)
    seqs = [s[: max_len + 1] for s in sequences]
    rng = random.Random(seed)
    torch.manual_seed(seed)
    order: list[int] = []

    def batches(step: int):
        picks = []
        while len(picks) < min(batch_size, len(seqs)):
            if not order:
                order.extend(rng.sample(range(len(seqs)), len(seqs)))
            picks.append(seqs[order.pop()])
        width = max(len(s) for s in picks)
        tokens = torch.zeros(len(picks), width, dtype=torch.long)
        y = torch.full((len(picks), width - 1), IGNORE, dtype=torch.long)
        for i, s in enumerate(picks):
            tokens[i, : len(s)] = torch.tensor(s)
            y[i, : len(s) - 1] = tokens[i, 1: len(s)]
        return tokens[:, :-1].to(dev), y.to(dev), None

    cfg = TrainConfig(batch_size=batch_size, grad_accum=1, lr=lr, min_lr=lr * min_lr_ratio, warmup=warmup,
                      steps=steps, weight_decay=weight_decay, seed=seed, log_every=1,
                      compile=False)  # batch widths vary: compiling would recompile, not speed up
    losses: list[float] = []

    def record(info: StepInfo) -> None:
        losses.append(info.loss)
        if log is not None:
            log(info.step, info.loss)

    train(model, batches, cfg, on_step=record, distributed=False)
    model.eval()
    return losses
