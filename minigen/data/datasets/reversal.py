"""reversal: comparison facts over new words; the test asks for the reversed statement.

Each fact ("femp are more dangerous than glon") appears in ARTICLES training documents with
different context prefixes and templates. Split "reversal": prompt "glon are", options the correct
reversal (" less dangerous than femp.") and the contradictory one (" more dangerous than femp.").
Split "train": the same two-way choice in the trained direction ("femp are" ...), to check that the
facts themselves were learned.
"""

from __future__ import annotations

import random

from minigen.data.datasets import Dataset, Document, TestItem, resolve_size
from minigen.data.datasets.common import eval_words, shuffled_options
from minigen.data.english import ADJECTIVES, PREFIXES
from minigen.data.logic import Compare, Knowledge, contradict, reverse, to_list
from minigen.data.templates import COMPARE_TEMPLATES, comparison_prompt, render

DEFAULT_FACTS = 100
ARTICLES = 10


def _item(item_id: str, split: str, fact: Compare, correct: Compare, wrong: Compare,
          doc_ids: list[str], rng: random.Random) -> TestItem:
    prompt, right = comparison_prompt(correct)
    prompt_wrong, wrong_text = comparison_prompt(wrong)
    assert prompt == prompt_wrong
    forms = [correct, wrong]
    options, answer, order = shuffled_options(rng, [right, wrong_text], 0)
    knowledge = Knowledge([fact])
    return TestItem(
        id=item_id, split=split, prompt=prompt, options=options, answer=answer,
        meta={
            "doc_ids": doc_ids,
            "doc_groups": [doc_ids],  # the ARTICLES all state the one fact
            "valid": [knowledge.follows(forms[i]) for i in order],
            "fact": to_list(fact),
            "option_forms": [to_list(forms[i]) for i in order],
        },
    )


def build(seed: int = 0, lexicon_seed: int = 0, size=None, words: str = "test") -> Dataset:
    words = eval_words("reversal", seed, lexicon_seed, words)
    n = resolve_size("reversal", size, DEFAULT_FACTS, "facts", len(words) // 2)
    rng = random.Random(f"reversal-build:{seed}")
    dims = [a for a, _, _ in ADJECTIVES]
    rng.shuffle(dims)
    train: list[Document] = []
    test: list[TestItem] = []
    same_direction: list[TestItem] = []
    for i in range(n):
        fact = Compare(words[2 * i], dims[i % len(dims)], rng.random() < 0.5, words[2 * i + 1])
        prefixes = rng.sample(range(len(PREFIXES)), min(ARTICLES, len(PREFIXES)))
        doc_ids = []
        for k in range(ARTICLES):
            variant = 0 if k % 2 == 0 else rng.randrange(len(COMPARE_TEMPLATES))
            doc_id = f"reversal-{i:03d}-{k}"
            train.append(Document(doc_id, render(fact, variant, prefixes[k % len(prefixes)])))
            doc_ids.append(doc_id)
        item_id = f"reversal-{i:03d}"
        test.append(_item(item_id, "reversal", fact, reverse(fact), contradict(fact), doc_ids, rng))
        flipped = Compare(fact.a, fact.adj, not fact.more, fact.b)
        same_direction.append(_item(f"reversal-{i:03d}-same", "train", fact, fact, flipped, doc_ids, rng))
    rng.shuffle(train)
    return Dataset("reversal", train, test + same_direction, {"reversal": 0.5, "train": 0.5})
