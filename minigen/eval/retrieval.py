"""Exact retrieval in context: does a model write the right word from the right line of its context?

The people and syllogism items ask for a word that stands in the context bound to another word of the
same line (a description's name, a premise's predicate); the reversal items never do (their options
are " more" and " less"). So this is measured on its own (docs/log/2026-12-02-exact-retrieval.md):

- `lookup` (scored, 4-way): contexts of FACTS comparison facts ("A are more adj than B.", one per line).
  Each fact is prompted up to "than" in its own direction (`copy`: the answer B ends the prompt's own
  line) and reversed ("B are less adj than", `flip`: the answer A begins that line). The options are
  the answer and 3 other words of the context. Chance .25; the strongest cheap heuristic picks among
  the options that stand in the answer's role (objects for copy, subjects for flip).
- `pair_lookup` (scored, 4-way): the same on key-value lines ("k v", keyval documents' form): a key
  asks for its value (`copy`), a value for its key (`flip`: the shortest reversed lookup).
- `people_lookup` (scored, 4-way): the same on people, each stated in the first template of a random
  order ("Femp Glon is the author of the yomp trelp." or "The author of ... is Femp Glon."), asked in
  the first template of the same order (copy) and of the other (flip: a name from its description, or
  a description from its name); the options are the context's 4 names or descriptions, so a heuristic
  that reads the options alone scores chance. The order heuristic picks among the options whose line
  is in the order the question is not (what documents that restate every person in the other order
  teach): about .46 on flip, .04 on copy. The reversal_curse probe asks the same in paraphrase templates;
  this is the lookup without them.
- `list_copy` (greedy): a line of 6 words, then a newline: the share written back exactly.
- `line_completion` (greedy): FACTS facts, then one fact's first word: the share whose line is written
  exactly (lookup by a word when every line shares the template's words). Chance 0. `line_parts`:
  the same lines, part by part (which of the line's words a model gets right).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from minigen.data.datasets import TestItem
from minigen.data.doctypes.common import canonical, random_compare, random_person
from minigen.data.logic import Describe, reverse
from minigen.data.people_templates import DESC_FIRST, NAME_FIRST, fill
from minigen.data.templates import comparison_prompt
from minigen.inference import generate

FACTS = 4
KINDS = ("copy", "flip")


def _facts(rng: random.Random, words: list[str]):
    """FACTS comparisons over 2 * FACTS distinct words: (the facts, their words)."""
    pool = rng.sample(words, 2 * FACTS)
    return [random_compare(rng, pool[2 * i], pool[2 * i + 1]) for i in range(FACTS)], pool


@dataclass
class Lookup:
    """The lookup items: (context text, its items) per context, and each item's role-heuristic accuracy."""

    contexts: list[tuple[str, list[TestItem]]]
    heuristic: dict[str, float]  # item id -> the role heuristic's expected accuracy on it
    asks: dict[str, str] = field(default_factory=dict)  # people: item id -> "name" or "desc" (what it asks)

    def items(self, kind: str, asks: str | None = None) -> list[TestItem]:
        return [t for _, items in self.contexts for t in items
                if t.split == kind and asks in (None, self.asks.get(t.id))]

    def accuracy(self, correct: dict[str, bool], kind: str, asks: str | None = None) -> float:
        """The share of `kind` items (those asking for `asks` only, if given) answered right (`correct`:
        item id -> whether it was)."""
        items = self.items(kind, asks)
        return sum(correct[t.id] for t in items) / len(items)

    def baseline(self, kind: str, asks: str | None = None) -> float:
        items = self.items(kind, asks)
        return sum(self.heuristic[t.id] for t in items) / len(items)


def _options(rng: random.Random, answer: str, others: list[str]) -> tuple[list[str], int]:
    """The answer and 3 of `others` in a random order, and the answer's index."""
    picks = [answer] + rng.sample(others, 3)
    order = rng.sample(range(4), 4)
    return [picks[i] for i in order], order.index(0)


def lookup(words: list[str], n_contexts: int, seed: int = 0) -> Lookup:
    """`n_contexts` contexts of FACTS facts over `words`, each fact asked both ways (copy, flip)."""
    rng = random.Random(seed)
    contexts, heuristic = [], {}
    for c in range(n_contexts):
        facts, pool = _facts(rng, words)
        contexts.append(compare_context(rng, c, facts, pool, heuristic))
    return Lookup(contexts, heuristic)


def compare_context(rng: random.Random, c: int, facts: list, pool: list[str], heuristic: dict):
    """Context `c` of comparisons `facts` over `pool` (words or phrases) with each fact asked both ways:
    (its text, its items); each item's role-heuristic accuracy goes into `heuristic`."""
    objects, items = {f.b for f in facts}, []
    for j, f in enumerate(facts):
        for kind, q in (("copy", f), ("flip", reverse(f))):
            prompt, right = comparison_prompt(q)  # "A are", " more adj than B."
            head = right[: right.index(" than") + len(" than")]
            options, answer = _options(rng, q.b, [w for w in pool if w not in (q.a, q.b)])
            same_role = [w for w in options if (w in objects) == (kind == "copy")]
            item = TestItem(f"{c}-{j}-{kind}", kind, prompt + head, [f" {w}." for w in options], answer)
            items.append(item)
            heuristic[item.id] = 1 / len(same_role)
    return "\n".join(canonical(f) for f in facts) + "\n", items


