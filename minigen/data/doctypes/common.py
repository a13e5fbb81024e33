"""What every document type shares: random facts over given words, and how a fact becomes a sentence.

`cfg` is the whole `CorpusConfig`: the shared knobs (`facts_min`, `facts_max`, `prefix_prob`,
`canonical_share`) are its own fields; a type's own knobs are in its section (`cfg.reversal`, ...).
"""

from __future__ import annotations

import random

from minigen.data.english import (
    ADJECTIVES,
    NAME_SUFFIXES,
    PERSON_ROLES,
    PREFIXES,
    PROPERTY_ADJECTIVES,
    PROPERTY_NOUNS,
    PROPERTY_VERBS,
    RELATION_VERBS,
)
from minigen.data.logic import Compare, Describe, Form, Knowledge, Prop, Quant, Relation
from minigen.data.templates import body, n_variants, render

DIMS = tuple(a for a, _, _ in ADJECTIVES)
VERBS = tuple(v for v, _ in RELATION_VERBS)
_PROPS = (("are", PROPERTY_ADJECTIVES), ("have", PROPERTY_NOUNS), ("can", PROPERTY_VERBS))


def fact_style(form: Form, rng: random.Random, cfg, prefix_scale: float = 1.0) -> tuple[int, int]:
    """(template, prefix) of a training sentence: the canonical template or a random one, sometimes a
    prefix."""
    variant = 0 if rng.random() < cfg.canonical_share else rng.randrange(n_variants(form))
    prefix = rng.randrange(1, len(PREFIXES)) if rng.random() < cfg.prefix_prob * prefix_scale else 0
    return variant, prefix


def fact_line(form: Form, rng: random.Random, cfg, prefix_scale: float = 1.0) -> str:
    """A fact as a training sentence (`fact_style`)."""
    return render(form, *fact_style(form, rng, cfg, prefix_scale))


def canonical(form: Form) -> str:
    return body(form) + "."


def n_facts(rng: random.Random, cfg) -> int:
    return rng.randint(cfg.facts_min, cfg.facts_max)


def random_compare(rng: random.Random, a: str, b: str) -> Compare:
    return Compare(a, rng.choice(DIMS), rng.random() < 0.5, b)


def random_prop(rng: random.Random, s: str) -> Prop:
    kind, values = rng.choice(_PROPS)
    return Prop(s, kind, rng.choice(values))


def random_person(rng: random.Random, words: list[str]) -> Describe:
    first, last, w1, w2 = rng.sample(words, 4)
    suffix = rng.choice(NAME_SUFFIXES) if rng.random() < 0.5 else ""
    name = f"{first.capitalize()} {last.capitalize()}{suffix}"
    return Describe(name, f"the {rng.choice(PERSON_ROLES)} of the {w1} {w2}")


def random_fact(rng: random.Random, words: list[str]) -> Form:
    """Any kind of fact, for distractor lines and fact documents."""
    r = rng.random()
    if r < 0.3:
        return random_compare(rng, *rng.sample(words, 2))
    if r < 0.55:
        return Quant(rng.choice(("all", "some", "no")), *rng.sample(words, 2))
    if r < 0.75:
        return random_prop(rng, rng.choice(words))
    if r < 0.9:
        s, o = rng.sample(words, 2)
        return Relation(s, rng.choice(VERBS), o)
    return random_person(rng, words)


def small_world(rng: random.Random, words: list[str], n: int) -> list[Form]:
    """A small knowledge structure: an is-a chain with properties and relations, plus people."""
    chain = rng.sample(words, 3 + n)
    facts: list[Form] = [Quant("all", chain[i], chain[i + 1]) for i in range(rng.randint(1, 3))]
    for _ in range(n // 2):
        facts.append(random_prop(rng, rng.choice(chain[1:4])))
    extra = chain[4:]
    if len(extra) >= 2:
        facts.append(Relation(extra[0], rng.choice(VERBS), extra[1]))
    if rng.random() < 0.5:
        facts.append(random_person(rng, words))
    rng.shuffle(facts)
    return facts


def derived_new(rng: random.Random, facts: list[Form], limit: int) -> list[Form]:
    """Statements that follow from the facts and are not facts themselves (engine-checked)."""
    known = Knowledge(facts)
    given = set(facts)
    # Particular conclusions are kept only as the converse of a given "all" ("Some femp are glon"
    # from "All glon are femp"): the others are many and uninformative.
    new = [
        f for f in known.derived
        if f not in given
        and not (isinstance(f, Quant) and f.q == "some" and Quant("all", f.p, f.s) not in given)
    ]
    new.sort(key=repr)
    return rng.sample(new, min(limit, len(new)))
