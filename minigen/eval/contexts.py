"""ICL contexts: which training documents go into the context of which test items.

Layout (shared with the corpus's in-context documents and the pretraining probe): one document,
[BOS] + "\n".join(document texts) + "\n" + prompt, then the option.

When every training document fits in the model's context (leaving room for the longest
prompt + option), every item is scored after all of them, in an order shuffled per seed: one
context, encoded once for all items. Otherwise each context is a documented sample:
0. an item needs its documents (item.meta["doc_ids"]). Of documents restating one fact
   (item.meta["doc_groups"]: a reversal fact's 10 articles, a person's 30 documents) it needs
   `restatements` of them, drawn per seed (0, the default: all; fewer when the distractors'
   documents, below, would not fit beside them). With all 10 of its articles a reversal fact fills
   most of a tiny model's context: every context is one fact, its restatements and a few others.
   With 3, a context holds five facts, more like the paper's context (the whole dataset), one
   encoding serves all their items, and finding the asked fact among them is harder;
1. test items (those needing the same documents kept together) are taken in a seeded random order
   and packed greedily into groups whose needed documents fit the budget;
2. each group's context holds every document its items need, then random other training documents
   until the budget is full; the order of the documents is shuffled per seed.
So every item sees all the documents it needs plus random others (here partly the documents other
items of the group need, which are random draws from the training set too), and items of a group
share one encoded context. An item whose needed documents alone overflow the budget keeps a random
subset that fits and is counted in `truncated`.

Options are balanced in a sampled context. The documents an item needs mention its answer (a name,
a category, a property); left alone, a sample would hold them and rarely a document that mentions a
distractor, and "pick the option that appears in the context" would pass for in-context reasoning
(on reversal_curse it answered 89% of the reversed questions). So each distractor gets documents
that mention it (its words that no other option has, all of them in one document) until it is in
as many context documents as the answer; when that does not fit, fewer of the answer's documents
are kept (the item then counts as truncated). Items still left with the answer in more documents
than a distractor (no room, or too few documents mention the distractor) are counted in
`unbalanced`, and `minigen compare` reports ICL accuracy without them beside the full figure.
Options that differ only in order (syllogism) or in words of the task itself, found in a third of
all documents or more ("more" / "less" in reversals), need nothing.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field


@dataclass
class Context:
    doc_ids: list[str]  # documents in context order
    text: str  # "\n".join(document texts) + "\n" (the prompt follows)
    tokens: list[int]  # [BOS] + encode(text)
    items: list = field(default_factory=list)  # test items scored in this context


@dataclass
class ContextPlan:
    contexts: list[Context]
    all_documents: bool  # True when every training document is in every context
    truncated: int  # items whose needed documents did not all fit
    unbalanced_ids: set[str] = field(default_factory=set)  # items whose answer is in more context
    # documents than one of their distractors
    truncated_ids: set[str] = field(default_factory=set)  # the `truncated` items

    @property
    def unbalanced(self) -> int:
        return len(self.unbalanced_ids)

    def summary(self) -> dict:
        lengths = [len(c.tokens) for c in self.contexts]
        docs = [len(c.doc_ids) for c in self.contexts]
        return {
            "contexts": len(self.contexts), "all_documents": self.all_documents,
            "items_truncated": self.truncated, "items_unbalanced": self.unbalanced,
            "context_tokens_mean": sum(lengths) / len(lengths), "context_tokens_max": max(lengths),
            "docs_per_context_mean": sum(docs) / len(docs), "docs_per_context_min": min(docs),
            "docs_per_context_max": max(docs),
        }


def context_text(texts: list[str]) -> str:
    return "\n".join(texts) + "\n"


def words(text: str) -> frozenset[str]:
    return frozenset(re.findall(r"[a-z]+", text.lower()))


def option_keys(item) -> list[frozenset[str]]:
    """Per option, its words that no other option of the item has (empty when the options only differ
    in order, as in syllogisms). A document mentions an option when it contains all of them."""
    sets = [words(o) for o in item.options]
    return [s - frozenset().union(*(t for j, t in enumerate(sets) if j != i)) for i, s in enumerate(sets)]


class _Mentions:
    """Which training documents mention which option keys."""

    def __init__(self, documents: list):
        self.words = {d.id: words(d.text) for d in documents}
        self.index: dict[str, list[str]] = {}
        self._support: dict[frozenset[str], list[str]] = {}
        for d in documents:
            for w in self.words[d.id]:
                self.index.setdefault(w, []).append(d.id)

    def mentions(self, doc_id: str, key: frozenset[str]) -> bool:
        return bool(key) and key <= self.words[doc_id]

    def count(self, doc_ids, key: frozenset[str]) -> int:
        return sum(self.mentions(i, key) for i in doc_ids)

    def support(self, key: frozenset[str]) -> list[str]:
        if key not in self._support:
            rarest = min(key, key=lambda w: len(self.index.get(w, ())))
            self._support[key] = [i for i in self.index.get(rarest, ()) if key <= self.words[i]]
        return self._support[key]

    def common(self, key: frozenset[str]) -> bool:
        return bool(key) and 3 * len(self.support(key)) >= len(self.words)


def _pairs(unit: list, mentions: _Mentions) -> list[tuple[frozenset[str], frozenset[str]]]:
    """(answer key, distractor key) of every item in a unit whose options name different things
    (names, categories, properties). A key in a third of all documents or more is a word of the task
    itself ("more" / "less" in reversals): which one the documents use is what the question tests."""
    out = []
    for item in unit:
        keys = [frozenset() if mentions.common(k) else k for k in option_keys(item)]
        answer = keys[item.answer]
        out += [(answer, k) for j, k in enumerate(keys) if j != item.answer and answer and k]
    return list(dict.fromkeys(out))


def _balanced(needed: list[str], pairs, mentions: _Mentions, cost: dict, room: int,
              rng: random.Random) -> list[str]:
    """needed + documents that mention each distractor, until it is in as many documents as its
    answer or the added documents would exceed `room` tokens."""
    chosen = list(needed)
    for answer, distractor in pairs:
        deficit = mentions.count(chosen, answer) - mentions.count(chosen, distractor)
        taken = set(chosen)
        pool = [i for i in mentions.support(distractor)
                if i not in taken and not mentions.mentions(i, answer)]
        rng.shuffle(pool)
        for i in pool:
            if deficit <= 0:
                break
            if cost[i] <= room:
                chosen.append(i)
                room -= cost[i]
                deficit -= 1
    return chosen


def _leaks(doc_ids: list[str], pairs, mentions: _Mentions) -> bool:
    """Whether some answer is in more of these documents than one of its distractors."""
    return any(mentions.count(doc_ids, a) > mentions.count(doc_ids, d) for a, d in pairs)


def _mentions_any(doc_ids: list[str], pairs, mentions: _Mentions) -> bool:
    keys = {k for pair in pairs for k in pair}
    return any(mentions.mentions(i, k) for i in doc_ids for k in keys)


def _fit_balanced(needed: list[str], pairs, mentions: _Mentions, cost: dict, budget: int,
                  rng: random.Random) -> tuple[list[str], bool]:
    """Needed documents plus the distractors' documents. A needed set that fits is kept whole (a
    needed document may hold a link of the inference) and balanced as far as the room allows. One
    that overflows would be cut anyway: keep fewer of its answer-mentioning documents (redundant
    restatements, as in reversal_curse) until a balanced set fits. Returns (documents, truncated)."""
    used = sum(cost[i] for i in needed)
    if used <= budget:
        return _balanced(needed, pairs, mentions, cost, budget - used, rng), False
    answers = {a for a, _ in pairs}
    core = [i for i in needed if not any(mentions.mentions(i, a) for a in answers)]
    about = [i for i in needed if i not in set(core)]
    rng.shuffle(about)
    for keep in range(len(about), 0, -1):
        kept = core + about[:keep]
        room = budget - sum(cost[i] for i in kept)
        if room < 0:
            continue
        chosen = _balanced(kept, pairs, mentions, cost, room, rng)
        if not _leaks(chosen, pairs, mentions):
            return chosen, True
    return needed, True  # cut below as before


def _restated(needed_ids: tuple[str, ...], item, restatements: int, rng: random.Random) -> list[str]:
    """The needed documents, with `restatements` of each group restating one fact (0: all)."""
    dropped: set[str] = set()
    for group in item.meta.get("doc_groups", []) if restatements else []:
        if len(group) > restatements:
            dropped.update(set(group) - set(rng.sample(list(group), restatements)))
    return [i for i in needed_ids if i not in dropped]


def _random_order(ids: list, rng: random.Random):
    """`ids` in a uniformly random order, drawn lazily (Fisher-Yates): a context takes a few fillers
    from thousands of documents, so shuffling them all per context would dominate the planning."""
    for j in range(len(ids)):
        k = rng.randrange(j, len(ids))
        ids[j], ids[k] = ids[k], ids[j]
        yield ids[j]


def document_budget(items: list, tokenizer, max_tokens: int) -> int:
    """Tokens left for documents in a context of `max_tokens` once BOS and the longest prompt + option
    of `items` have their room (build_contexts needs it to be positive)."""
    reserve = max(len(tokenizer.encode(item.prompt + o)) for item in items for o in item.options)
    return max_tokens - 1 - reserve  # 1: BOS


def build_contexts(documents: list, items: list, tokenizer, max_tokens: int, seed: int,
                   restatements: int = 0) -> ContextPlan:
    """Plan the ICL contexts of `items` over `documents` within `max_tokens` (see the module doc)."""
    assert documents and items
    rng = random.Random(seed)
    by_id = {d.id: d for d in documents}
    cost = {d.id: len(tokenizer.encode(d.text)) + 1 for d in documents}  # +1: the "\n" after it
    budget = document_budget(items, tokenizer, max_tokens)
    assert budget > 0, f"a context of {max_tokens} tokens leaves no room for documents"

    def make(ids: list[str], group: list) -> Context:
        ids = list(ids)
        rng.shuffle(ids)
        text = context_text([by_id[i].text for i in ids])
        return Context(ids, text, [tokenizer.bos_id] + tokenizer.encode(text), list(group))

    if sum(cost.values()) <= budget:
        ctx = make([d.id for d in documents], items)
        if len(ctx.tokens) - 1 <= budget:
            return ContextPlan([ctx], all_documents=True, truncated=0)

    # Items that need the same documents (e.g. a fact's reversal and same-direction questions) move
    # together, so they always share a context.
    units: dict[tuple[str, ...], list] = {}
    for item in items:
        units.setdefault(tuple(dict.fromkeys(item.meta["doc_ids"])), []).append(item)
    order = list(units.items())
    rng.shuffle(order)
    groups: list[tuple[list, list[str], list]] = []  # (items, needed doc ids, their option pairs)
    truncated, truncated_ids = 0, set()
    mentions = _Mentions(documents)
    for needed_ids, unit in order:
        pairs = _pairs(unit, mentions)
        # Fewer restatements when the distractors' documents do not fit beside them.
        for k in range(restatements, 0, -1) if restatements and unit[0].meta.get("doc_groups") else [0]:
            needed, dropped = _fit_balanced(_restated(needed_ids, unit[0], k, rng), pairs, mentions, cost,
                                            budget, rng)
            if not _leaks(needed, pairs, mentions):
                break
        overflow = sum(cost[i] for i in needed) > budget
        if dropped or overflow:
            truncated += len(unit)
            truncated_ids.update(item.id for item in unit)
        if overflow:  # cannot hold them all: a random subset that fits
            rng.shuffle(needed)
            kept, used = [], 0
            for i in needed:
                if used + cost[i] <= budget:
                    kept.append(i)
                    used += cost[i]
            needed = kept
        if groups:
            g_items, g_ids, g_pairs = groups[-1]
            new = [i for i in needed if i not in g_ids]
            # Merge only when neither side's documents mention the other side's options: every item
            # keeps the option counts it was balanced to.
            if sum(cost[i] for i in g_ids) + sum(cost[i] for i in new) <= budget and \
                    not _mentions_any(new, g_pairs, mentions) and not _mentions_any(g_ids, pairs, mentions):
                g_items.extend(unit)
                g_ids.extend(new)
                g_pairs.extend(pairs)
                continue
        groups.append((list(unit), needed, list(pairs)))

    contexts = []
    all_ids = [d.id for d in documents]
    smallest = min(cost.values())
    for g_items, g_ids, g_pairs in groups:
        chosen = list(g_ids)
        used = sum(cost[i] for i in chosen)
        # Fillers mention no option: the balance stays.
        excluded = set(chosen).union(*(mentions.support(k) for pair in g_pairs for k in pair if k))
        fillers = []
        for i in _random_order([i for i in all_ids if i not in excluded], rng):
            if budget - used < smallest:
                break
            if used + cost[i] <= budget:
                fillers.append(i)
                used += cost[i]
        ctx = make(chosen + fillers, g_items)
        # Joint tokenization can differ slightly from the sum of per-document lengths.
        while len(ctx.tokens) - 1 > budget and fillers:
            fillers.pop()
            ctx = make(chosen + fillers, g_items)
        assert len(ctx.tokens) - 1 <= budget, "needed documents overflow the context budget"
        contexts.append(ctx)
    unbalanced = {item.id for ctx in contexts for item in ctx.items
                  if _leaks(ctx.doc_ids, _pairs([item], mentions), mentions)}
    return ContextPlan(contexts, all_documents=False, truncated=truncated, unbalanced_ids=unbalanced,
                       truncated_ids=truncated_ids)
