"""Vocabulary coverage of a recipe before any training: the share of each dataset's prompt and option
tokens that the recipe's stream ever shows (the same count `minigen compare` marks rows `n/i` by).

    python experiments/recipe_coverage.py [--preset tiny] [--recipe NAME] [--set data.X=V ...] [--words dev]

A recipe that cannot reach coverage 1.0 on a dataset cannot be judged on it, however long it trains;
this says so in seconds (it reads the stream, it trains nothing).
"""

from __future__ import annotations

import typer

from minigen.config import apply_overrides, get_preset
from minigen.data.datasets import DATASETS, load_dataset
from minigen.data.tokenizer import train_tokenizer
from minigen.eval.coverage import corpus_token_counts, coverage
from minigen.eval.trained_facts import evaluation_items


def main(preset: str = "tiny", recipe: str = typer.Option(None), set_: list[str] = typer.Option([], "--set"),
         words: str = "dev", rows: int = 2000):
    cfg = apply_overrides(get_preset(preset, recipe), list(set_))
    tokenizer = train_tokenizer(cfg.data)
    counts = corpus_token_counts(cfg, tokenizer, sample_rows=rows)
    print(f"{preset} / {recipe or 'its recipe'} {' '.join(set_)}: {counts['rows_sampled']} of "
          f"{counts['rows_in_stream']} rows counted, {words} words")
    for name in DATASETS:
        ds = load_dataset(name, lexicon_seed=cfg.data.lexicon_seed, words=words)
        cov = coverage(tokenizer, evaluation_items(ds), counts, ds.train)
        unseen = ", ".join(repr(t) for t in cov["unseen"][:12])
        print(f"  {name:<15} {cov['share']:.3f} of {cov['tokens']} tokens  "
              f"(documents {cov['documents_share']:.3f})" + (f"  unseen: {unseen}" if unseen else ""))


if __name__ == "__main__":
    typer.run(main)
