"""In-context people documents: 2 to facts_max / 2 people in paraphrase templates (either order), then
some of them restated in the other order.

Every template is used, the ones the reversal_curse dataset holds out of its training documents
included: the corpus teaches the formats, the dataset tests new people.

With `dense`, a document states 4-8 people and restates every one of them in the other order, each
line in the first template of its order with probability `canonical_share` (else a random one): the
design that taught the reversed lookup on comparisons (docs/log/2026-12-05-reversed-lookup.md), where
a name is not guessed among 2-4 and every restatement asks for the lookup. With `same_share`, that
share of the dense restatements keeps the order stated (the forward lookup beside the reversed one).
`name_first_share` is the share of people stated name first (every people document, and recall's);
`lower_names` writes dense documents' names in lower case (a diagnostic: the datasets capitalise them);
`dense_min` and `dense_max` bound the people a dense document states (4-8: 40% of the documents do not
fit a 257-token row, so their last restatements are cut).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from minigen.data.doctypes.common import random_person
from minigen.data.logic import Describe
from minigen.data.people_templates import DESC_FIRST, NAME_FIRST, fill
from minigen.errors import UserError

DENSE = (4, 8)  # the people a dense document states, by default


@dataclass
class PeopleDocs:
    dense: bool = False  # 4-8 people a document, every one restated in the other order
    same_share: float = 0.0  # dense: share of the restatements in the order stated instead
    name_first_share: float = 0.5  # share of the people stated name first (the others description first)
    lower_names: bool = False  # dense: names in lower case (a diagnostic: is it the capitalised tokens?)
    dense_min: int = DENSE[0]  # dense: the fewest people a document states
    dense_max: int = DENSE[1]  # dense: the most

    def __post_init__(self) -> None:
        for name in ("same_share", "name_first_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise UserError(f"data.people.{name} must be in [0, 1]; got {getattr(self, name)}")
        if not 2 <= self.dense_min <= self.dense_max <= 10:
            raise UserError(f"need 2 <= data.people.dense_min <= data.people.dense_max <= 10; got "
                            f"dense_min={self.dense_min}, dense_max={self.dense_max}")


def _template(rng: random.Random, order: tuple, cfg) -> str:
    return order[0] if rng.random() < cfg.canonical_share else rng.choice(order)


def generate(rng: random.Random, words: list[str], cfg) -> str:
    if cfg.people.dense:
        return _dense(rng, words, cfg)
    people = [random_person(rng, words) for _ in range(rng.randint(2, max(2, cfg.facts_max // 2)))]
    lines, tail = [], []
    for p in people:
        first = NAME_FIRST if rng.random() < cfg.people.name_first_share else DESC_FIRST
        other = DESC_FIRST if first is NAME_FIRST else NAME_FIRST
        lines.append(fill(rng.choice(first), p.name, p.desc))
        tail.append(fill(rng.choice(other), p.name, p.desc))
    asked = rng.sample(tail, rng.randint(1, len(tail)))
    return "\n".join(lines + asked)


def _dense(rng: random.Random, words: list[str], cfg) -> str:
    n = rng.randint(cfg.people.dense_min, cfg.people.dense_max)
    pool = rng.sample(words, 4 * n)  # no word in two people: the description's words find one line
    people = [random_person(rng, pool[4 * i: 4 * i + 4]) for i in range(n)]
    if cfg.people.lower_names:
        people = [Describe(p.name.lower(), p.desc) for p in people]
    orders = [rng.random() < cfg.people.name_first_share for _ in people]  # True: stated name first
    lines = [fill(_template(rng, NAME_FIRST if o else DESC_FIRST, cfg), p.name, p.desc)
             for p, o in zip(people, orders, strict=True)]
    share = cfg.people.same_share
    if share > 0:  # no draw at 0: people-dense's stream stays as it was
        orders = [not o if rng.random() < share else o for o in orders]  # flipped: restated as stated
    restated = [fill(_template(rng, DESC_FIRST if o else NAME_FIRST, cfg), p.name, p.desc)
                for p, o in zip(people, orders, strict=True)]
    return "\n".join(lines + rng.sample(restated, n))
