"""List documents (copying in context): a line of 4-10 pool words, then the same line again. Every
token of the second line is a copy of the first, the plainest signal for a model to learn to copy
multi-token words from its context (docs/log/2026-12-02-exact-retrieval.md)."""

from __future__ import annotations

import random

WORDS = (4, 10)


def generate(rng: random.Random, words: list[str], cfg) -> str:
    line = " ".join(rng.sample(words, rng.randint(*WORDS)))
    return line + "\n" + line
