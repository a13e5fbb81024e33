"""In-context reversal documents: comparison facts, then most of them reversed (or restated) at the end."""

from __future__ import annotations

import random
from dataclasses import dataclass

from minigen.data.doctypes.common import canonical, fact_line, n_facts, random_compare
from minigen.data.logic import reverse
from minigen.errors import UserError


@dataclass
class ReversalDocs:
    restated_max: int = 4  # fact lines restated in their own direction among the facts (0..N per document)
    asked_share: float = 1.0  # share of the facts asked about (reversed or restated) at the end
    same_share: float = 0.0  # share of those end lines restating the fact (same direction), not reversing it
    shared_word: float = 0.2  # chance that a later fact reuses an earlier fact's subject

    def __post_init__(self) -> None:
        if self.restated_max < 0:
            raise UserError(f"data.reversal.restated_max must be >= 0; got {self.restated_max}")
        for name in ("asked_share", "same_share", "shared_word"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise UserError(f"data.reversal.{name} must be in [0, 1]; got {getattr(self, name)}")


def generate(rng: random.Random, words: list[str], cfg) -> str:
    own = cfg.reversal
    n = n_facts(rng, cfg)
    pool = rng.sample(words, 2 * n)
    facts = []
    for i in range(n):
        a, b = pool[2 * i], pool[2 * i + 1]
        if facts and rng.random() < own.shared_word:  # a word in two facts: the reversal picks the right one
            a = rng.choice(facts).a
        facts.append(random_compare(rng, a, b))
    lines = [fact_line(f, rng, cfg) for f in facts]
    for _ in range(rng.randrange(own.restated_max + 1) if n > 2 else 0):  # restated facts, as in articles
        lines.insert(rng.randrange(len(lines) + 1), fact_line(rng.choice(facts), rng, cfg))
    # Reversing most facts makes the reversal lines a large share of the document: the skill is learned
    # from those lines alone, and a tiny model needs many of them per token to pick it up in minutes.
    asked = rng.sample(facts, max(1, round(own.asked_share * len(facts))))
    # A question that restates a fact in its own direction is answered by a copy, not a flip: only the
    # word's role in the fact (subject or object) tells which. (No draw at same_share=0.)
    lines += [canonical(f if own.same_share and rng.random() < own.same_share else reverse(f)) for f in asked]
    return "\n".join(lines)
