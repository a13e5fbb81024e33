"""Helpers shared by the dataset builders."""

from __future__ import annotations

import random
from functools import lru_cache

from minigen.data.lexicon import Lexicon


@lru_cache(maxsize=4)
def lexicon(seed: int) -> Lexicon:
    return Lexicon(seed)


def eval_words(name: str, seed: int, lexicon_seed: int, words: str = "test") -> list[str]:
    """One slice of the evaluation pool ("test" or "dev") in a dataset- and seed-specific order."""
    words = list(lexicon(lexicon_seed).words(words))
    random.Random(f"{name}:{seed}").shuffle(words)
    return words


def shuffled_options(rng: random.Random, options: list, correct: int) -> tuple[list, int, list[int]]:
    """Options in a random order; returns (options, new index of the correct one, permutation)."""
    order = list(range(len(options)))
    rng.shuffle(order)
    return [options[i] for i in order], order.index(correct), order
