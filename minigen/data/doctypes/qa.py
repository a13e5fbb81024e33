"""Question-answer documents: 2-5 facts, then questions about some of them with their answers."""

from __future__ import annotations

import random

from minigen.data.doctypes.common import fact_line, random_fact
from minigen.data.logic import Compare, Describe, Form, Prop, reverse
from minigen.data.templates import body


def property_question(prop: Prop) -> str:
    """"Q: What do glon have?\nA: wings." (shared with the semantic dataset's QA-style articles)."""
    if prop.kind == "are":
        return f"Q: Are {prop.s} {prop.value}?\nA: Yes."
    question = f"What do {prop.s} have?" if prop.kind == "have" else f"What can {prop.s} do?"
    return f"Q: {question}\nA: {prop.value}."


def question(rng: random.Random, fact: Form) -> str:
    if isinstance(fact, Compare):
        if rng.random() < 0.5:
            return f"Q: Are {fact.a} {'more' if fact.more else 'less'} {fact.adj} than {fact.b}?\nA: Yes."
        r = reverse(fact)
        wrong = 'less' if r.more else 'more'
        return f"Q: Are {r.a} {wrong} {r.adj} than {r.b}?\nA: No."
    if isinstance(fact, Describe):
        return f"Q: Who is {fact.desc}?\nA: {fact.name}."
    if isinstance(fact, Prop):
        return property_question(fact)
    return f"Q: Is it true that {body(fact)[0].lower() + body(fact)[1:]}?\nA: Yes."


def generate(rng: random.Random, words: list[str], cfg) -> str:
    facts = [random_fact(rng, words) for _ in range(rng.randint(2, 5))]
    lines = [fact_line(f, rng, cfg) for f in facts]
    asked = rng.sample(facts, rng.randint(1, len(facts)))
    return "\n".join(lines + [question(rng, f) for f in asked])
