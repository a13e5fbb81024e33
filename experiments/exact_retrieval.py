"""Exact retrieval in context: does a checkpoint copy the right word from the right line?

Contexts of 4 comparison facts over `dev` evaluation words ("A are more adj than B.", one per line).
After them, a fact's line is prompted up to "than" in its own direction (copy: the answer B ends the
prompt's own line) or reversed ("B are less adj than", flip: the answer A begins that line). Four
options, each a word of the context: the answer and 3 other words. Chance .25. The strongest cheap
heuristic is the word's role: pick among the options that stand in the answer's position (objects for
copy, subjects for flip), printed beside the accuracy. The reversal probe's options (" more" / " less")
never ask for this; the people and syllogism probes do (docs/log/2026-12-02-exact-retrieval.md).

Two greedy checks beside it, 20 lines / 30 contexts each: `list` writes back a line of 6 words after a
newline (the share written exactly, on pretraining-pool words and on dev words), `line` completes a fact
line from its first word after 4 pool-word facts (the share written exactly).

    python experiments/exact_retrieval.py RUN_DIR [RUN_DIR ...] [--contexts 40]
"""

from __future__ import annotations

import argparse
import random

import torch

from minigen.checkpoint import load_run
from minigen.data.datasets import TestItem
from minigen.data.datasets.common import eval_words
from minigen.data.doctypes.common import canonical, random_compare
from minigen.data.lexicon import Lexicon
from minigen.data.logic import reverse
from minigen.data.templates import comparison_prompt
from minigen.eval.scoring import score_items_in_contexts
from minigen.inference import generate

FACTS = 4


def _facts(rng: random.Random, words: list[str]):
    """FACTS comparisons over 2 * FACTS distinct words: (the facts, their words)."""
    pool = rng.sample(words, 2 * FACTS)
    return [random_compare(rng, pool[2 * i], pool[2 * i + 1]) for i in range(FACTS)], pool


def plan(words: list[str], n_contexts: int, seed: int = 0):
    """[(context text, [(item, role-heuristic accuracy)])]: each fact asked both ways."""
    rng = random.Random(seed)
    out = []
    for c in range(n_contexts):
        facts, pool = _facts(rng, words)
        objects = {f.b for f in facts}
        items = []
        for j, f in enumerate(facts):
            for kind, q in (("copy", f), ("flip", reverse(f))):
                prompt, right = comparison_prompt(q)  # "A are", " more adj than B."
                head = right.rsplit(" ", 1)[0]
                picks = [q.b] + rng.sample([w for w in pool if w not in (q.a, q.b)], 3)
                order = rng.sample(range(4), 4)
                options = [picks[i] for i in order]
                same_role = [w for w in options if (w in objects) == (kind == "copy")]
                item = TestItem(f"{c}-{j}-{kind}", kind, prompt + head, [f" {w}." for w in options],
                                order.index(0))
                items.append((item, 1 / len(same_role)))
        out.append(("\n".join(canonical(f) for f in facts) + "\n", items))
    return out


def _greedy(model, tok, text: str, n_tokens: int) -> str:
    return tok.decode(generate(model, [[tok.bos_id] + tok.encode(text)], n_tokens)[0])


def list_copy(model, tok, words: list[str], n: int = 20, seed: int = 1) -> float:
    """Share of 6-word lines written back exactly after a newline."""
    rng, exact = random.Random(seed), 0
    for _ in range(n):
        line = " ".join(rng.sample(words, 6))
        exact += _greedy(model, tok, line + "\n", len(tok.encode(line))).strip() == line
    return exact / n


def line_completion(model, tok, words: list[str], n: int = 30, seed: int = 2) -> float:
    """Share of fact lines completed exactly from their first word, after 4 facts."""
    rng, exact = random.Random(seed), 0
    for _ in range(n):
        facts, _ = _facts(rng, words)
        f, text = rng.choice(facts), "\n".join(canonical(g) for g in facts) + "\n"
        target = canonical(f)
        exact += (f.a + _greedy(model, tok, text + f.a, len(tok.encode(target)))).startswith(target)
    return exact / n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--contexts", type=int, default=40)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print("run | copy | flip | role heuristic copy / flip | chance | list pool / dev | line pool")
    for run in args.runs:
        model, tok, cfg = load_run(run)
        dev = eval_words("reversal", 0, cfg.data.lexicon_seed, "dev")
        pool = Lexicon(cfg.data.lexicon_seed).pretrain_words
        planned = plan(dev, args.contexts)
        contexts = [([tok.bos_id] + tok.encode(text), [it for it, _ in items]) for text, items in planned]
        heuristic = {it.id: h for _, items in planned for it, h in items}
        model.eval()
        with torch.no_grad():
            scored = [s for group in score_items_in_contexts(model, tok, contexts) for s in group]
            greedy = [list_copy(model, tok, pool), list_copy(model, tok, dev)]
            greedy.append(line_completion(model, tok, pool))
        acc, heur = {}, {}
        for kind in ("copy", "flip"):
            mine = [s for s in scored if s.item_id.endswith(kind)]
            acc[kind] = sum(s.correct() for s in mine) / len(mine)
            heur[kind] = sum(heuristic[s.item_id] for s in mine) / len(mine)
        print(f"{run} | {acc['copy']:.2f} | {acc['flip']:.2f} | {heur['copy']:.2f} / {heur['flip']:.2f} | .25"
              f" | {greedy[0]:.2f} / {greedy[1]:.2f} | {greedy[2]:.2f}  ({len(scored) // 2} items each)")


if __name__ == "__main__":
    main()
