"""semantic: a nonsense-named is-a hierarchy with properties and relations, in short articles.

World: ~110 categories in a forest of depth >= 4; each category (except held-out ones) has 1-6 own
properties (never one its ancestors have, so inherited properties are new information) and some
categories are related ("glon eat femp"). Training documents are articles of 4-20 sentences about a
category and its neighbourhood, with context prefixes, some in question-answer form. Is-a facts and
properties are never written in the canonical template (variant 0) that most test prompts use;
relations are, in the active voice only.

Test splits (4 options each; distractors are hard: words that answer other items of the same kind in
the split, drawn in proportion to how often they do, and checked by the engine not to follow, so a
preference for a word that needs no context is worth little; no option is the item's own subject):
  train            a trained fact, same direction, asked in the canonical template the articles never
                   use for it ("glon have" -> " wings.", "All glon are" -> parent, where the articles
                   say "glon usually have wings", "Every glon is a ..."): a paraphrase check
  train_verbatim   the same facts (same options, same answer) asked in the template the articles
                   themselves write the fact in, without context prefix: the prompt is the article
                   sentence's own words up to the answer word ("Every glon is a" -> parent, "glon usually
                   have" -> " wings."), so a model that learned the sentence can complete it: the
                   trained-facts check. Every template the articles use ends with the answer word; a
                   fact whose templates did not would be left out of this split (none is today)
  reversal         "femp are eaten by" -> " glon.", "Some femp are" -> " glon." (from "All glon are femp")
  syllogism        ancestors two or more levels up, and properties inherited from any ancestor
  category_holdout every inherited property of a held-out category, whose only trained fact is its parent
"""

from __future__ import annotations

import copy
import random
from bisect import bisect
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate

from minigen.data.datasets import Dataset, Document, TestItem, resolve_size
from minigen.data.datasets.common import eval_words, shuffled_options
from minigen.data.doctypes.qa import property_question
from minigen.data.english import PREFIXES, PROPERTY_ADJECTIVES, PROPERTY_NOUNS, PROPERTY_VERBS, RELATION_VERBS
from minigen.data.logic import Form, Knowledge, Prop, Quant, Relation, to_list
from minigen.data.templates import body, n_variants, render
from minigen.errors import UserError

DEFAULT_CATEGORIES = 110
ARTICLES_PER_CATEGORY = 20
MAX_DEPTH = 4
HOLDOUT_SHARE = 0.1
N_OPTIONS = 4
_ALL_PROPS = [("are", v) for v in PROPERTY_ADJECTIVES] + [("have", v) for v in PROPERTY_NOUNS] + [
    ("can", v) for v in PROPERTY_VERBS]


