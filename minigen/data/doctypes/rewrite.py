"""Rewrite documents (the local augmentation format): 1-3 statements, each followed by the label and its
restatements (`templates.restatements`, the rules the local oracle also uses)."""

from __future__ import annotations

import random

from minigen.data.doctypes.common import random_fact
from minigen.data.templates import REWRITE_LABEL, restatements


def generate(rng: random.Random, words: list[str], cfg) -> str:
    parts = []
    for _ in range(rng.randint(1, 3)):
        first, *rest = restatements(random_fact(rng, words))
        rng.shuffle(rest)
        parts.append("\n".join([first, REWRITE_LABEL, *rest]))
    return "\n".join(parts)
