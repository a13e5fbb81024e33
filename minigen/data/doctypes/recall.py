"""Recall documents (exact retrieval in context): 4-8 facts of every kind, then each of them restated
canonically in a new order. Past a restated line's first word, every token is in the context: the
document rewards finding the line a word stands in and copying the rest of it, multi-token words
and all (docs/log/2026-12-02-exact-retrieval.md). With `reversed_share`, that share of the restated
comparisons is reversed ("B are less X than A" for "A are more X than B"): finding the line by its last
word and writing its first (docs/log/2026-12-03-lookup-curriculum.md). With `compare_only`, every fact is
a comparison over words no other fact uses: a document then holds 4-8 subjects, so a restatement's
answer is found only by its line, not by its role (docs/log/2026-12-05-reversed-lookup.md). With
`compare_only` and `people_share`, that share of the facts are people instead, over words no other fact
uses, each stated in the first template of a random order (reversal_curse's format; name first
with probability `data.people.name_first_share`) and restated in the first template of the other order, or of the same one with probability `data.people.same_share`: the
people's lookups beside the comparisons' in one document."""

from __future__ import annotations

import random
from dataclasses import dataclass

from minigen.data.doctypes.common import canonical, fact_line, random_compare, random_fact, random_person
from minigen.data.logic import Compare, reverse
from minigen.data.people_templates import DESC_FIRST, NAME_FIRST, fill
from minigen.errors import UserError

FACTS = (4, 8)


@dataclass
class RecallDocs:
    reversed_share: float = 0.0  # share of the restated comparisons written reversed
    compare_only: bool = False  # every fact a comparison, over distinct words
    people_share: float = 0.0  # compare_only: share of the facts that are people instead

    def __post_init__(self) -> None:
        for name in ("reversed_share", "people_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise UserError(f"data.recall.{name} must be in [0, 1]; got {getattr(self, name)}")
        if self.people_share > 0 and not self.compare_only:
            raise UserError("data.recall.people_share needs data.recall.compare_only=true (people over "
                            "words no other fact uses)")


def generate(rng: random.Random, words: list[str], cfg) -> str:
    n = rng.randint(*FACTS)
    if cfg.recall.people_share > 0:  # its own draws: every earlier recall stream stays as it was
        return _with_people(rng, words, n, cfg)
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


def _with_people(rng: random.Random, words: list[str], n: int, cfg) -> str:
    """compare_only's document with a `people_share` of its facts people: (stated, restated) line pairs."""
    pool, pairs = iter(rng.sample(words, 4 * n)), []
    for _ in range(n):
        if rng.random() < cfg.recall.people_share:
            p = random_person(rng, [next(pool) for _ in range(4)])
            name_first = rng.random() < cfg.people.name_first_share
            same = rng.random() < cfg.people.same_share
            stated, other = (NAME_FIRST, DESC_FIRST) if name_first else (DESC_FIRST, NAME_FIRST)
            pairs.append((fill(stated[0], p.name, p.desc), fill((stated if same else other)[0], p.name, p.desc)))
        else:
            f = random_compare(rng, next(pool), next(pool))
            g = reverse(f) if rng.random() < cfg.recall.reversed_share else f
            pairs.append((fact_line(f, rng, cfg), canonical(g)))
    return "\n".join([s for s, _ in pairs] + [r for _, r in rng.sample(pairs, n)])
