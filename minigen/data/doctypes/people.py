"""In-context people documents: 2 to facts_max / 2 people in paraphrase templates (either order), then
some of them restated in the other order.

Every template is used, the ones the reversal_curse dataset holds out of its training documents
included: the corpus teaches the formats, the dataset tests new people.
"""

from __future__ import annotations

import random

from minigen.data.doctypes.common import random_person
from minigen.data.people_templates import DESC_FIRST, NAME_FIRST, fill


def generate(rng: random.Random, words: list[str], cfg) -> str:
    people = [random_person(rng, words) for _ in range(rng.randint(2, max(2, cfg.facts_max // 2)))]
    lines, tail = [], []
    for p in people:
        first = NAME_FIRST if rng.random() < 0.5 else DESC_FIRST
        other = DESC_FIRST if first is NAME_FIRST else NAME_FIRST
        lines.append(fill(rng.choice(first), p.name, p.desc))
        tail.append(fill(rng.choice(other), p.name, p.desc))
    asked = rng.sample(tail, rng.randint(1, len(tail)))
    return "\n".join(lines + asked)
