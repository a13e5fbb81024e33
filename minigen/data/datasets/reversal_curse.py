"""reversal_curse: fictitious people and their descriptions, trained in one order or both.

Three subsets of people: "name_to_desc" (trained only as "Femp Glonski is the inventor of the yomp
trelp"), "desc_to_name" (trained only description first), and "both". Each person appears in 30
training documents, one per training paraphrase template. Test prompts use the 10 held-out
templates, cut before the answer; 4 options: the right name (or description) and 3 others from
the dataset. Splits: "reversed" (the order never trained), "same" (the trained order) and "both".
"""

from __future__ import annotations

import random

from minigen.data.datasets import Dataset, Document, TestItem, resolve_size
from minigen.data.datasets.common import eval_words, shuffled_options
from minigen.data.english import NAME_SUFFIXES, PERSON_ROLES
from minigen.data.logic import Describe, Knowledge, to_list
from minigen.data.people_templates import DESC_FIRST, N_TRAIN_TEMPLATES, NAME_FIRST, fill, split_at_answer

DEFAULT_PEOPLE = 30  # per subset
SUBSETS = ("name_to_desc", "desc_to_name", "both")
WORDS_PER_PERSON = 4


def make_people(words: list[str], n: int, rng: random.Random) -> list[Describe]:
    people = []
    for i in range(n):
        first, last, w1, w2 = words[WORDS_PER_PERSON * i: WORDS_PER_PERSON * (i + 1)]
        suffix = rng.choice(NAME_SUFFIXES) if rng.random() < 0.5 else ""
        name = f"{first.capitalize()} {last.capitalize()}{suffix}"
        people.append(Describe(name, f"the {PERSON_ROLES[i % len(PERSON_ROLES)]} of the {w1} {w2}"))
    return people


def _templates_for(subset: str, k: int) -> str:
    if subset == "name_to_desc":
        return NAME_FIRST[k]
    if subset == "desc_to_name":
        return DESC_FIRST[k]
    return NAME_FIRST[k] if k % 2 == 0 else DESC_FIRST[k]


def build(seed: int = 0, lexicon_seed: int = 0, size=None) -> Dataset:
    words = eval_words("reversal_curse", seed, lexicon_seed)
    limit = len(words) // (WORDS_PER_PERSON * len(SUBSETS))
    n = resolve_size("reversal_curse", size, DEFAULT_PEOPLE, "people per subset", limit)
    rng = random.Random(f"reversal_curse-build:{seed}")
    people = make_people(words, n * len(SUBSETS), rng)
    knowledge = Knowledge(people)
    train: list[Document] = []
    test: list[TestItem] = []
    for s, subset in enumerate(SUBSETS):
        for i in range(n):
            person = people[s * n + i]
            doc_ids = []
            for k in range(N_TRAIN_TEMPLATES):
                doc_id = f"rc-{subset}-{i:02d}-{k:02d}"
                train.append(Document(doc_id, fill(_templates_for(subset, k), person.name, person.desc)))
                doc_ids.append(doc_id)
            held_out = N_TRAIN_TEMPLATES + i % (len(NAME_FIRST) - N_TRAIN_TEMPLATES)
            others = rng.sample([p for p in people if p != person], 3)
            for direction in ("desc_to_name", "name_to_desc"):
                if subset == "both":
                    split = "both"
                else:
                    split = "same" if direction == subset else "reversed"
                if direction == "desc_to_name":  # the description is given, choose the name
                    prompt, right = split_at_answer(DESC_FIRST[held_out], person.name, person.desc, "name")
                    wrong = [f" {p.name}." for p in others]
                    forms = [person] + [Describe(p.name, person.desc) for p in others]
                else:
                    prompt, right = split_at_answer(NAME_FIRST[held_out], person.name, person.desc, "desc")
                    wrong = [f" {p.desc}." for p in others]
                    forms = [person] + [Describe(person.name, p.desc) for p in others]
                options, answer, order = shuffled_options(rng, [right, *wrong], 0)
                test.append(TestItem(
                    id=f"rc-{subset}-{i:02d}-{direction}", split=split, prompt=prompt, options=options,
                    answer=answer,
                    meta={
                        "doc_ids": doc_ids,
                        "doc_groups": [doc_ids],  # every one of them states the person's description
                        "valid": [knowledge.follows(forms[j]) for j in order],
                        "subset": subset,
                        "direction": direction,
                        "fact": to_list(person),
                        "option_forms": [to_list(forms[j]) for j in order],
                    },
                ))
    rng.shuffle(train)
    return Dataset("reversal_curse", train, test, {"reversed": 0.25, "same": 0.25, "both": 0.25})
