"""Syllogisms in context by how many premise pairs the context holds: reading one pair, or finding it.

For each valid premise pattern (minigen.data.logic.valid_syllogism_patterns, each equally often), a
premise pair over `dev` words in the canonical templates, among k - 1 other pairs over other dev words
(whole pairs in a random order, the lines of a pair together), then the question the corpus asks
("Question: what follows about X and Y?\nAnswer:", the two end terms in a random order). The model's
pick is the most likely of " All" / " No" / " Some" as the answer's first token; it is right when it is
the quantifier of the strongest valid conclusion. With one pair nothing is to be found, only read; with
ten (about what `compare`'s ICL contexts hold) the pair must be found by the question's words.
Beside it, per k: the majority quantifier's share (a model that ignores the premises) and the
atmosphere rule's (quantifiers only, which Darapti breaks). (docs/log/2026-12-06-syllogism-stages.md)

    python experiments/syllogism_pairs.py RUN_DIR [RUN_DIR ...] [--pairs 1 2 4 10] [--per-pattern 30]
"""

from __future__ import annotations

import argparse
import random
from collections import Counter

import torch

from minigen.checkpoint import load_run
from minigen.data.datasets.common import eval_words
from minigen.data.datasets.syllogism import atmosphere_pick, option_forms
from minigen.data.doctypes.common import canonical
from minigen.data.logic import QUANTIFIERS, Quant, valid_syllogism_patterns
from minigen.data.templates import syllogism_prompt


def atmosphere(first: Quant, second: Quant) -> str:
    """The quantifier the atmosphere rule picks for a pattern's premises (over S, M, P)."""
    options = option_forms("S", "P")
    return options[atmosphere_pick([first, second], options)].q


def pattern_name(first: Quant, second: Quant, concl: Quant) -> str:
    darapti = (first.q, second.q, concl.q) == ("all", "all", "some")
    return f"{first.q}+{second.q}->{concl.q}" + (" (Darapti)" if darapti else "")


def contexts(words: list[str], k: int, per_pattern: int, seed: int = 0):
    """(context text, pattern name, right quantifier, atmosphere's) per item."""
    rng = random.Random(f"syllogism-pairs:{seed}:{k}")
    patterns = valid_syllogism_patterns()
    for i in range(per_pattern * len(patterns)):
        first, second, concl = patterns[i % len(patterns)]
        chosen = rng.sample(words, 3 * k)
        pairs = []
        for j in range(k):
            pattern = (first, second) if j == 0 else rng.choice(patterns)[:2]
            name = dict(zip("SMP", chosen[3 * j: 3 * j + 3], strict=True))
            pairs.append([canonical(Quant(x.q, name[x.s], name[x.p])) for x in pattern])
        s, p = chosen[0], chosen[2]
        question = syllogism_prompt(*((s, p) if rng.random() < 0.5 else (p, s)))
        asked = pairs[0]
        rng.shuffle(asked)
        rng.shuffle(pairs)
        text = "\n".join(line for pair in pairs for line in pair) + "\n" + question
        yield text, pattern_name(first, second, concl), concl.q, atmosphere(first, second)


@torch.no_grad()
def quantifier_picks(model, tok, texts: list[str]) -> list[str]:
    ids = {q: tok.encode(f" {q.capitalize()}")[0] for q in QUANTIFIERS}
    picks = []
    for text in texts:
        out = model(torch.tensor([[tok.bos_id] + tok.encode(text)]))
        logits = (out[0] if isinstance(out, tuple) else out)[0, -1]
        picks.append(max(QUANTIFIERS, key=lambda q: logits[ids[q]].item()))
    return picks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--pairs", type=int, nargs="+", default=[1, 2, 4, 10])
    ap.add_argument("--per-pattern", type=int, default=30)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    for run in args.runs:
        model, tok, cfg = load_run(run)
        model.eval()
        words = eval_words("syllogism", 0, cfg.data.lexicon_seed, "dev")
        for k in args.pairs:
            items = list(contexts(words, k, args.per_pattern))
            picks = quantifier_picks(model, tok, [t for t, *_ in items])
            right, total = Counter(), Counter()
            for (_, name, answer, _), pick in zip(items, picks, strict=True):
                total[name] += 1
                right[name] += pick == answer
            n = len(items)
            majority = max(Counter(a for *_, a, _ in items).values()) / n
            atmo = sum(a == b for *_, a, b in items) / n
            per = ", ".join(f"{name} {right[name]}/{total[name]}" for name in sorted(total))
            print(f"{run} | {k} pairs | {sum(right.values()) / n:.2f} (majority {majority:.2f}, atmosphere "
                  f"{atmo:.2f}) | picks {dict(Counter(picks))} | {per}")


if __name__ == "__main__":
    main()
