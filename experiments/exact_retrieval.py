"""Exact retrieval in context: does a checkpoint copy the right word from the right line?

`minigen.eval.retrieval`'s measures on a finished run, on `dev` words (the pretraining probe runs the
same ones as `probe_retrieval_*` during training): the 4-way lookup (copy / flip, beside the role
heuristic and chance .25) on comparisons, key-value lines and people (canonical templates, beside the
order heuristic; its flip also by what it asks: a name from its description, or the other way), and
the greedy `list` (pool and dev words) and `line` (pool words) checks, and the
line part by part (docs/log/2026-12-02-exact-retrieval.md, 2026-12-03-lookup-curriculum.md).

    python experiments/exact_retrieval.py RUN_DIR [RUN_DIR ...] [--contexts 40]
"""

from __future__ import annotations

import argparse

import torch

from minigen.checkpoint import load_run
from minigen.data.datasets.common import eval_words
from minigen.data.lexicon import Lexicon
from minigen.eval.retrieval import KINDS, line_parts, list_copy, lookup, pair_lookup, people_lookup
from minigen.eval.scoring import score_items_in_contexts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--contexts", type=int, default=40)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print("run | copy | flip | role heuristic copy / flip | chance | list pool / dev | line pool | "
          "key-value copy / flip (heuristic) | people copy / flip (order heuristic) | people flip asking a "
          "name / a description (order heuristic)")
    parts = {}
    for run in args.runs:
        model, tok, cfg = load_run(run)
        dev = eval_words("reversal", 0, cfg.data.lexicon_seed, "dev")
        pool = Lexicon(cfg.data.lexicon_seed).pretrain_words
        planned, pairs = lookup(dev, args.contexts), pair_lookup(dev, args.contexts)
        people = people_lookup(eval_words("reversal_curse", 0, cfg.data.lexicon_seed, "dev"), args.contexts,
                               lower_names=cfg.data.people.lower_names)  # in the case the run's names had
        model.eval()
        with torch.no_grad():
            scored, scored_pairs, scored_people = (score(model, tok, p) for p in (planned, pairs, people))
            parts[run] = line_parts(model, tok, pool)
            greedy = [list_copy(model, tok, pool), list_copy(model, tok, dev), parts[run]["line"]]
        acc = {k: planned.accuracy(scored, k) for k in KINDS}
        halves = " / ".join(f"{people.accuracy(scored_people, 'flip', a):.2f} "
                            f"({people.baseline('flip', a):.2f})" for a in ("name", "desc"))
        kv, named = (" / ".join(f"{p.accuracy(s, k):.2f} ({p.baseline(k):.2f})" for k in KINDS)
                     for p, s in ((pairs, scored_pairs), (people, scored_people)))
        print(f"{run} | {acc['copy']:.2f} | {acc['flip']:.2f} | {planned.baseline('copy'):.2f} / "
              f"{planned.baseline('flip'):.2f} | .25 | {greedy[0]:.2f} / {greedy[1]:.2f} | {greedy[2]:.2f} | "
              f"{kv} | {named} | {halves}  ({len(planned.items('copy'))} items each)")
    print("\nline pool, part by part (the share right): run | " + " | ".join(next(iter(parts.values()))))
    for run, shares in parts.items():
        print(f"{run} | " + " | ".join(f"{v:.2f}" for v in shares.values()))


def score(model, tok, planned) -> dict[str, bool]:
    """Item id -> whether the model's highest-scored option is the answer, in the planned contexts."""
    contexts = [([tok.bos_id] + tok.encode(text), items) for text, items in planned.contexts]
    return {s.item_id: s.correct() for group in score_items_in_contexts(model, tok, contexts) for s in group}


if __name__ == "__main__":
    main()
