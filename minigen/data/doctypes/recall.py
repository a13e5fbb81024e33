"""Recall documents (exact retrieval in context): 4-8 facts of every kind, then each of them restated
canonically in a new order. Past a restated line's first word, every token is in the context: the
document rewards finding the line a word stands in and copying the rest of it, multi-token words
and all (docs/log/2026-12-02-exact-retrieval.md). With `reversed_share`, that share of the restated
comparisons is reversed ("B are less X than A" for "A are more X than B"): finding the line by its last
word and writing its first (docs/log/2026-12-03-lookup-curriculum.md). With `compare_only`, every fact is
a comparison over words no other fact uses: a document then holds 4-8 subjects, so a restatement's
answer is found only by its line, not by its role (docs/log/2026-12-05-reversed-lookup.md).

With `compare_only` and `people_share`, that share of the facts are people instead, over words no
other fact uses, each stated in the first template of a random order (reversal_curse's format; name
first with probability `data.people.name_first_share`) and restated in the first template of the
other order, or of the same one with probability `data.people.same_share`: the people's lookups beside
the comparisons' in one document. With `compare_only` and `phrase_max` > 1, each subject and object is
1 to `phrase_max` words ("spond twurg are more ..."), so a reversed comparison's subject is no longer a
fixed number of tokens before its object: a lookup that reaches back a fixed distance fails, one that
finds the line's first word does not (docs/log/2026-12-05-people-lookup-shapes.md)."""

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
    phrase_max: int = 1  # compare_only: the most words in a subject or an object (each 1 to this many)

    def __post_init__(self) -> None:
        for name in ("reversed_share", "people_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise UserError(f"data.recall.{name} must be in [0, 1]; got {getattr(self, name)}")
        if not 1 <= self.phrase_max <= 4:
            raise UserError(f"data.recall.phrase_max must be 1 to 4; got {self.phrase_max}")
        if (self.people_share > 0 or self.phrase_max > 1) and not self.compare_only:
            raise UserError("data.recall.people_share and phrase_max need data.recall.compare_only=true "
                            "(facts over words no other fact uses)")


def generate(rng: random.Random, words: list[str], cfg) -> str:
    n = rng.randint(*FACTS)
    if cfg.recall.people_share > 0:  # its own draws: every earlier recall stream stays as it was
        return _with_people(rng, words, n, cfg)
    if cfg.recall.compare_only and cfg.recall.phrase_max > 1:  # its own draws, as people_share's
        pool = iter(rng.sample(words, 2 * cfg.recall.phrase_max * n))
        facts = [random_compare(rng, _phrase(rng, pool, cfg), _phrase(rng, pool, cfg)) for _ in range(n)]
    elif cfg.recall.compare_only:
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
    pool, pairs = iter(rng.sample(words, max(4, 2 * cfg.recall.phrase_max) * n)), []
    for _ in range(n):
        if rng.random() < cfg.recall.people_share:
            p = random_person(rng, [next(pool) for _ in range(4)])
            name_first = rng.random() < cfg.people.name_first_share
            same = rng.random() < cfg.people.same_share
            stated, other = (NAME_FIRST, DESC_FIRST) if name_first else (DESC_FIRST, NAME_FIRST)
            asked = (stated if same else other)[0]
            pairs.append((fill(stated[0], p.name, p.desc), fill(asked, p.name, p.desc)))
        else:
            f = random_compare(rng, _phrase(rng, pool, cfg), _phrase(rng, pool, cfg))
            g = reverse(f) if rng.random() < cfg.recall.reversed_share else f
            pairs.append((fact_line(f, rng, cfg), canonical(g)))
    return "\n".join([s for s, _ in pairs] + [r for _, r in rng.sample(pairs, n)])


def _phrase(rng: random.Random, pool, cfg) -> str:
    """The next 1 to `phrase_max` words of `pool` (one, with no draw, at phrase_max 1)."""
    k = rng.randint(1, cfg.recall.phrase_max) if cfg.recall.phrase_max > 1 else 1
    return " ".join(next(pool) for _ in range(k))
