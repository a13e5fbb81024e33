"""Recall documents (exact retrieval in context): 4-8 facts of every kind, then each of them restated
canonically in a new order. Past a restated line's first word, every token is in the context: the
document rewards finding the line a word stands in and copying the rest of it, multi-token words
and all (docs/log/2026-12-02-exact-retrieval.md)."""

from __future__ import annotations

import random

from minigen.data.doctypes.common import canonical, fact_line, random_fact

FACTS = (4, 8)


def generate(rng: random.Random, words: list[str], cfg) -> str:
    facts = [random_fact(rng, words) for _ in range(rng.randint(*FACTS))]
    restated = rng.sample(facts, len(facts))
    return "\n".join([fact_line(f, rng, cfg) for f in facts] + [canonical(f) for f in restated])
