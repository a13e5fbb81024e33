"""Key-value documents (lookup with the key next to its value): 4-8 lines of two pool words, "key
value", then every line again in a new order. Past a restated line's key, its value is the word that
followed the same key earlier: the one-token-back match an induction head makes, the first rung of a
lookup curriculum before `recall`, whose lines share their template words and so need a longer key
(docs/log/2026-12-03-lookup-curriculum.md)."""

from __future__ import annotations

import random

PAIRS = (4, 8)


def generate(rng: random.Random, words: list[str], cfg) -> str:
    n = rng.randint(*PAIRS)
    pool = rng.sample(words, 2 * n)
    lines = [f"{pool[2 * i]} {pool[2 * i + 1]}" for i in range(n)]
    return "\n".join(lines + rng.sample(lines, n))
