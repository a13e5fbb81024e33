"""In-context process documents: a rule set for the transform D over pretraining-pool function names
(each name's partner, one schema per constructor, drawn afresh per document), then transforms under
it, some with their worked steps, in the layout of the process dataset ("D(expression) = answer").

The schemas vary from document to document, so the skill is executing the rules in the context, not
remembering one rule set; the process dataset's own rule set (`DATASET_SCHEMAS`) is never drawn. Every
combination of rules and depths 1-4 occur, under other rule sets.
"""

from __future__ import annotations

import random

from minigen.data.process_logic import (
    DATASET_SCHEMAS,
    SCHEMAS,
    Rules,
    kind_of,
    n_apps,
    partner_cycle,
    prompt_of,
    random_expression,
    show,
    transform,
    worked_example,
)

MAX_APPS = 6


def random_rules(rng: random.Random, names: list[str]) -> Rules:
    """Partners in a cycle over `names`; schemas drawn uniformly, never the dataset's three together."""
    while True:
        schemas = {k: rng.choice(sorted(SCHEMAS[k])) for k in ("sum", "prod", "comp")}
        if schemas != DATASET_SCHEMAS:
            return Rules(partner_cycle(names), **schemas)


def generate(rng: random.Random, words: list[str], cfg) -> str:
    names = rng.sample(words, rng.randint(3, 5))
    rules = random_rules(rng, names)
    order = list(names)
    rng.shuffle(order)
    lines = rules.lines(order)
    for _ in range(rng.randint(1, 3)):
        e = random_expression(rng, names, rules, rng.randint(1, 4))
        while n_apps(e) > MAX_APPS or n_apps(transform(e, rules)) > MAX_APPS + 3:
            e = random_expression(rng, names, rules, rng.randint(1, 3))
        if kind_of(e) != "prim" and rng.random() < 0.5:
            lines.append(worked_example(e, rules))
        else:
            lines.append(f"{prompt_of(e)} {show(transform(e, rules))}")
    return "\n".join(lines)
