"""Inference documents (the global augmentation format): facts, "It follows that:", derived statements."""

from __future__ import annotations

import random

from minigen.data.doctypes.common import (
    canonical,
    derived_new,
    fact_line,
    n_facts,
    random_compare,
    small_world,
)
from minigen.data.logic import Compare
from minigen.data.templates import INFERENCE_HEADER


def generate(rng: random.Random, words: list[str], cfg) -> str:
    facts = small_world(rng, words, n_facts(rng, cfg))
    if rng.random() < 0.5:  # a comparison, sometimes a chain of two
        a, b, c = rng.sample(words, 3)
        facts += [random_compare(rng, a, b)]
        facts += [Compare(b, facts[-1].adj, facts[-1].more, c)] if rng.random() < 0.5 else []
    derived = derived_new(rng, facts, 5)
    lines = [fact_line(f, rng, cfg) for f in facts]
    return "\n".join(lines + [INFERENCE_HEADER] + [canonical(f) for f in derived])
