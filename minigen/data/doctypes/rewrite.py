"""Rewrite documents (the local augmentation format): 1-3 statements, each followed by the label and its
restatements (`templates.restatements`, the rules the local oracle also uses).

By default a statement is in its canonical template, without prefix, over any kind of fact. With
`compare_only`, every fact is a comparison (the reversal dataset's kind); with `as_fact_line`, the
statement is written as the in-context documents write a fact (a random template at
`1 - data.canonical_share`, a context prefix at `data.prefix_prob`), as the training sentences `minigen
augment --strategy local` rewrites are, and its restatements are the others (its own template left out).
With `people_share`, that share of the statements are people written as the people documents write
them (a paraphrase template, name or description first: the reversal_curse dataset's sentences),
restated in the two canonical orders. With `people_block_max` above 1, a people statement is a block of 1
to that many people over distinct words (each line a paraphrase template, either order), then the
label and every person's restatements in one shuffled list, and the block ends its document (so that it
fits a row): each restatement must find its person among the block's, the lookup the reversal_curse ICL
prompt asks for, in the rewrite format a model of the people stages already copies one person in.
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
    people_block_max: int = 1  # a people statement states 1 to this many people (1: one, no draw)

    def __post_init__(self) -> None:
        if not 0.0 <= self.people_share <= 1.0:
            raise UserError(f"data.rewrite.people_share must be in [0, 1]; got {self.people_share}")
        if not 1 <= self.people_block_max <= 6:
            raise UserError(f"data.rewrite.people_block_max must be in 1..6; got {self.people_block_max}")


def generate(rng: random.Random, words: list[str], cfg) -> str:
    parts = []
    for _ in range(rng.randint(1, 3)):
        first, rest = _statement(rng, words, cfg)
        rng.shuffle(rest)
        parts.append("\n".join([first, REWRITE_LABEL, *rest]))
        if "\n" in first:  # a block of people ends the document
            break
    return "\n".join(parts)


def _statement(rng: random.Random, words: list[str], cfg) -> tuple[str, list[str]]:
    """A statement and its restatements (not yet shuffled). The knobs draw only when on: every earlier
    stream stays as it was."""
    own = cfg.rewrite
    if own.people_share > 0 and rng.random() < own.people_share:
        if own.people_block_max > 1:
            return _people_block(rng, words, rng.randint(1, own.people_block_max))
        person = random_person(rng, words)
        first = _paraphrase(rng, person)
        return first, [s for s in restatements(person) if s != first]
    form = random_compare(rng, *rng.sample(words, 2)) if own.compare_only else random_fact(rng, words)
    if own.as_fact_line:
        variant, prefix = fact_style(form, rng, cfg)
        return render(form, variant, prefix), [s for i, s in enumerate(restatements(form)) if i != variant]
    first, *rest = restatements(form)
    return first, rest


def _people_block(rng: random.Random, words: list[str], n: int) -> tuple[str, list[str]]:
    """n people over distinct words, one paraphrased line each, and all their other restatements."""
    pool = rng.sample(words, 4 * n)  # no word in two people: a description's words find one line
    lines, rest = [], []
    for i in range(n):
        person = random_person(rng, pool[4 * i: 4 * i + 4])
        line = _paraphrase(rng, person)
        lines.append(line)
        rest += [s for s in restatements(person) if s != line]
    return "\n".join(lines), rest


def _paraphrase(rng: random.Random, person) -> str:
    """A person in a paraphrase template, name or description first at even odds."""
    return fill(rng.choice(NAME_FIRST if rng.random() < 0.5 else DESC_FIRST), person.name, person.desc)