class World:
    """The hierarchy, its facts, and what follows from them."""

    def __init__(self, cats: list[str], rng: random.Random):
        self.parent: dict[str, str | None] = {}
        depth: dict[str, int] = {}
        n_roots = max(1, len(cats) // 50)
        for i, c in enumerate(cats):
            if i < n_roots:
                self.parent[c], depth[c] = None, 0
                continue
            if i <= n_roots + MAX_DEPTH - 1:  # one chain reaches the full depth
                p = cats[i - 1] if i > n_roots else cats[0]
            else:
                p = rng.choice([x for x in cats[:i] if depth[x] < MAX_DEPTH])
            self.parent[c], depth[c] = p, depth[p] + 1
        self.depth = depth
        self.children: dict[str, list[str]] = {c: [] for c in cats}
        for c, p in self.parent.items():
            if p is not None:
                self.children[p].append(c)
        leaves = [c for c in cats if not self.children[c] and depth[c] >= 2]
        self.holdout = set(rng.sample(leaves, min(len(leaves), max(1, round(HOLDOUT_SHARE * len(cats))))))
        self.props: dict[str, list[Prop]] = {}
        for c in cats:  # parents come before children in `cats`
            if c in self.holdout:
                self.props[c] = []
                continue
            inherited = {(p.kind, p.value) for a in self.ancestors(c) for p in self.props[a]}
            free = [kv for kv in _ALL_PROPS if kv not in inherited]
            self.props[c] = [Prop(c, k, v) for k, v in rng.sample(free, rng.randint(1, 6))]
        self.relations: list[Relation] = []
        open_cats = [c for c in cats if c not in self.holdout]
        for _ in range(len(cats) // 2):
            a, b = rng.sample(open_cats, 2)
            if b in self.ancestors(a) or a in self.ancestors(b):
                continue
            self.relations.append(Relation(a, rng.choice(RELATION_VERBS)[0], b))
        self.relations = sorted(set(self.relations), key=to_list)
        self.cats = cats
        self.facts: list[Form] = [Quant("all", c, p) for c, p in self.parent.items() if p is not None]
        self.facts += [p for c in cats for p in self.props[c]] + self.relations
        self.knowledge = Knowledge(self.facts)

    def ancestors(self, c: str) -> list[str]:
        out = []
        while self.parent[c] is not None:
            c = self.parent[c]
            out.append(c)
        return out

    def chain(self, c: str, ancestor: str) -> list[Form]:
        """The is-a facts from c up to ancestor."""
        facts, x = [], c
        while x != ancestor:
            facts.append(Quant("all", x, self.parent[x]))
            x = self.parent[x]
        return facts

    def own_facts(self, c: str) -> list[Form]:
        facts: list[Form] = [Quant("all", c, self.parent[c])] if self.parent[c] else []
        return facts + self.props[c] + [r for r in self.relations if r.s == c]


def _sentence(form: Form, rng: random.Random) -> tuple[str, int]:
    """A trained sentence and its template variant: never the canonical template (variant 0), which
    the test prompts use, so the "train" split asks for trained facts *rephrased*; relations only in
    the active voice."""
    variant = 0 if isinstance(form, Relation) else 1 + rng.randrange(n_variants(form) - 1)
    return render(form, variant, rng.randrange(1, len(PREFIXES)) if rng.random() < 0.25 else 0), variant


def _qa(form: Form) -> str | None:
    return property_question(form) if isinstance(form, Prop) and form.kind != "are" else None


def _articles(world: World, rng: random.Random
              ) -> tuple[list[Document], dict[Form, list[str]], dict[Form, Counter]]:
    """Articles about each category; returns them, per fact the articles that state it, and per fact
    how often each template variant states it (question-answer lines are not counted)."""
    docs, where, variants = [], {}, {}
    for c in world.cats:
        own = world.own_facts(c)
        near = list(own)
        if world.parent[c]:
            near += world.own_facts(world.parent[c])
        near += [Quant("all", k, c) for k in world.children[c]]
        near += [r for r in world.relations if r.o == c]
        near = list(dict.fromkeys(near))
        for k in range(ARTICLES_PER_CATEGORY):
            size = rng.randint(4, 20)
            chosen = list(own) if k == 0 else []  # the first article states every own fact
            # Distinct facts first; an article longer than the neighbourhood repeats some (rephrased).
            chosen += rng.sample(near, min(len(near), max(0, size - len(chosen))))
            chosen += [rng.choice(near) for _ in range(max(0, size - len(chosen)))]
            rng.shuffle(chosen)
            qa_style = rng.random() < 0.2
            lines = []
            doc_id = f"semantic-{c}-{k:02d}"
            for f in chosen:
                qa = _qa(f) if qa_style else None
                if qa:
                    lines.append(qa)
                else:
                    text, variant = _sentence(f, rng)
                    lines.append(text)
                    variants.setdefault(f, Counter())[variant] += 1
                    where.setdefault(f, [])
                    if doc_id not in where[f]:
                        where[f].append(doc_id)
            docs.append(Document(doc_id, "\n".join(lines)))
    return docs, where, variants


@dataclass
class _Spec:
    """A test item before its distractors are drawn: its answer is the last word of `text`."""

    item_id: str
    split: str
    form: Form
    text: str
    family: tuple  # items whose options are words of one kind: they share distractors
    make_form: Callable[[str], Form]
    proof: list

    @property
    def answer_word(self) -> str:
        return self.text.rsplit(" ", 1)[1][:-1]


def _subject(form: Form) -> str:
    """The category an item is about: the word of its prompt that is not asked for."""
    if isinstance(form, Relation):
        return form.o  # "femp are eaten by" -> the eater
    return form.s


def _prop_spec(item_id, split, prop: Prop, proof) -> _Spec:
    return _Spec(item_id, split, prop, render(prop), (split, prop.kind),
                 lambda v, prop=prop: Prop(prop.s, prop.kind, v), proof)


def _draw(rng: random.Random, pool: list[str], weights: Counter, skip: str) -> str:
    """One word of `pool` other than `skip`, with probability proportional to its weight.

    One uniform number per draw, laid over the whole pool first, as `random.choices` lays it: when it
    lands on a word other than `skip` that word is the draw (so items whose distractors never were
    `skip` keep them exactly), and when it lands on `skip` its position within that word's share is
    laid over the other words. Each word then has weight / (total - weight of `skip`), as if `skip`
    had never been in the pool.
    """
    cum = list(accumulate(weights[w] for w in pool))
    u = rng.random() * cum[-1]
    k = bisect(cum, u, 0, len(pool) - 1)
    if pool[k] != skip:
        return pool[k]
    low = cum[k - 1] if k else 0
    share = (u - low) / (cum[k] - low)
    rest = [w for w in pool if w != skip]
    cum = list(accumulate(weights[w] for w in rest))
    return rest[bisect(cum, share * cum[-1], 0, len(rest) - 1)]


def _item(spec: _Spec, weights: Counter, world: World, where, rng: random.Random) -> TestItem | None:
    """A 4-way item: distractors are words that answer other items of the same family (drawn in
    proportion to how often they do) and do not follow. So a word is a distractor about three times
    as often as it is an answer, and a preference for a word, which a model can have without any
    context, is worth little: the contamination check (`base`) stays near chance."""
    prompt = spec.text.rsplit(" ", 1)[0]
    follows = world.knowledge.follows
    wrong = sorted(w for w in weights if w != spec.answer_word and not follows(spec.make_form(w)))
    # Never the subject itself ("All dift are" -> " dift."): the closure does not derive "X are X", so
    # it would be a distractor marked invalid that is true of every category.
    subject = _subject(spec.form)
    if sum(w != subject for w in wrong) < N_OPTIONS - 1:
        return None
    picked: list[str] = []
    for _ in range(N_OPTIONS - 1):  # weighted sampling without replacement
        w = _draw(rng, wrong, weights, skip=subject)
        picked.append(w)
        wrong.remove(w)
    words = [spec.answer_word, *picked]
    forms = [spec.make_form(w) for w in words]
    options, answer, order = shuffled_options(rng, [f" {w}." for w in words], 0)
    return TestItem(
        id=spec.item_id, split=spec.split, prompt=prompt, options=options, answer=answer,
        meta={
            "doc_ids": sorted({where[f][0] for f in spec.proof}),
            "valid": [world.knowledge.follows(forms[j]) for j in order],
            "form": to_list(spec.form),
            "option_forms": [to_list(forms[j]) for j in order],
        },
    )


def _verbatim(spec: _Spec, item: TestItem, variants: dict[Form, Counter]) -> TestItem | None:
    """The `train` item asked in the template the articles state its fact in (the most used one when
    several are, the lower variant on ties), cut before the answer word; the same options and answer.
    None when no template the articles use for the fact ends with the answer word."""
    ranked = sorted(variants[spec.form].items(), key=lambda kv: (-kv[1], kv[0]))
    for variant, _ in ranked:
        sentence = body(spec.form, variant)
        if sentence.endswith(" " + spec.answer_word):
            prompt = sentence[: -len(spec.answer_word) - 1]
            return TestItem(
                id=item.id.replace("sem-train-", "sem-train_verbatim-", 1), split="train_verbatim",
                prompt=prompt, options=list(item.options), answer=item.answer,
                meta={**copy.deepcopy(item.meta), "variant": variant},
            )
    return None


def _least_used(rng: random.Random, choices: list, used: Counter, word) -> object:
    """A random choice among those whose answer word has been used least so far (spreads answers)."""
    low = min(used[word(x)] for x in choices)
    pick = rng.choice([x for x in choices if used[word(x)] == low])
    used[word(pick)] += 1
    return pick


def build(seed: int = 0, lexicon_seed: int = 0, size=None, words: str = "test") -> Dataset:
    words = eval_words("semantic", seed, lexicon_seed, words)
    n = resolve_size("semantic", size, DEFAULT_CATEGORIES, "categories", len(words))
    if n < 2 * MAX_DEPTH:
        raise UserError(f"semantic: size {size!r} gives {n} categories; a hierarchy of depth {MAX_DEPTH} "
                        f"needs at least {2 * MAX_DEPTH}")
    rng = random.Random(f"semantic-build:{seed}")
    world = World(words[:n], rng)
    train, where, variants = _articles(world, rng)
    specs: list[_Spec] = []
    used: Counter = Counter()
    for c in world.cats:
        p = world.parent[c]
        if c in world.holdout:
            for a in world.ancestors(c):
                for prop in world.props[a]:
                    inherited = Prop(c, prop.kind, prop.value)
                    specs.append(_prop_spec(f"sem-holdout-{c}-{prop.value}", "category_holdout", inherited,
                                            world.chain(c, a) + [prop]))
            continue
        own = world.props[c][0]
        specs.append(_prop_spec(f"sem-train-{c}-prop", "train", own, [own]))
        if p:
            f = Quant("all", c, p)
            specs.append(_Spec(f"sem-train-{c}-parent", "train", f, render(f), ("train", "category"),
                               lambda w, c=c: Quant("all", c, w), [f]))
            some = Quant("some", p, c)
            specs.append(_Spec(f"sem-reversal-{c}-some", "reversal", some, render(some),
                               ("reversal", "category"), lambda w, p=p: Quant("some", p, w), [f]))
        ancestors = world.ancestors(c)
        if len(ancestors) >= 2:
            a = _least_used(rng, ancestors[1:], used, lambda x: ("ancestor", x))
            f = Quant("all", c, a)
            specs.append(_Spec(f"sem-syllogism-{c}-ancestor", "syllogism", f, render(f),
                               ("syllogism", "category"), lambda w, c=c: Quant("all", c, w),
                               world.chain(c, a)))
        inheritable = [(a, q) for a in ancestors for q in world.props[a]]
        if inheritable:
            a, q = _least_used(rng, inheritable, used, lambda x: ("inherit", x[1].value))
            specs.append(_prop_spec(f"sem-syllogism-{c}-inherit", "syllogism", Prop(c, q.kind, q.value),
                                    world.chain(c, a) + [q]))
    for i, r in enumerate(world.relations):
        specs.append(_Spec(f"sem-reversal-rel-{i:03d}", "reversal", r, body(r, 1) + ".",
                           ("reversal", "relation"), lambda w, r=r: Relation(w, r.verb, r.o), [r]))
    weights: dict[tuple, Counter] = {}
    for spec in specs:
        weights.setdefault(spec.family, Counter())[spec.answer_word] += 1
    built = [(spec, _item(spec, weights[spec.family], world, where, rng)) for spec in specs]
    built = [(spec, t) for spec, t in built if t is not None]
    # A word that follows for every item of its family can never be a distractor: its items would be
    # answered by a preference for the word alone. They are left out.
    distractors: dict[tuple, set[str]] = {}
    for spec, t in built:
        distractors.setdefault(spec.family, set()).update(
            o[1:-1] for k, o in enumerate(t.options) if k != t.answer)
    kept = [(spec, t) for spec, t in built if spec.answer_word in distractors[spec.family]]
    test = [t for _, t in kept]
    verbatim = [_verbatim(spec, t, variants) for spec, t in kept if spec.split == "train"]
    test += [v for v in verbatim if v is not None]
    order = {"train": 0, "reversal": 1, "syllogism": 2, "category_holdout": 3, "train_verbatim": 4}
    test.sort(key=lambda t: order[t.split])
    rng.shuffle(train)
    return Dataset("semantic", train, test, {s: 1 / N_OPTIONS for s in order})

