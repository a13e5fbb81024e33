"""Same-direction questions about the trained facts: a reversal failure only means something if the
facts themselves were learned, so every reversal / syllogism figure has a "train" split beside it.

The data layer already provides them where the dataset defines them (reversal, semantic,
reversal_curse: split "train" / "same"). For syllogisms it does not, so they are built here from the
items' logical forms, the way the reversal dataset asks about a trained comparison ("femp are" ->
" more dangerous than glon."): each premise becomes its own sentence cut before the predicate,
in the template its document used ("All glon are" -> " yomp."; "Every glon is a" -> " yomp."), with
four options: its predicate and three predicates of other items' premises (words the finetuning
data uses just as often; the logic engine confirms they do not follow). Asking in the trained
template measures whether finetuning stored the fact, not whether it transfers to a paraphrase.
"""

from __future__ import annotations

import random

TRAIN_SPLIT = "train"
# Every split that asks the trained facts in the trained direction, the closest to the training text
# first (semantic's `train_verbatim` uses the articles' own template; its `train` is a paraphrase).
TRAINED_SPLITS = ("train_verbatim", TRAIN_SPLIT, "same")


def evaluation_items(dataset, same_direction: bool = True) -> list:
    """The items `minigen compare` scores on `dataset` (and plans its ICL contexts over), in its order:
    the test items, then the same-direction questions (`eval.same_direction`)."""
    return list(dataset.test) + (same_direction_items(dataset) if same_direction else [])


def same_direction_items(dataset) -> list:
    """Extra same-direction items for `dataset` (empty when the dataset has its own)."""
    if any(item.split == TRAIN_SPLIT for item in dataset.test):
        return []
    if dataset.name == "syllogism":
        return premise_questions(dataset.test, {d.id: d.text for d in dataset.train})
    return []


def trained_sentence(premise, document: str) -> str:
    """The sentence of `document` that states `premise` (in whichever template it was written)."""
    from minigen.data.templates import n_variants, render

    lines = set(document.split("\n"))
    for variant in range(n_variants(premise)):
        if render(premise, variant) in lines:
            return render(premise, variant)
    raise AssertionError(f"premise {premise} is not a line of {document!r}")


def premise_questions(items: list, docs: dict[str, str], n_options: int = 4, seed: int = 0) -> list:
    from minigen.data.datasets import TestItem
    from minigen.data.datasets.common import shuffled_options
    from minigen.data.logic import Knowledge, Quant, to_list

    rng = random.Random(f"premise-questions:{seed}")
    predicates = sorted({p for item in items for _, _, p in item.meta["premises"]})
    out = []
    for item in items:
        premises = [Quant(*x) for x in item.meta["premises"]]
        knowledge = Knowledge(premises)
        terms = {w for x in premises for w in (x.s, x.p)}
        pool = [w for w in predicates if w not in terms]
        for k, premise in enumerate(premises):
            others = rng.sample(pool, min(n_options - 1, len(pool)))
            if not others:
                continue
            forms = [premise] + [Quant(premise.q, premise.s, w) for w in others]
            valid = [knowledge.follows(f) for f in forms]
            assert valid == [True] + [False] * len(others)
            text = trained_sentence(premise, docs[item.meta["doc_ids"][0]])
            prompt = text[: text.rindex(" " + premise.p)]
            options, answer, order = shuffled_options(rng, [f" {f.p}." for f in forms], 0)
            out.append(TestItem(
                id=f"{item.id}-premise{k}", split=TRAIN_SPLIT, prompt=prompt, options=options, answer=answer,
                meta={"doc_ids": list(item.meta["doc_ids"]), "valid": [valid[j] for j in order],
                      "fact": to_list(premise), "option_forms": [to_list(forms[j]) for j in order]},
            ))
    return out
