"""Which token finds the line? The comparison lookup with every line's adjective distinct, or one
adjective for the whole context, or with every word two words long.

`minigen.eval.retrieval.lookup` draws each comparison's adjective at random (32 of them), so 4 lines
usually have 4 adjectives, and the adjective just before "than" may find the line on its own (an
induction head matching the previous token), not the words. Here each context is built twice over the
same words and directions: with distinct adjectives, and with one adjective shared by all 4 lines (the
line then found by its words only). And a third time with every subject and object two dev words ("spond
twurg", as a person's name is two words): a model that reaches a reversed comparison's subject at a
fixed distance back from its object (7 tokens, where every word is 2) lands inside the longer
subject, one that finds the line's first word does not. Chance .25; the role heuristic as in
`lookup`. Dev words.

    python experiments/lookup_key.py RUN_DIR [RUN_DIR ...] [--contexts 60]
"""

from __future__ import annotations

import argparse
import random

import torch

from minigen.checkpoint import load_run
from minigen.data.datasets.common import eval_words
from minigen.data.doctypes.common import DIMS
from minigen.data.logic import Compare
from minigen.eval.retrieval import FACTS, KINDS, Lookup, compare_context
from minigen.eval.scoring import score_items_in_contexts


def keyed_lookup(words: list[str], n_contexts: int, shared: bool, seed: int = 0,
                 long: bool = False) -> Lookup:
    """`lookup`'s contexts with distinct adjectives, or one adjective for every line (`shared`), or every
    subject and object two words (`long`); the draws do not depend on `shared`."""
    rng = random.Random(seed)
    contexts, heuristic = [], {}
    for c in range(n_contexts):
        pool = rng.sample(words, 4 * FACTS if long else 2 * FACTS)
        if long:
            pool = [pool[2 * i] + " " + pool[2 * i + 1] for i in range(2 * FACTS)]
        adjs = rng.sample(DIMS, FACTS)
        more = [rng.random() < 0.5 for _ in range(FACTS)]
        facts = [Compare(pool[2 * i], adjs[0] if shared else adjs[i], more[i], pool[2 * i + 1])
                 for i in range(FACTS)]
        contexts.append(compare_context(rng, c, facts, pool, heuristic))
    return Lookup(contexts, heuristic)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--contexts", type=int, default=60)
    args = ap.parse_args()
    torch.set_num_threads(1)
    print(f"run | distinct adjectives copy / flip | one adjective copy / flip | two-word subjects and "
          f"objects copy / flip | role heuristic copy / flip | chance .25 | "
          f"{args.contexts * FACTS} items a cell")
    for run in args.runs:
        model, tok, cfg = load_run(run)
        dev = eval_words("reversal", 0, cfg.data.lexicon_seed, "dev")
        model.eval()
        cells, base = [], None
        for shared, long in ((False, False), (True, False), (False, True)):
            planned = keyed_lookup(dev, args.contexts, shared, long=long)
            contexts = [([tok.bos_id] + tok.encode(text), items) for text, items in planned.contexts]
            with torch.no_grad():
                correct = {s.item_id: s.correct()
                           for group in score_items_in_contexts(model, tok, contexts) for s in group}
            cells.append(" / ".join(f"{planned.accuracy(correct, k):.2f}" for k in KINDS))
            base = " / ".join(f"{planned.baseline(k):.2f}" for k in KINDS)
        print(f"{run} | " + " | ".join(cells) + f" | {base}")


if __name__ == "__main__":
    main()
