"""Fact documents: facts_min..facts_max independent facts of every kind, in varied surface forms."""

from __future__ import annotations

import random

from minigen.data.doctypes.common import fact_line, n_facts, random_fact


def generate(rng: random.Random, words: list[str], cfg) -> str:
    return "\n".join(fact_line(random_fact(rng, words), rng, cfg) for _ in range(n_facts(rng, cfg)))
