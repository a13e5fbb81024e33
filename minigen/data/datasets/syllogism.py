"""syllogism: two premises over three new words; the test asks what follows about the end terms.

A training document gives the two premises (one per line). The test prompt names the two
conclusion terms in a random order ("Question: what follows about troff and yomp?\\nAnswer:"); the
options are the six statements {All, Some, No} x {both directions}; the answer is the strongest
valid conclusion (all > no > some, subject as named first on ties). "Some" and "No" statements say
the same in both directions, so meta["accepted"] holds the answer and its converse: the order of the
question then tells nothing about the answer, and chance is what a uniform guess gets (5/18 over
the balanced quantifiers, not 1/6). meta["valid"] marks every option that follows.
Premise patterns are every valid pattern the engine finds, balanced over the answer's quantifier.
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
    for i in range(n):
        s, m, p = words[3 * i: 3 * i + 3]
        group = by_q[("all", "no", "some")[i % 3]]
        first, second, pattern_conclusion = group[(i // 3) % len(group)]
        name = {"S": s, "M": m, "P": p}
        premises = [Quant(x.q, name[x.s], name[x.p]) for x in (first, second)]
        rng.shuffle(premises)
        doc_id = f"syllogism-{i:03d}"
        lines = [render(x, 0 if rng.random() < 0.7 else 1) for x in premises]
        train.append(Document(doc_id, "\n".join(lines)))
        knowledge = Knowledge(premises)
        forms = option_forms(s, p)
        valid = [knowledge.follows(f) for f in forms]
        named = (s, p) if rng.random() < 0.5 else (p, s)
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
