"""syllogism: two premises over three new words; the test asks what follows about the end terms.

A training document gives the two premises (one per line). The test prompt names the two
conclusion terms in a random order ("Question: what follows about troff and yomp?\\nAnswer:"); the
options are the six statements {All, Some, No} x {both directions}; the answer is the strongest
valid conclusion (all > no > some, subject as named first on ties). "Some" and "No" statements say
the same in both directions, so meta["accepted"] holds the answer and its converse: the order of the
question then tells nothing about the answer. meta["valid"] marks every option that follows.

Test splits:
  syllogism        every valid pattern the engine finds, cycled within each quantifier. Answers are
                   "all" twice as often as "no" or "some" (2:1:1), so a guess that ignores the premises
                   scores 1/4 whatever it prefers: uniform, always "Some", always "All <first named>
                   ...". With 1:1:1, a model that merely liked "Some" statements scored 1/3 against a
                   uniform-guess chance of 5/18. The atmosphere heuristic (`atmosphere_choice`) solves
                   most of it (about .94).
  anti_atmosphere  premise pairs whose answer among the six options is one the atmosphere heuristic
                   never picks (see `anti_atmosphere_patterns`; with these six options that leaves only
                   Darapti: "All M are S", "All M are P" => "Some S are P", where atmosphere says
                   "All"). The heuristic scores 0 here. Every answer is then a "Some" statement, so a
                   bias for "Some" scores 1: read this split beside the main one, not alone. Chance 1/3.
                   Its words come after the main split's, so the main split is the same with or without it.
"""

from __future__ import annotations

import itertools
import random

from minigen.data.datasets import Dataset, Document, TestItem, resolve_size
from minigen.data.datasets.common import eval_words, shuffled_options
from minigen.data.logic import (
    QUANTIFIERS,
    Knowledge,
    Quant,
    equivalent,
    from_list,
    strongest,
    to_list,
    valid_syllogism_patterns,
)
from minigen.data.templates import render, syllogism_prompt

DEFAULT_ITEMS = 69
DEFAULT_ANTI_ITEMS = 30  # the anti_atmosphere split at the default size; it scales with the main split
ANSWER_CYCLE = ("all", "no", "all", "some")  # 2:1:1, see the module docstring
MAIN_SPLIT = "syllogism"
ANTI_SPLIT = "anti_atmosphere"


def option_forms(s: str, p: str) -> list[Quant]:
    return [Quant(q, x, y) for q in QUANTIFIERS for x, y in ((s, p), (p, s))]


def atmosphere_pick(premises: list[Quant], options: list[Quant]) -> int:
    """`atmosphere_choice` on logical forms: premises in document order, the six options."""
    quantifiers = {x.q for x in premises}
    q = "no" if "no" in quantifiers else "some" if "some" in quantifiers else "all"
    premise_terms = [t for x in premises for t in (x.s, x.p)]
    ends = [t for t in dict.fromkeys(premise_terms) if premise_terms.count(t) == 1]
    assert len(ends) == 2, premises
    subjects = [t for t in ends if any(x.s == t for x in premises)]
    subject = subjects[0] if len(subjects) == 1 else ends[0]
    (other,) = [t for t in ends if t != subject]
    return options.index(Quant(q, subject, other))


def atmosphere_choice(item: TestItem) -> int:
    """The option index the atmosphere heuristic picks, from the item's meta logical forms only.

    Quantifier: "no" if a premise is a "no" statement, else "some" if a premise is a "some"
    statement, else "all". Subject: the end term (a term of exactly one premise) that is the subject of
    a premise; when both end terms are premise subjects, or neither is, the end term that occurs first
    in meta["premises"] (document order, a premise's subject before its predicate). The pick is the
    option "<quantifier> <subject> are <other end term>". For "some" and "no" the subject does not
    matter for scoring (both directions are accepted); for "all" it does.
    """
    premises = [from_list(x) for x in item.meta["premises"]]
    options = [from_list(x) for x in item.meta["option_forms"]]
    return atmosphere_pick(premises, options)


def _outcome(premises: list[Quant], named_first: str) -> tuple[list[Quant], Quant | None, list[Quant]]:
    """(option forms over S/P, the strongest valid one, the accepted ones) for premises over S, M, P."""
    knowledge = Knowledge(premises)
    forms = option_forms("S", "P")
    conclusion = strongest([f for f in forms if knowledge.follows(f)], subject_first=named_first)
    accepted = [f for f in forms if conclusion is not None and equivalent(f, conclusion)]
    return forms, conclusion, accepted


