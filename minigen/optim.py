"""Muon for the hidden matrices, AdamW for the rest (embeddings, norm gains), as one optimizer.

Muon (momentum, then the update's nearest semi-orthogonal matrix by a Newton-Schulz iteration) is
what modded-nanogpt and nanochat train their matrices with. `torch.optim.Muon` runs the iteration in
bfloat16, which this project's CPUs emulate slowly (a tiny step 2.7x slower than fused AdamW); the
iteration here runs in float32 (the matrices of the CPU shapes are at most a few hundred wide, so it
costs little) and in bfloat16 on CUDA. Fused matrices are orthogonalized per block: the attention's
qkv as q, k and v, the MLP's gate_up as gate and up, so each block gets the update it would get as
its own matrix.

`MuonAdamW` keeps the interface the training loop uses (`param_groups` with an "lr" it rescales each
step, `step`, `zero_grad`, `state_dict`), so checkpoints and exact resume work as with AdamW.
"""

from __future__ import annotations

import math

import torch

# The quintic iteration's coefficients: chosen (by Keller Jordan, for modded-nanogpt) to push every
# singular value into roughly [0.7, 1.2] in five steps, fast rather than exactly to 1.
NS_COEFFS = (3.4445, -4.7750, 2.0315)


def orthogonalize(g: torch.Tensor, steps: int = 5) -> torch.Tensor:
    """Approximately U V^T for g = U S V^T (a 2-D tensor), by `steps` Newton-Schulz iterations."""
    a, b, c = NS_COEFFS
    x = g.bfloat16() if g.is_cuda else g.float()
    tall = x.shape[0] > x.shape[1]
    if tall:  # iterate on the wide form: x @ x.T is the smaller square
        x = x.T
    x = x / (x.norm() + 1e-7)  # singular values <= 1, where the iteration converges
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * gram @ gram) @ x
    return (x.T if tall else x).to(g.dtype)


class Muon(torch.optim.Optimizer):
    """Nesterov momentum, orthogonalized; each block's step scaled to AdamW's typical RMS
    (0.2 * sqrt(max(rows, cols)), the `match_rms_adamw` rule), so `lr` and `weight_decay` mean what
    they mean for AdamW. `blocks[i]`: the row sizes the i-th parameter is split into (None: whole)."""

    def __init__(self, params, lr: float, momentum: float = 0.95, weight_decay: float = 0.0,
                 ns_steps: int = 5, blocks: list | None = None):
        params = list(params)
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay,
                                      ns_steps=ns_steps))
        self.blocks = {p: rows for p, rows in zip(params, blocks or [None] * len(params), strict=True)}

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            lr, mom, wd = group["lr"], group["momentum"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["momentum_buffer"] = torch.zeros_like(p)
                buf = state["momentum_buffer"]
                buf.lerp_(p.grad, 1 - mom)
                update = p.grad.lerp(buf, mom)  # Nesterov: the gradient pulled toward the new momentum
                rows = self.blocks.get(p) or [p.shape[0]]
                parts = [orthogonalize(u, group["ns_steps"]) * (0.2 * math.sqrt(max(u.shape)))
                         for u in update.split(rows, dim=0)]
                if wd:
                    p.mul_(1 - lr * wd)
                p.add_(torch.cat(parts, dim=0), alpha=-lr)


class MuonAdamW:
    """Muon on the parameters `muon` (matrices), fused AdamW on `adamw` (groups as AdamW takes them).
    Each group's lr is the schedule's lr times the group's "lr_scale" (the training loop sets it)."""

    def __init__(self, muon: Muon, adamw: torch.optim.AdamW):
        self.muon, self.adamw = muon, adamw

    @property
    def param_groups(self) -> list:
        return self.muon.param_groups + self.adamw.param_groups

    def step(self) -> None:
        self.muon.step()
        self.adamw.step()

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.muon.zero_grad(set_to_none=set_to_none)
        self.adamw.zero_grad(set_to_none=set_to_none)

    def state_dict(self) -> dict:
        return {"muon": self.muon.state_dict(), "adamw": self.adamw.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.muon.load_state_dict(state["muon"])
        self.adamw.load_state_dict(state["adamw"])
