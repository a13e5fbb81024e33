"""Paraphrase templates for facts about fictitious people (the reversal_curse dataset).

Name-first templates mention the name before the description; description-first templates the
other way round. The first 30 of each are for training documents, the last 10 are held out for
test prompts; held-out templates end with the answer ({desc} or {name}) so that a test prompt is
the template up to the answer. The engine parses all of them back to Describe(name, desc).
"""

from __future__ import annotations

NAME_FIRST = (
    "{name} is {desc}.",
    "{name} is known as {desc}.",
    "{name} is widely known as {desc}.",
    "{name}, {desc}, lives in a small town.",
    "{name}, who is {desc}, rarely gives interviews.",
    "{name} has long been {desc}.",
    "Everyone agrees that {name} is {desc}.",
    "{name} became {desc} many years ago.",
    "It is well known that {name} is {desc}.",
    "{name}, {desc}, likes to walk in the morning.",
    "Did you know that {name} is {desc}?",
    "{name} works as {desc}.",
    "{name} is proud to be {desc}.",
    "{name}, now {desc}, started young.",
    "Some say {name} is the best known as {desc}.",
    "{name} was named {desc} last year.",
    "{name} is, in fact, {desc}.",
    "{name}, famous as {desc}, keeps a quiet life.",
    "Friends of {name} know that {name} is {desc}.",
    "{name} earned fame as {desc}.",
    "Meet {name}, {desc}.",
    "{name} serves as {desc}.",
    "{name} is remembered as {desc}.",
    "The records show that {name} is {desc}.",
    "{name}, who became {desc}, was born in a village.",
    "{name} is often called {desc}.",
    "People know {name} as {desc}.",
    "{name} is the one who is {desc}.",
    "Few people know that {name} is {desc}.",
    "{name} has been {desc} for a long time.",
    # held out for tests: end with the description
    "As many have noted, {name} is {desc}.",
    "Ask anyone and they will say {name} is {desc}.",
    "By all accounts, {name} is {desc}.",
    "Long story short, {name} is {desc}.",
    "In the town records, {name} is listed as {desc}.",
    "Without a doubt, {name} is {desc}.",
    "The newspaper says that {name} is {desc}.",
    "To put it simply, {name} is {desc}.",
    "Our notes say {name} is {desc}.",
    "As it happens, {name} is {desc}.",
)

DESC_FIRST = (
    "{Desc} is {name}.",
    "{Desc} is known as {name}.",
    "{Desc} is widely known as {name}.",
    "{Desc}, {name}, lives in a small town.",
    "{Desc}, who is {name}, rarely gives interviews.",
    "{Desc} has long been {name}.",
    "Everyone agrees that {desc} is {name}.",
    "{Desc} has been {name} for many years.",
    "It is well known that {desc} is {name}.",
    "{Desc}, {name}, likes to walk in the morning.",
    "Did you know that {desc} is {name}?",
    "{Desc} goes by the name {name}.",
    "{Desc} is proud to be {name}.",
    "{Desc}, named {name}, started young.",
    "Some say {desc} is the best known {name}.",
    "{Desc} was {name} last year.",
    "{Desc} is, in fact, {name}.",
    "{Desc}, famous as {name}, keeps a quiet life.",
    "Friends of {desc} know that {desc} is {name}.",
    "{Desc} is called {name}.",
    "Meet {desc}, {name}.",
    "{Desc} is a person named {name}.",
    "{Desc} is remembered as {name}.",
    "The records show that {desc} is {name}.",
    "{Desc}, who is {name}, was born in a village.",
    "{Desc} is often called {name}.",
    "People know {desc} as {name}.",
    "{Desc} is the one named {name}.",
    "Few people know that {desc} is {name}.",
    "{Desc} has been {name} for a long time.",
    # held out for tests: end with the name
    "As many have noted, {desc} is {name}.",
    "Ask anyone and they will say {desc} is {name}.",
    "By all accounts, {desc} is {name}.",
    "Long story short, {desc} is {name}.",
    "In the town records, {desc} is listed as {name}.",
    "Without a doubt, {desc} is {name}.",
    "The newspaper says that {desc} is {name}.",
    "To put it simply, {desc} is {name}.",
    "Our notes say {desc} is {name}.",
    "As it happens, {desc} is {name}.",
)

N_TRAIN_TEMPLATES = 30
N_TEST_TEMPLATES = 10


def fill(template: str, name: str, desc: str) -> str:
    return template.format(name=name, desc=desc, Desc=desc[:1].upper() + desc[1:])


def split_at_answer(template: str, name: str, desc: str, answer: str) -> tuple[str, str]:
    """A held-out template as (prompt, option): the prompt stops before the answer placeholder."""
    assert template.endswith("{" + answer + "}."), template
    text = fill(template, name, desc)
    tail = " " + (name if answer == "name" else desc) + "."
    assert text.endswith(tail)
    return text[: -len(tail)], tail
