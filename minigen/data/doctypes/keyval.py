"""Key-value documents (lookup with the key next to its value): 4-8 lines of two pool words, "key
value", then every line again in a new order. Past a restated line's key, its value is the word that
followed the same key earlier: the one-token-back match an induction head makes, the first rung of a
lookup curriculum before `recall`, whose lines share their template words and so need a longer key
(docs/log/2026-12-03-lookup-curriculum.md). With `reversed_share`, that share of the restated lines is
written "value key": the key is the word before the value, the shortest reversed lookup
(docs/log/2026-12-05-reversed-lookup.md)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from minigen.errors import UserError

PAIRS = (4, 8)


@dataclass
class KeyvalDocs:
    reversed_share: float = 0.0  # share of the restated lines written "value key"

    def __post_init__(self) -> None:
        if not 0.0 <= self.reversed_share <= 1.0:
            raise UserError(f"data.keyval.reversed_share must be in [0, 1]; got {self.reversed_share}")


def generate(rng: random.Random, words: list[str], cfg) -> str:
    n = rng.randint(*PAIRS)
    pool = rng.sample(words, 2 * n)
    lines = [f"{pool[2 * i]} {pool[2 * i + 1]}" for i in range(n)]
    restated = rng.sample(lines, n)
    share = cfg.keyval.reversed_share
    if share > 0:  # no draw at 0: the stream of every earlier recipe stays as it was
        restated = [" ".join(line.split()[::-1]) if rng.random() < share else line for line in restated]
    return "\n".join(lines + restated)
