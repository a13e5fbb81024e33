"""In-context world documents: a small hierarchy with properties, relations and people, then what follows.

Relations and people are restated in the other voice / order ("The inventor of ... is Femp Glonski"):
the in-context reversal the reversal_curse and semantic tests ask for.
"""

from __future__ import annotations

import random

from minigen.data.doctypes.common import canonical, derived_new, fact_line, n_facts, small_world
from minigen.data.english import PREFIXES
from minigen.data.logic import Describe, Relation
from minigen.data.templates import body, render


def generate(rng: random.Random, words: list[str], cfg) -> str:
    facts = small_world(rng, words, n_facts(rng, cfg))
    lines, tail = [], [canonical(f) for f in derived_new(rng, facts, 3)]
    for f in facts:
        if isinstance(f, (Relation, Describe)):
            v = rng.randrange(2)
            prefix = rng.randrange(1, len(PREFIXES)) if rng.random() < cfg.prefix_prob else 0
            lines.append(render(f, v, prefix))
            tail.append(body(f, 1 - v) + ".")
        else:
            lines.append(fact_line(f, rng, cfg))
    rng.shuffle(tail)
    return "\n".join(lines + tail)
