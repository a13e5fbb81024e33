"""Evaluation speed: per-item scoring time of ICL (shared context encoded once, KV cache reused) against
FT-style scoring (no context), in one run; plus ICL with every item's context re-encoded, to show what
the cache saves. Optionally times a whole `minigen compare` run.

    python benchmarks/bench_eval.py                      # random tiny model, syllogism
    python benchmarks/bench_eval.py --ckpt runs/tiny --dataset reversal
    python benchmarks/bench_eval.py --ckpt runs/tiny --compare   # + `minigen compare --split syllogism`

Target (issue 5): ICL per-item time <= 3x the FT per-item time; compare --split syllogism <= 5 min
on a 2-core CPU.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("WANDB_MODE", "disabled")

import torch  # noqa: E402

from minigen.eval.conditions import EvalSetup, icl  # noqa: E402
from minigen.eval.contexts import build_contexts  # noqa: E402
from minigen.eval.scoring import score_items, split_at_boundary  # noqa: E402
from minigen.inference import score  # noqa: E402


def random_tiny_model():
    from minigen.config import get_preset
    from minigen.data.tokenizer import train_tokenizer
    from minigen.model import Transformer

    cfg = get_preset("tiny")
    tokenizer = train_tokenizer(cfg.data, num_documents=3000)
    cfg.model.vocab_size = tokenizer.vocab_size
    torch.manual_seed(0)
    return Transformer(cfg.model).eval(), tokenizer, cfg


def best_of(fns, repeats: int) -> list[float]:
    """The fastest of `repeats` timings of each function, run in turns (fns[0], fns[1], ..., fns[0], ...)
    so that a slow spell of the machine slows all of them alike."""
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, ts in zip(fns, times, strict=True):
            start = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - start)
    return [min(ts) for ts in times]


def icl_without_reuse(setup: EvalSetup, seed: int) -> None:
    """The same contexts, but each option re-encodes its whole context (no KV cache reuse)."""
    plan = build_contexts(setup.documents, setup.items, setup.tokenizer, setup.seq_len, seed,
                          restatements=setup.options.icl.restatements)
    prefixes, continuations = [], []
    for ctx in plan.contexts:
        for item in ctx.items:
            for option in item.options:
                p, c = split_at_boundary(setup.tokenizer, item.prompt, option)
                prefixes.append(ctx.tokens + p)
                continuations.append(c)
    bs = setup.options.eval.batch_size
    for start in range(0, len(prefixes), bs):
        score(setup.model, prefixes[start: start + bs], continuations[start: start + bs])


def token_counts(setup: EvalSetup, seed: int) -> tuple[float, float]:
    """Tokens run through the model per item: (ICL: shared context once + prompt and option per option;
    FT: [BOS] + prompt + option per option). Their ratio is what the ICL / FT time ratio tends to when
    both run at the same tokens/s: the floor that the context's size sets."""
    plan = build_contexts(setup.documents, setup.items, setup.tokenizer, setup.seq_len, seed,
                          restatements=setup.options.icl.restatements)
    tok = setup.tokenizer
    option_tokens = sum(len(tok.encode(item.prompt + o)) for item in setup.items for o in item.options)
    n = len(setup.items)
    icl_tokens = sum(len(c.tokens) for c in plan.contexts) + option_tokens
    return icl_tokens / n, (option_tokens + sum(len(item.options) for item in setup.items)) / n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", type=Path, help="run directory (default: a randomly initialized tiny model)")
    ap.add_argument("--dataset", default="syllogism")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (as `minigen compare`: 1)")
    ap.add_argument("--restatements", type=int, default=None,
                    help="icl.restatements (default: compare's default; 0: every restatement of a fact)")
    ap.add_argument("--test-only", action="store_true",
                    help="the test items only (default: with the same-direction questions, as compare)")
    ap.add_argument("--compare", action="store_true", help="also time `minigen compare --split syllogism`")
    args = ap.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)

    from minigen.data.datasets import load_dataset

    if args.ckpt:
        from minigen.checkpoint import load_run

        model, tokenizer, cfg = load_run(args.ckpt, "cpu")
    else:
        model, tokenizer, cfg = random_tiny_model()
    ds = load_dataset(args.dataset, lexicon_seed=cfg.data.lexicon_seed)
    items = list(ds.test)
    if not args.test_only:  # as `minigen compare` scores them (eval.same_direction)
        from minigen.eval.trained_facts import same_direction_items

        items += same_direction_items(ds)
    setup = EvalSetup(model, tokenizer, list(ds.train), items, seq_len=cfg.model.seq_len)
    if args.restatements is not None:
        setup.options.icl.restatements = args.restatements
    n = len(items)
    params = sum(p.numel() for p in model.parameters()) / 1e6
    n_options = sum(len(i.options) for i in items)
    print(f"{args.dataset}: {n} items, {n_options} options, {len(ds.train)} training docs; "
          f"model {params:.2f}M params, context {cfg.model.seq_len}, {torch.get_num_threads()} threads")
    info = icl(setup, seed=0).info
    print(f"icl contexts: {info['contexts']} (all documents: {info['all_documents']}; restatements "
          f"{info['restatements']}), "
          f"{info['context_tokens_mean']:.0f} tokens and {info['docs_per_context_mean']:.1f} docs on average")
    ft_s, icl_s = best_of([lambda: score_items(model, tokenizer, items), lambda: icl(setup, seed=0)],
                          args.repeats)
    (noreuse_s,) = best_of([lambda: icl_without_reuse(setup, seed=0)], 1)
    print(f"ft scoring (no context)          {1e3 * ft_s / n:8.2f} ms/item")
    print(f"icl scoring (context reused)     {1e3 * icl_s / n:8.2f} ms/item   "
          f"= {icl_s / ft_s:.2f}x ft (target <= 3x)")
    print(f"icl scoring (context re-encoded) {1e3 * noreuse_s / n:8.2f} ms/item   "
          f"= {noreuse_s / ft_s:.2f}x ft")
    icl_tok, ft_tok = token_counts(setup, seed=0)
    print(f"tokens per item: icl {icl_tok:.0f}, ft {ft_tok:.0f}   = {icl_tok / ft_tok:.2f}x "
          f"(the time ratio at equal tokens/s: the floor a context of this size sets)")

    if args.compare:
        from minigen.compare import run_compare

        if not args.ckpt:
            raise SystemExit("--compare needs --ckpt (a pretrained run directory)")
        with tempfile.TemporaryDirectory() as out:
            start = time.perf_counter()
            run_compare("syllogism", args.ckpt, "base,icl,ft", 3, Path(out), [], "disabled")
            print(f"minigen compare --split syllogism: {time.perf_counter() - start:.0f} s (target <= 300 s)")


if __name__ == "__main__":
    main()