def pair_lookup(words: list[str], n_contexts: int, seed: int = 0) -> Lookup:
    """`n_contexts` contexts of FACTS key-value lines over `words`, each pair asked both ways: the key
    followed by its value (copy), the value followed by its key (flip); the other 3 options are other
    words of the context, and the role heuristic picks among the options in the answer's column."""
    rng = random.Random(seed)
    contexts, heuristic = [], {}
    for c in range(n_contexts):
        pool = rng.sample(words, 2 * FACTS)
        pairs = [(pool[2 * i], pool[2 * i + 1]) for i in range(FACTS)]
        items = []
        for j, (key, value) in enumerate(pairs):
            for kind, (asked, answer) in (("copy", (key, value)), ("flip", (value, key))):
                options, right = _options(rng, answer, [w for w in pool if w not in (key, value)])
                column = {v for _, v in pairs} if kind == "copy" else {k for k, _ in pairs}
                item = TestItem(f"{c}-{j}-{kind}", kind, asked, [f" {w}\n" for w in options], right)
                items.append(item)
                heuristic[item.id] = 1 / sum(w in column for w in options)
        contexts.append(("\n".join(f"{k} {v}" for k, v in pairs) + "\n", items))
    return Lookup(contexts, heuristic)


def people_lookup(words: list[str], n_contexts: int, seed: int = 0, lower_names: bool = False) -> Lookup:
    """`n_contexts` contexts of FACTS people over distinct `words`, each stated in the first template of a
    random order and asked in the first template of the same order (copy) and of the other (flip).
    `lower_names`: the same items with the names in lower case (for runs trained so: a diagnostic)."""
    rng = random.Random(seed)
    contexts, heuristic, asked = [], {}, {}
    for c in range(n_contexts):
        pool = rng.sample(words, 4 * FACTS)
        people = [random_person(rng, pool[4 * i: 4 * i + 4]) for i in range(FACTS)]
        if lower_names:
            people = [Describe(p.name.lower(), p.desc) for p in people]
        name_first = [rng.random() < 0.5 for _ in people]
        lines, items = [], []
        for j, (p, o) in enumerate(zip(people, name_first, strict=True)):
            lines.append(fill(NAME_FIRST[0] if o else DESC_FIRST[0], p.name, p.desc))
            for kind, asks_desc in (("copy", o), ("flip", not o)):
                others = [q.desc if asks_desc else q.name for q in people if q is not p]
                options, right = _options(rng, p.desc if asks_desc else p.name, others)
                prompt = fill(NAME_FIRST[0] if asks_desc else DESC_FIRST[0], p.name, p.desc)
                prompt = prompt[: prompt.rindex(" is ") + 3]  # up to " is", the answer after it
                item = TestItem(f"{c}-{j}-{kind}", kind, prompt, [f" {w}." for w in options], right)
                items.append(item)
                asked[item.id] = "desc" if asks_desc else "name"
                # the order heuristic: the options whose person is stated in the order not asked
                unasked = {q.desc if asks_desc else q.name for q, o in zip(people, name_first, strict=True)
                           if o != asks_desc}
                picks = [w for w in options if w in unasked]
                heuristic[item.id] = (options[right] in picks) / len(picks) if picks else 0.25
        contexts.append(("\n".join(lines) + "\n", items))
    return Lookup(contexts, heuristic, asked)


def _greedy(model, tok, text: str, n_tokens: int) -> str:
    return tok.decode(generate(model, [[tok.bos_id] + tok.encode(text)], n_tokens)[0])


def list_copy(model, tok, words: list[str], n: int = 20, seed: int = 1) -> float:
    """Share of 6-word lines written back exactly after a newline (greedy)."""
    rng, exact = random.Random(seed), 0
    for _ in range(n):
        line = " ".join(rng.sample(words, 6))
        exact += _greedy(model, tok, line + "\n", len(tok.encode(line))).strip() == line
    return exact / n


def line_completion(model, tok, words: list[str], n: int = 30, seed: int = 2) -> float:
    """Share of fact lines completed exactly from their first word, after FACTS facts (greedy)."""
    return line_parts(model, tok, words, n, seed)["line"]


def line_parts(model, tok, words: list[str], n: int = 30, seed: int = 2) -> dict[str, float]:
    """`line_completion`'s lines, part by part: the share with the right comparative, adjective, first
    piece of the object (its first token that is not a space), whole object, and whole line."""
    def piece(word: str):
        return next((t for t in tok.encode(" " + word) if tok.decode([t]).strip()), None)

    rng = random.Random(seed)
    hits = dict.fromkeys(("comparative", "adjective", "object_piece", "object", "line"), 0)
    for _ in range(n):
        facts, _ = _facts(rng, words)
        f, text = rng.choice(facts), "\n".join(canonical(g) for g in facts) + "\n"
        line = f.a + _greedy(model, tok, text + f.a, len(tok.encode(canonical(f))))
        w = line.split("\n")[0].rstrip(".").split(" ")  # "A are more adj than B"
        obj = w[5] if len(w) == 6 else None
        hits["comparative"] += len(w) > 2 and w[2] == ("more" if f.more else "less")
        hits["adjective"] += len(w) > 3 and w[3] == f.adj
        hits["object_piece"] += obj is not None and piece(obj) == piece(f.b)
        hits["object"] += obj == f.b
        hits["line"] += line.startswith(canonical(f))
    return {k: v / n for k, v in hits.items()}
