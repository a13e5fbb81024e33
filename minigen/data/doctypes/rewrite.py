"""Rewrite documents (the local augmentation format): 1-3 statements, each followed by the label and its
restatements (`templates.restatements`, the rules the local oracle also uses).

By default a statement is in its canonical template, without prefix, over any kind of fact. With
`compare_only`, every fact is a comparison (the reversal dataset's kind); with `as_fact_line`, the
statement is written as the in-context documents write a fact (a random template at
`1 - data.canonical_share`, a context prefix at `data.prefix_prob`), as the training sentences `minigen
augment --strategy local` rewrites are, and its restatements are the others (its own template left out).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from minigen.data.doctypes.common import fact_style, random_compare, random_fact
from minigen.data.templates import REWRITE_LABEL, render, restatements


@dataclass
class RewriteDocs:
    compare_only: bool = False  # every statement a comparison
    as_fact_line: bool = False  # the statement in a fact line's template and prefix, not always canonical


def generate(rng: random.Random, words: list[str], cfg) -> str:
    own = cfg.rewrite
    parts = []
    for _ in range(rng.randint(1, 3)):
        form = random_compare(rng, *rng.sample(words, 2)) if own.compare_only else random_fact(rng, words)
        if own.as_fact_line:  # no extra draw otherwise: every earlier stream stays as it was
            variant, prefix = fact_style(form, rng, cfg)
            first = render(form, variant, prefix)
            rest = [s for i, s in enumerate(restatements(form)) if i != variant]
        else:
            first, *rest = restatements(form)
        rng.shuffle(rest)
        parts.append("\n".join([first, REWRITE_LABEL, *rest]))
    return "\n".join(parts)