def anti_atmosphere_patterns() -> list[tuple[Quant, Quant]]:
    """Every premise pair over S, M, P (any quantifiers, figures) whose answer among the six options
    follows by the engine and for which the atmosphere pick is not accepted, in either premise order
    and either order of naming the end terms. One pair per set of premises up to renaming S <-> P."""
    out, seen = [], set()
    for q1, q2 in itertools.product(QUANTIFIERS, repeat=2):
        for first in (Quant(q1, "M", "P"), Quant(q1, "P", "M")):
            for second in (Quant(q2, "S", "M"), Quant(q2, "M", "S")):
                qualifies = True
                for premises in ([first, second], [second, first]):
                    for named_first in ("S", "P"):
                        forms, conclusion, accepted = _outcome(premises, named_first)
                        if conclusion is None or forms[atmosphere_pick(premises, forms)] in accepted:
                            qualifies = False
                swap = {"S": "P", "P": "S", "M": "M"}
                key = frozenset((x.q, x.s, x.p) for x in (first, second))
                swapped = frozenset((x.q, swap[x.s], swap[x.p]) for x in (first, second))
                if qualifies and key not in seen and swapped not in seen:
                    seen.add(key)
                    out.append((first, second))
    return out


def _item(item_id: str, split: str, doc_id: str, premises: list[Quant], names: tuple[str, str],
          named: tuple[str, str], rng: random.Random) -> tuple[TestItem, float]:
    """The six-option test item for premises over the end terms `names` = (s, p); `named` is the order
    the prompt names them in. Returns it and its chance (accepted options / options)."""
    s, p = names
    knowledge = Knowledge(premises)
    forms = option_forms(s, p)
    valid = [knowledge.follows(f) for f in forms]
    conclusion = strongest([f for f, v in zip(forms, valid, strict=True) if v], subject_first=named[0])
    best = forms.index(conclusion)
    options, answer, order = shuffled_options(rng, [" " + render(f) for f in forms], best)
    accepted = [k for k, j in enumerate(order) if equivalent(forms[j], conclusion)]
    item = TestItem(
        id=item_id, split=split, prompt=syllogism_prompt(*named), options=options, answer=answer,
        meta={
            "doc_ids": [doc_id],
            "accepted": accepted,
            "valid": [valid[j] for j in order],
            "premises": [to_list(x) for x in premises],
            "option_forms": [to_list(forms[j]) for j in order],
            "conclusion": to_list(forms[best]),
        },
    )
    return item, len(accepted) / len(options)


def _n_anti(n: int) -> int:
    return max(1, round(DEFAULT_ANTI_ITEMS * n / DEFAULT_ITEMS))


def _premises(first, second, words: tuple[str, str, str], rng: random.Random) -> list:
    """A pattern's two premises over (S, M, P) = words, in a random order."""
    name = dict(zip("SMP", words, strict=True))
    premises = [Quant(x.q, name[x.s], name[x.p]) for x in (first, second)]
    rng.shuffle(premises)
    return premises


def _document(doc_id: str, premises: list, rng: random.Random) -> Document:
    """The training document: one premise a line, mostly in the canonical template."""
    return Document(doc_id, "\n".join(render(x, 0 if rng.random() < 0.7 else 1) for x in premises))


def build(seed: int = 0, lexicon_seed: int = 0, size=None, words: str = "test") -> Dataset:
    words = eval_words("syllogism", seed, lexicon_seed, words)
    room = len(words) // 3  # items of 3 words each, both splits together
    n = resolve_size("syllogism", size, DEFAULT_ITEMS, "items",
                     max((k for k in range(room + 1) if k + _n_anti(k) <= room), default=0))
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
        doc_id = f"syllogism-{i:03d}"
        premises = _premises(first, second, (s, m, p), rng)
        train.append(_document(doc_id, premises, rng))
        # The answer's subject is named first in exactly half the items of each quantifier.
        named = (s, p) if turn[quantifier] % 2 == 0 else (p, s)
        turn[quantifier] += 1
        item, chance = _item(f"syllogism-{i:03d}", MAIN_SPLIT, doc_id, premises, (s, p), named, rng)
        assert equivalent(from_list(item.meta["conclusion"]), Quant(pattern_conclusion.q, s, p))
        test.append(item)
        chances.append(chance)
    # anti_atmosphere: its own words (after the main split's) and its own random stream, so the main
    # split is exactly what it was before this split existed.
    anti_rng = random.Random(f"syllogism-anti-atmosphere:{seed}")
    patterns = anti_atmosphere_patterns()
    anti_chances: list[float] = []
    for i in range(_n_anti(n)):
        s, m, p = words[3 * (n + i): 3 * (n + i) + 3]
        first, second = patterns[i % len(patterns)]
        doc_id = f"syllogism-anti-{i:03d}"
        premises = _premises(first, second, (s, m, p), anti_rng)
        train.append(_document(doc_id, premises, anti_rng))
        named = (s, p) if (i // len(patterns)) % 2 == 0 else (p, s)
        item, chance = _item(f"syllogism-anti-{i:03d}", ANTI_SPLIT, doc_id, premises, (s, p), named, anti_rng)
        assert item.answer in item.accepted() and atmosphere_choice(item) not in item.accepted(), item.id
        test.append(item)
        anti_chances.append(chance)
    return Dataset("syllogism", train, test, {MAIN_SPLIT: sum(chances) / len(chances),
                                              ANTI_SPLIT: sum(anti_chances) / len(anti_chances)})
