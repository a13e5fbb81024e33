"""Rewrite documents (the local augmentation format): 1-3 statements, each followed by the label and its
restatements (`templates.restatements`, the rules the local oracle also uses).

By default a statement is in its canonical template, without prefix, over any kind of fact. With
`compare_only`, every fact is a comparison (the reversal dataset's kind); with `as_fact_line`, the
statement is written as the in-context documents write a fact (a random template at
`1 - data.canonical_share`, a context prefix at `data.prefix_prob`), as the training sentences `minigen
augment --strategy local` rewrites are, and its restatements are the others (its own template left out).
With `people_share`, that share of the statements are people written as the people documents write
them (a paraphrase template, name or description first: the reversal_curse dataset's sentences),
restated in the two canonical orders.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from minigen.data.doctypes.common import fact_style, random_compare, random_fact, random_person
from minigen.data.people_templates import DESC_FIRST, NAME_FIRST, fill
from minigen.data.templates import REWRITE_LABEL, render, restatements
from minigen.errors import UserError


@dataclass
class RewriteDocs:
    compare_only: bool = False  # every statement a comparison
    as_fact_line: bool = False  # the statement in a fact line's template and prefix, not always canonical
    people_share: float = 0.0  # share of the statements that are people in a paraphrase template

    def __post_init__(self) -> None:
        if not 0.0 <= self.people_share <= 1.0:
            raise UserError(f"data.rewrite.people_share must be in [0, 1]; got {self.people_share}")


def generate(rng: random.Random, words: list[str], cfg) -> str:
    parts = []
    for _ in range(rng.randint(1, 3)):
        first, rest = _statement(rng, words, cfg)
        rng.shuffle(rest)
        parts.append("\n".join([first, REWRITE_LABEL, *rest]))
    return "\n".join(parts)


def _statement(rng: random.Random, words: list[str], cfg) -> tuple[str, list[str]]:
    """A statement and its restatements (not yet shuffled). The knobs draw only when on: every earlier
    stream stays as it was."""
    own = cfg.rewrite
    if own.people_share > 0 and rng.random() < own.people_share:
        person = random_person(rng, words)
        order = NAME_FIRST if rng.random() < 0.5 else DESC_FIRST
        first = fill(rng.choice(order), person.name, person.desc)
        return first, [s for s in restatements(person) if s != first]
    form = random_compare(rng, *rng.sample(words, 2)) if own.compare_only else random_fact(rng, words)
    if own.as_fact_line:
        variant, prefix = fact_style(form, rng, cfg)
        return render(form, variant, prefix), [s for i, s in enumerate(restatements(form)) if i != variant]
    first, *rest = restatements(form)
    return first, rest
