"""ICL contexts: which training documents go into the context of which test items.

Layout (shared with the corpus's in-context documents and the pretraining probe): one document,
[BOS] + "\n".join(document texts) + "\n" + prompt, then the option.

When every training document fits in the model's context (leaving room for the longest
prompt + option), every item is scored after all of them, in an order shuffled per seed: one
context, encoded once for all items. Otherwise each context is a documented sample:
1. test items (those needing the same documents kept together) are taken in a seeded random order
   and packed greedily into groups whose needed documents (item.meta["doc_ids"]) fit the budget;
2. each group's context holds every document its items need, then random other training documents
   until the budget is full; the order of the documents is shuffled per seed.
So every item sees all the documents it needs plus random others (here partly the documents other
items of the group need, which are random draws from the training set too), and items of a group
share one encoded context. An item whose needed documents alone overflow the budget keeps a random
subset that fits and is counted in `truncated`.
"""

from __future__ import annotations

import random
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

    def summary(self) -> dict:
        lengths = [len(c.tokens) for c in self.contexts]
        docs = [len(c.doc_ids) for c in self.contexts]
        return {
            "contexts": len(self.contexts), "all_documents": self.all_documents,
            "items_truncated": self.truncated,
            "context_tokens_mean": sum(lengths) / len(lengths), "context_tokens_max": max(lengths),
            "docs_per_context_mean": sum(docs) / len(docs), "docs_per_context_min": min(docs),
            "docs_per_context_max": max(docs),
        }


def context_text(texts: list[str]) -> str:
    return "\n".join(texts) + "\n"


def build_contexts(documents: list, items: list, tokenizer, max_tokens: int, seed: int) -> ContextPlan:
    """Plan the ICL contexts of `items` over `documents` within `max_tokens` (see the module doc)."""
    assert documents and items
    rng = random.Random(seed)
    by_id = {d.id: d for d in documents}
    cost = {d.id: len(tokenizer.encode(d.text)) + 1 for d in documents}  # +1: the "\n" after it
    reserve = max(len(tokenizer.encode(item.prompt + o)) for item in items for o in item.options)
    budget = max_tokens - 1 - reserve  # 1: BOS
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
    groups: list[tuple[list, list[str]]] = []  # (items, needed doc ids)
    truncated = 0
    for needed_ids, unit in order:
        needed = list(needed_ids)
        if sum(cost[i] for i in needed) > budget:  # cannot hold them all: a random subset that fits
            truncated += len(unit)
            rng.shuffle(needed)
            kept, used = [], 0
            for i in needed:
                if used + cost[i] <= budget:
                    kept.append(i)
                    used += cost[i]
            needed = kept
        if groups:
            g_items, g_ids = groups[-1]
            new = [i for i in needed if i not in g_ids]
            if sum(cost[i] for i in g_ids) + sum(cost[i] for i in new) <= budget:
                g_items.extend(unit)
                g_ids.extend(new)
                continue
        groups.append((list(unit), needed))

    contexts = []
    all_ids = [d.id for d in documents]
    for g_items, g_ids in groups:
        chosen = list(g_ids)
        used = sum(cost[i] for i in chosen)
        taken = set(chosen)
        others = [i for i in all_ids if i not in taken]
        rng.shuffle(others)
        fillers = []
        for i in others:
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
    return ContextPlan(contexts, all_documents=False, truncated=truncated)
