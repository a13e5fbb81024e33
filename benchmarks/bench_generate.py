"""Generation speed: batched sampling with the KV cache against recomputing the whole prefix each step.

    python benchmarks/bench_generate.py                 # tiny preset shape, CPU, 256 new tokens
    python benchmarks/bench_generate.py --batch 1 16 --device cuda --preset small

Both decoders are greedy over the same random-weight model and prompts, so their tokens must agree
(checked and printed); they alternate in rounds so that a busy machine slows both alike. Cached:
`minigen.inference.generate` (one prefill, then one token per step against the cache). Recompute: the
same model run over the whole sequence so far at every step (minigen.augment.sampling). Prints
generated tokens/s of each and the speed-up, per batch size. Positions past the preset's context (prompt +
256 > 256 for tiny) use RoPE's extended table in both decoders alike.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from minigen.augment.sampling import generate_recompute_batched
from minigen.config import get_preset
from minigen.inference import generate
from minigen.model import Transformer


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def timed(fn, device) -> tuple[float, list]:
    sync(device)
    start = time.perf_counter()
    out = fn()
    sync(device)
    return time.perf_counter() - start, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--preset", default="tiny")
    ap.add_argument("--vocab", type=int, default=1392, help="vocabulary size (tiny run: 1392)")
    ap.add_argument("--batch", type=int, nargs="+", default=[1, 16])
    ap.add_argument("--prompt", type=int, default=128,
                    help="prompt tokens (augmentation prompts: local ~120-140, global ~155)")
    ap.add_argument("--new", type=int, default=256, help="new tokens per sequence")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1, help="CPU threads (0: torch's default)")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    cfg = get_preset(args.preset).model
    cfg.vocab_size = args.vocab
    torch.manual_seed(0)
    model = Transformer(cfg).to(device).eval()
    print(f"preset {args.preset}: {model.num_params() / 1e6:.2f}M params, {cfg.n_layer} layers, width "
          f"{cfg.d_model}, {args.prompt} prompt + {args.new} new tokens, device {device}, "
          f"threads {torch.get_num_threads()}")
    print(f"{'batch':>5}  {'cached tok/s':>12}  {'recompute tok/s':>15}  {'speed-up':>8}  same tokens")
    for batch in args.batch:
        gen = torch.Generator().manual_seed(batch)
        prompts = torch.randint(3, args.vocab, (batch, args.prompt), generator=gen).tolist()
        times = {"cached": [], "recompute": []}
        outs = {}
        for _ in range(args.rounds):
            dt, outs["cached"] = timed(lambda p=prompts: generate(model, p, args.new, temperature=0.0),
                                       device)
            times["cached"].append(dt)
            dt, outs["recompute"] = timed(lambda p=prompts: generate_recompute_batched(model, p, args.new),
                                          device)
            times["recompute"].append(dt)
        tokens = batch * args.new
        cached = tokens / statistics.median(times["cached"])
        recompute = tokens / statistics.median(times["recompute"])
        same = outs["cached"] == outs["recompute"]
        print(f"{batch:>5}  {cached:>12.0f}  {recompute:>15.0f}  {cached / recompute:>7.1f}x  {same}")


if __name__ == "__main__":
    main()
