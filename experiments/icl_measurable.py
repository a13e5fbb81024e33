"""How many of a dataset's items ICL can measure at each context length: an item counts when its
context holds every document it needs and is balanced (its answer in no more context documents than
each distractor, `minigen.eval.contexts`), as compare plans them. No model runs; the tokenizer decides
the lengths.

    python experiments/icl_measurable.py RUN_DIR [--dataset semantic] [--words dev] [--lengths 256,512,1024]
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import typer


def main(run_dir: Path, dataset: str = "semantic", words: str = "dev",
         lengths: str = "256,512,1024,2048,4096", seed: int = 0):
    from minigen.data.datasets import load_dataset
    from minigen.data.tokenizer import Tokenizer
    from minigen.eval.contexts import build_contexts
    from minigen.eval.options import CompareOptions
    from minigen.eval.trained_facts import evaluation_items

    tok = Tokenizer.load(run_dir / "tokenizer.json")
    ds = load_dataset(dataset, seed=seed, words=words)
    items = evaluation_items(ds, CompareOptions().eval.same_direction)
    total = Counter(i.split for i in items)
    print(f"{dataset} ({words} words, seed {seed}): {len(items)} items, "
          f"{sum(len(tok.encode(d.text)) + 1 for d in ds.train)} tokens of training documents")
    print("context tokens | measured | truncated | unbalanced | " + " | ".join(total))
    for n in map(int, lengths.split(",")):
        plan = build_contexts(list(ds.train), items, tok, n, seed)
        bad = plan.unbalanced_ids | plan.truncated_ids
        ok = Counter(i.split for i in items if i.id not in bad)
        print(f"{n} | {1 - len(bad) / len(items):.2f} | {plan.truncated} | {plan.unbalanced} | "
              + " | ".join(f"{ok[s]}/{total[s]}" for s in total))


if __name__ == "__main__":
    typer.run(main)
