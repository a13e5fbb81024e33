"""Cheap heuristics: what an item's surface gives away without reasoning, on the items and contexts a
condition sees. An accuracy means something only where it beats the strongest of them.

Each heuristic scores every option of an item (highest wins; a tie is a uniform guess among the
tied options, so its credit is the share of them that are accepted) or does not apply (None):
- `atmosphere` (syllogisms): the atmosphere rule on the premises (`syllogism.atmosphere_choice`);
- `some` (syllogisms): a "Some" conclusion whatever the premises (the weakest claim, right on every
  anti_atmosphere item: a model that ignores the premises and prefers "Some" gets that split right);
- `flip` (reversal): the option whose comparative is the opposite of the trained fact's (every
  reversal right, every same-direction question wrong);
- `copy` and `outermost` (process): the option nearest (in symbols) the expression itself, or the
  expression with only its outermost rule applied (`process_logic.closeness`); on exact-match
  generation items, whether that term itself is the answer (`exact`);
- `frequent` (every dataset): the option whose distinguishing words occur in the most training
  documents (what finetuning sees);
- `mentioned` (ICL): the option whose distinguishing words occur in the most context documents;
- `shares_document` (ICL): the option found in the most context documents that also hold a word of
  the prompt (the item's subject).
Distinguishing words are an option's words that no other option of the item has (`option_keys`);
options that differ only in order or in words of the task itself ("more"/"less", in a third of the
documents or more) tie, so these heuristics then score chance.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from minigen.eval.contexts import option_keys, words


@dataclass(frozen=True)
class Heuristic:
    name: str
    in_context: bool  # read each ICL context's documents; otherwise the dataset's training documents
    score: Callable  # (item, documents as word sets, the documents' common words) -> option scores | None
    # exact-match generation items (one option): item -> whether the heuristic's own output is the
    # answer; None: the heuristic does not apply to them
    exact: Callable | None = None


def _atmosphere(item, docs, common):
    if "premises" not in item.meta or len(item.options) != 6:
        return None
    from minigen.data.datasets.syllogism import atmosphere_choice

    pick = atmosphere_choice(item)
    return [float(k == pick) for k in range(len(item.options))]


def _some(item, docs, common):
    if "premises" not in item.meta or len(item.options) != 6:
        return None
    return [float(form[0] == "some") for form in item.meta["option_forms"]]


def _flip(item, docs, common):
    fact, forms = item.meta.get("fact"), item.meta.get("option_forms")
    if not fact or fact[0] != "compare" or not forms:
        return None
    return [float(form[2] != fact[2]) for form in forms]


def _process_goal(item, target: str):
    from minigen.data.process_logic import Rules, outermost_only, to_term

    expression = to_term(item.meta["expression"])
    return expression if target == "copy" else outermost_only(expression, Rules.from_dict(item.meta["rules"]))


def _process(target):
    def score(item, docs, common):
        if "expression" not in item.meta or "rules" not in item.meta:
            return None
        from minigen.data.process_logic import closeness

        return closeness(_process_goal(item, target), item.options)

    return score


def _process_exact(target):
    def exact(item):
        from minigen.data.process_logic import to_term

        return _process_goal(item, target) == to_term(item.meta["answer_term"])

    return exact


def common_words(documents: list[str]) -> frozenset[str]:
    """Words in a third of the dataset's training documents or more: the task's own words ("more",
    "less", "are"), never evidence for one option (counted on the whole training set, as
    `contexts.py` balances contexts, not on one context)."""
    counts: dict[str, int] = {}
    for text in documents:
        for w in words(text):
            counts[w] = counts.get(w, 0) + 1
    return frozenset(w for w, n in counts.items() if 3 * n >= len(documents))


def _mentioned(item, docs, common):
    return [float(sum(bool(k - common) and k - common <= d for d in docs)) for k in option_keys(item)]


def _shares_document(item, docs, common):
    subject = words(item.prompt) - common - frozenset().union(*map(words, item.options))
    if not subject:
        return None
    return _mentioned(item, [d for d in docs if subject & d], common)


HEURISTICS = (
    Heuristic("atmosphere", False, _atmosphere),
    Heuristic("some", False, _some),
    Heuristic("flip", False, _flip),
    Heuristic("copy", False, _process("copy"), _process_exact("copy")),
    Heuristic("outermost", False, _process("outermost"), _process_exact("outermost")),
    Heuristic("frequent", False, _mentioned),
    Heuristic("mentioned", True, _mentioned),
    Heuristic("shares_document", True, _shares_document),
)


def credit(scores: list[float], accepted: list[int]) -> float:
    """Expected accuracy of picking the highest score, ties broken uniformly at random."""
    best = max(scores)
    top = [k for k, s in enumerate(scores) if s == best]
    return sum(k in accepted for k in top) / len(top)


def credits(heuristic: Heuristic, items: list, documents: list[str],
            common: frozenset[str]) -> tuple[dict[str, float], set[str]]:
    """(item id -> expected accuracy of `heuristic` reading `documents` (texts), the ids of the items
    where it prefers some option over another), with `common` the task's own words
    (`common_words` of the training set). Items it does not apply to are left out."""
    from minigen.eval.generation import is_generation

    docs = [words(t) for t in documents]
    out, informative = {}, set()
    for item in items:
        if is_generation(item):
            if heuristic.exact is not None:
                out[item.id] = float(heuristic.exact(item))
                informative.add(item.id)
            continue
        scores = heuristic.score(item, docs, common)
        if scores is not None:
            out[item.id] = credit(scores, item.accepted())
            if len(set(scores)) > 1:
                informative.add(item.id)
    return out, informative
