"""Training throughput: minigen's engine next to a plain PyTorch loop of the same shape, in one run.

    python benchmarks/bench_train.py                      # tiny preset on the CPU (tokens/s)
    python benchmarks/bench_train.py --preset medium --device cuda   # + model FLOPs utilization

Both loops train on the same random tokens for the same number of steps (after warm-up steps), and
alternate in rounds so that a busy machine slows both alike. minigen runs its real workload (packed
documents: a segment mask); the plain loop is nanoGPT-like (LayerNorm, learned positions, GELU MLP,
causal sdpa, AdamW), with the same layers, width, heads, context, batch and vocabulary. minigen also
runs once with `train.optimizer=muon` (Muon on the matrices, AdamW on the rest): Muon's own cost.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from minigen.config import get_preset
from minigen.model import Transformer
from minigen.train import train

PEAK_BF16_FLOPS = {"H100": 989e12, "H200": 989e12, "A100": 312e12}


class PlainBlock(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.h = h
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.fc, self.out = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=-1)
        q, k, v = (z.view(b, t, self.h, d // self.h).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.proj(y.transpose(1, 2).reshape(b, t, d))
        return x + self.out(F.gelu(self.fc(self.ln2(x))))


class PlainGPT(nn.Module):
    def __init__(self, vocab, d, h, layers, seq):
        super().__init__()
        self.tok, self.pos = nn.Embedding(vocab, d), nn.Embedding(seq, d)
        self.blocks = nn.Sequential(*[PlainBlock(d, h) for _ in range(layers)])
        self.ln = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab, bias=False)
        self.head.weight = self.tok.weight

    def forward(self, idx, targets):
        x = self.tok(idx) + self.pos(torch.arange(idx.shape[1], device=idx.device))
        logits = self.head(self.ln(self.blocks(x)))
        return F.cross_entropy(logits.flatten(0, 1), targets.flatten())


def plain_loop(model, x, y, steps, lr, amp):
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.1, betas=(0.9, 0.95),
                            fused=x.device.type == "cuda")
    for _ in range(steps):
        with amp():
            loss = model(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
    return loss.item()


def timed(fn, device):
    if device.type == "cuda":
        torch.cuda.synchronize()
    t = time.perf_counter()
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="tiny")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--steps", type=int, default=20, help="timed steps per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--vocab", type=int, default=1603, help="vocabulary size (the tiny tokenizer's)")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--compile", action="store_true", help="torch.compile minigen's model (as pretraining "
                    "does for runs of >= train.compile_min_steps steps); the plain loop stays eager")
    ap.add_argument("--no-deterministic", action="store_true", help="compile without train.deterministic "
                    "(for its throughput cost: run once with and once without)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    cfg = get_preset(args.preset)
    cfg.model.vocab_size = args.vocab
    cfg.train.compile, cfg.train.compile_min_steps = args.compile, 0
    cfg.train.deterministic = not args.no_deterministic
    m, t = cfg.model, cfg.train
    b, seq = t.batch_size // t.grad_accum, m.seq_len
    torch.manual_seed(0)
    tokens = torch.randint(0, args.vocab, (b, seq + 1), device=device)
    x, y = tokens[:, :-1], tokens[:, 1:]
    # packed documents of ~100 tokens: what pretraining really runs
    seg = torch.cumsum((torch.rand(b, seq, device=device) < 0.01).long(), dim=1)

    ours = Transformer(m).to(device)
    plain = PlainGPT(args.vocab, m.d_model, m.n_head, m.n_layer, seq).to(device)
    amp = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if device.type == "cuda" else \
        (lambda: torch.autocast("cpu", enabled=False))
    t.steps, t.grad_accum, t.batch_size, t.log_every = args.steps, 1, b, 10**9

    def run_ours(masked: bool, cfg=t):
        return lambda: train(ours, lambda s: (x, y, seg if masked else None), cfg)

    muon = dataclasses.replace(t, optimizer="muon")  # the same step with Muon on the matrices

    def run_plain():
        return plain_loop(plain, x, y, args.steps, t.lr, amp)

    variants = (run_ours(True), run_ours(False), run_ours(True, muon), run_plain)
    for fn in variants:  # warm-up (and compilation)
        fn()
    names = ("minigen (packed docs, segment mask)", "minigen (plain causal)",
             "minigen (packed docs), Muon + AdamW", "plain PyTorch loop (nanoGPT-like)")
    results: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(args.rounds):
        for name, fn in zip(results, variants, strict=True):
            results[name].append(b * seq * args.steps / timed(fn, device))
    n_params, plain_params = ours.num_params(), sum(p.numel() for p in plain.parameters())
    flops_per_token = 6 * n_params + 12 * m.n_layer * m.d_model * seq  # weights + attention (fwd+bwd)
    print(f"preset {args.preset} on {device} ({torch.get_num_threads()} threads): {m.n_layer} layers x "
          f"{m.d_model}, {m.n_head} heads, context {seq}, batch {b}, vocab {args.vocab}; "
          f"{n_params / 1e6:.2f}M params (minigen), {plain_params / 1e6:.2f}M (plain)")
    for name, values in results.items():
        line = f"  {name:38s} {statistics.median(values):>12,.0f} tokens/s (median of {len(values)} rounds)"
        if device.type == "cuda" and name.startswith("minigen"):
            gpu = torch.cuda.get_device_name()
            peak = next((v for k, v in PEAK_BF16_FLOPS.items() if k in gpu), math.nan)
            mfu = statistics.median(values) * flops_per_token / peak
            line += f"  MFU {mfu:.1%} (bf16 dense peak {peak / 1e12:.0f} TFLOP/s)"
        print(line)


if __name__ == "__main__":
    main()
