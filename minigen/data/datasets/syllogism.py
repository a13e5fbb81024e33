"""syllogism: two premises over three new words; the test asks what follows about the end terms.

A training document gives the two premises (one per line). The test prompt names the two
conclusion terms in a random order ("Question: what follows about troff and yomp?\\nAnswer:"); the
options are the six statements {All, Some, No} x {both directions}; the answer is the strongest
valid conclusion (all > no > some, subject as named first on ties). "Some" and "No" statements say
the same in both directions, so meta["accepted"] holds the answer and its converse: the order of the
question then tells nothing about the answer. meta["valid"] marks every option that follows.
Answers are "all" twice as often as "no" or "some" (2:1:1), so a guess that ignores the premises
scores 1/4 whatever it prefers: uniform, always "Some", always "All <first named> ...". With 1:1:1,
a model that merely liked "Some" statements scored 1/3 against a uniform-guess chance of 5/18.
Premise patterns are every valid pattern the engine finds, cycled within each quantifier.
"""

from __future__ import annotations

import random

from minigen.data.datasets import Dataset, Document, TestItem, resolve_size
from minigen.data.datasets.common import eval_words, shuffled_options
from minigen.data.logic import (
    QUANTIFIERS,
    Knowledge,
    Quant,
    equivalent,
    strongest,
    to_list,
    valid_syllogism_patterns,
)
from minigen.data.templates import render, syllogism_prompt

DEFAULT_ITEMS = 69
ANSWER_CYCLE = ("all", "no", "all", "some")  # 2:1:1, see the module docstring


def option_forms(s: str, p: str) -> list[Quant]:
    return [Quant(q, x, y) for q in QUANTIFIERS for x, y in ((s, p), (p, s))]


def build(seed: int = 0, lexicon_seed: int = 0, size=None) -> Dataset:
    words = eval_words("syllogism", seed, lexicon_seed)
    n = resolve_size("syllogism", size, DEFAULT_ITEMS, "items", len(words) // 3)
    rng = random.Random(f"syllogism-build:{seed}")
    by_q: dict[str, list] = {}
    for pattern in valid_syllogism_patterns():
        by_q.setdefault(pattern[2].q, []).append(pattern)
    train: list[Document] = []
    test: list[TestItem] = []
    chances: list[float] = []
    turn = dict.fromkeys(by_q, 0)  # items so far per answer quantifier
    for i in range(n):
        s, m, p = words[3 * i: 3 * i + 3]
        quantifier = ANSWER_CYCLE[i % len(ANSWER_CYCLE)]
        group = by_q[quantifier]
        first, second, pattern_conclusion = group[(i // len(ANSWER_CYCLE)) % len(group)]
        name = {"S": s, "M": m, "P": p}
        premises = [Quant(x.q, name[x.s], name[x.p]) for x in (first, second)]
        rng.shuffle(premises)
        doc_id = f"syllogism-{i:03d}"
        lines = [render(x, 0 if rng.random() < 0.7 else 1) for x in premises]
        train.append(Document(doc_id, "\n".join(lines)))
        knowledge = Knowledge(premises)
        forms = option_forms(s, p)
        valid = [knowledge.follows(f) for f in forms]
        # The answer's subject is named first in exactly half the items of each quantifier.
        named = (s, p) if turn[quantifier] % 2 == 0 else (p, s)
        turn[quantifier] += 1
        conclusion = strongest([f for f, v in zip(forms, valid, strict=True) if v], subject_first=named[0])
        assert equivalent(conclusion, Quant(pattern_conclusion.q, s, p))
        best = forms.index(conclusion)
        options, answer, order = shuffled_options(rng, [" " + render(f) for f in forms], best)
        accepted = [k for k, j in enumerate(order) if equivalent(forms[j], conclusion)]
        chances.append(len(accepted) / len(options))
        test.append(TestItem(
            id=f"syllogism-{i:03d}", split="syllogism", prompt=syllogism_prompt(*named), options=options,
            answer=answer,
            meta={
                "doc_ids": [doc_id],
                "accepted": accepted,
                "valid": [valid[j] for j in order],
                "premises": [to_list(x) for x in premises],
                "option_forms": [to_list(forms[j]) for j in order],
                "conclusion": to_list(forms[best]),
            },
        ))
    return Dataset("syllogism", train, test, {"syllogism": sum(chances) / len(chances)})
