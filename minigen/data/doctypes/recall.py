"""Recall documents (exact retrieval in context): 4-8 facts of every kind, then each of them restated
canonically in a new order. Past a restated line's first word, every token is in the context: the
document rewards finding the line a word stands in and copying the rest of it, multi-token words
and all (docs/log/2026-12-02-exact-retrieval.md). With `reversed_share`, that share of the restated
comparisons is reversed ("B are less X than A" for "A are more X than B"): finding the line by its last
word and writing its first (docs/log/2026-12-03-lookup-curriculum.md). With `compare_only`, every fact is
a comparison over words no other fact uses: a document then holds 4-8 subjects, so a restatement's
answer is found only by its line, not by its role (docs/log/2026-12-05-reversed-lookup.md)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from minigen.data.doctypes.common import canonical, fact_line, random_compare, random_fact
from minigen.data.logic import Compare, reverse
from minigen.errors import UserError

FACTS = (4, 8)


@dataclass
class RecallDocs:
    reversed_share: float = 0.0  # share of the restated comparisons written reversed
    compare_only: bool = False  # every fact a comparison, over distinct words

    def __post_init__(self) -> None:
        if not 0.0 <= self.reversed_share <= 1.0:
            raise UserError(f"data.recall.reversed_share must be in [0, 1]; got {self.reversed_share}")


def generate(rng: random.Random, words: list[str], cfg) -> str:
    n = rng.randint(*FACTS)
    if cfg.recall.compare_only:
        pool = rng.sample(words, 2 * n)
        facts = [random_compare(rng, pool[2 * i], pool[2 * i + 1]) for i in range(n)]
    else:
        facts = [random_fact(rng, words) for _ in range(n)]
    restated = rng.sample(facts, len(facts))
    share = cfg.recall.reversed_share
    if share > 0:  # no draw at 0: the stream of every earlier recipe stays as it was
        restated = [reverse(f) if isinstance(f, Compare) and rng.random() < share else f for f in restated]
    return "\n".join([fact_line(f, rng, cfg) for f in facts] + [canonical(f) for f in restated])
