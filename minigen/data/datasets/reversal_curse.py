"""reversal_curse: fictitious people and their descriptions, trained in one order or both.

Three subsets of people: "name_to_desc" (trained only as "Femp Glonski is the inventor of the yomp
trelp"), "desc_to_name" (trained only description first), and "both". Each person appears in 30
training documents, one per training paraphrase template. Test prompts use the 10 held-out
templates, cut before the answer; 4 options: the right name (or description) and 3 others. Splits:
"reversed" (the order never trained), "same" (the trained order) and "both".

The options are counterbalanced: the people of a subset are dealt into groups of 4, and the questions
about a group's people, in one direction, share the group's 4 names (or descriptions) as options, each
the answer once. A preference for some options that ignores the prompt (a name the base model finds
likely) then scores exactly 1 in 4 on each group: `base` sits at chance unless the model knows the
facts, which makes it a sharper contamination check. When a subset's size is not a multiple of 4, the
last 1-3 people take their 3 other options at random from the subset (from all people when a
subset has fewer than 4).
"""

from __future__ import annotations

import random

from minigen.data.datasets import Dataset, Document, TestItem, resolve_size
from minigen.data.datasets.common import eval_words, shuffled_options
from minigen.data.english import NAME_SUFFIXES, PERSON_ROLES
from minigen.data.logic import Describe, Knowledge, to_list
from minigen.data.people_templates import DESC_FIRST, N_TRAIN_TEMPLATES, NAME_FIRST, fill, split_at_answer

DEFAULT_PEOPLE = 30  # per subset, as in the paper: 7 counterbalanced groups and 2 people at random
GROUP = 4  # options per question, and people per counterbalanced group
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


def option_groups(members: list[int], everyone: int, rng: random.Random) -> dict[int, list[int]]:
    """Per person of `members` (indices into all `everyone` people), the people whose names (descriptions)
    are its options, itself first: groups of GROUP members in a random order share one option set; the
    remainder draws its others at random (from the whole dataset when the subset has too few)."""
    order = list(members)
    rng.shuffle(order)
    whole = len(order) - len(order) % GROUP
    out = {}
    for g in range(0, whole, GROUP):
        group = order[g: g + GROUP]
        for i in group:
            out[i] = [i] + [j for j in group if j != i]
    pool = members if len(members) >= GROUP else range(everyone)
    for i in order[whole:]:
        out[i] = [i] + rng.sample([j for j in pool if j != i], GROUP - 1)
    return out


def build(seed: int = 0, lexicon_seed: int = 0, size=None, words: str = "test") -> Dataset:
    words = eval_words("reversal_curse", seed, lexicon_seed, words)
    limit = len(words) // (WORDS_PER_PERSON * len(SUBSETS))
    n = resolve_size("reversal_curse", size, DEFAULT_PEOPLE, "people per subset", limit)
    rng = random.Random(f"reversal_curse-build:{seed}")
    people = make_people(words, n * len(SUBSETS), rng)
    knowledge = Knowledge(people)
    train: list[Document] = []
    test: list[TestItem] = []
    for s, subset in enumerate(SUBSETS):
        groups = option_groups(list(range(s * n, (s + 1) * n)), len(people), rng)
        for i in range(n):
            person = people[s * n + i]
            doc_ids = []
            for k in range(N_TRAIN_TEMPLATES):
                doc_id = f"rc-{subset}-{i:02d}-{k:02d}"
                train.append(Document(doc_id, fill(_templates_for(subset, k), person.name, person.desc)))
                doc_ids.append(doc_id)
            held_out = N_TRAIN_TEMPLATES + i % (len(NAME_FIRST) - N_TRAIN_TEMPLATES)
            others = [people[j] for j in groups[s * n + i][1:]]
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
