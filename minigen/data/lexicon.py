"""Nonsense words built from syllable pieces, split into disjoint pretraining and evaluation pools.

A word is HEAD + CODA: HEAD = consonant onset + one vowel ("fe", "glo", "tro"), CODA = a
consonant cluster ("mp", "n", "ff"). The tokenizer cuts words at exactly this boundary, so an
evaluation word is made of two pieces that both occur in many pretraining words: the model has
seen every piece, but never the evaluation word itself.
"""

from __future__ import annotations

import random
from collections import Counter
from functools import lru_cache

from minigen.data.english import ADJECTIVES, BLOCKLIST, NAME_SUFFIXES

ONSETS = (
    "b", "bl", "br", "d", "dr", "f", "fl", "fr", "g", "gl", "gr", "k", "kl", "kr", "m", "n", "p", "pl",
    "pr", "s", "sk", "sl", "sn", "sp", "st", "t", "tr", "v", "z", "y", "j", "sw", "tw", "str", "spr",
)
VOWELS = ("a", "e", "i", "o", "u")
CODAS = (
    "b", "d", "g", "k", "l", "m", "n", "p", "t", "x", "ff", "ll", "mp", "nd", "nk", "nt", "rg", "rk",
    "rn", "rp", "sk", "st", "ft", "lk", "lp", "ds", "ts", "mps", "nds", "rst",
)
HEADS = tuple(o + v for o in ONSETS for v in VOWELS)

# The evaluation pool; everything else is pretraining vocabulary. It is split again into the `test`
# words (what `compare` reports) and the `dev` words (what every choice of recipe, prompt or
# hyperparameter is made on). The largest dataset at the paper's size (reversal_curse: 3 x 30 people
# of 4 words) needs 360 words, so `test` holds 360 and `dev` the other 340 (reversal_curse on dev holds
# at most 28 people per subset). The pool keeps its size so that the pretraining pool, and with it
# every corpus stream and checkpoint, stay as they were.
EVAL_POOL_SIZE = 700
TEST_POOL_SIZE = 360
WORD_SLICES = ("test", "dev")
# Every head and coda of an evaluation word must occur in at least this many pretraining words.
MIN_PIECE_SUPPORT = 8


def split_word(word: str) -> tuple[str, str]:
    """(head, coda) of a nonsense word: the head ends at the (single) vowel."""
    for i, ch in enumerate(word):
        if ch in "aeiou":
            return word[: i + 1], word[i + 1:]
    raise AssertionError(f"not a nonsense word: {word}")


@lru_cache(maxsize=1)
def _all_words() -> tuple[str, ...]:
    from minigen.data.templates import english_vocabulary

    taken = BLOCKLIST | {w.lower() for w in english_vocabulary()}
    words = sorted(
        h + c for h in HEADS for c in CODAS if 4 <= len(h + c) <= 6 and h + c not in taken
    )
    # A word must not spell a surname suffix boundary the tokenizer treats specially.
    return tuple(w for w in words if not w.endswith(NAME_SUFFIXES))


class Lexicon:
    """The seeded split of nonsense words into pretraining and evaluation pools.

    pretrain_words / eval_words: disjoint, each in a seeded random order; eval_words = test_words +
    dev_words (`words(slice)`), disjoint.
    adjectives: comparison dimensions as (adjective, "more" form, "less" form).
    Names of people are pool words, capitalized (`name_part`).
    """

    def __init__(self, seed: int = 0):
        self.seed = seed
        words = list(_all_words())
        random.Random(f"lexicon-{seed}").shuffle(words)
        support = Counter(p for w in words for p in split_word(w))
        eval_words: list[str] = []
        for w in words:
            if len(eval_words) == EVAL_POOL_SIZE:
                break
            head, coda = split_word(w)
            # Taking w out of pretraining lowers the support of its pieces by one.
            if support[head] > MIN_PIECE_SUPPORT and support[coda] > MIN_PIECE_SUPPORT:
                eval_words.append(w)
                support[head] -= 1
                support[coda] -= 1
        assert len(eval_words) == EVAL_POOL_SIZE
        chosen = set(eval_words)
        self.eval_words: list[str] = eval_words
        self.pretrain_words: list[str] = [w for w in words if w not in chosen]
        self.test_words: list[str] = eval_words[:TEST_POOL_SIZE]
        self.dev_words: list[str] = eval_words[TEST_POOL_SIZE:]
        self.adjectives: list[tuple[str, str, str]] = list(ADJECTIVES)

    def words(self, slice_: str) -> list[str]:
        """The evaluation words of one slice: "test" or "dev"."""
        assert slice_ in WORD_SLICES, slice_
        return self.test_words if slice_ == "test" else self.dev_words


def name_part(word: str) -> str:
    """A word as a first name: "femp" -> "Femp"."""
    return word.capitalize()


def surname(word: str, suffix: str) -> str:
    """A word as a surname: ("glon", "ski") -> "Glonski"."""
    return word.capitalize() + suffix
