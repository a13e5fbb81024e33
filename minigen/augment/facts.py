"""What the training documents state, read back with the templates' parser, and what the tests ask.

A statement is compared with others by its *directed key*: its logical form plus, for relations
and people, the term it mentions first. "glon eat femp" and "femp are eaten by glon" have one
logical form but different keys, as do a person's name-first and description-first sentences: that
order is what the reversal tests probe, so a restatement in a never-trained order counts as new.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from minigen.data.logic import Compare, Describe, Form, Knowledge, Prop, Quant, Relation, from_list
from minigen.data.templates import parse
from minigen.eval.conditions import split_sentences as sentences

_QA = (
    (re.compile(r"Q: What do ([a-z]+) have\?\nA: ([a-z]+)\.?"), "have"),
    (re.compile(r"Q: What can ([a-z]+) do\?\nA: ([a-z]+)\.?"), "can"),
)
_QA_ARE = re.compile(r"Q: Are ([a-z]+) ([a-z]+)\?\nA: Yes\.?")


def parse_statement(text: str) -> Form | None:
    """The logical form of a sentence (any template) or of a question-answer pair, else None."""
    text = text.strip()
    if not text:
        return None
    for regex, kind in _QA:
        m = regex.fullmatch(text)
        if m:
            return Prop(m[1], kind, m[2])
    m = _QA_ARE.fullmatch(text)
    if m:
        return Prop(m[1], "are", m[2])
    try:
        return parse(text)
    except Exception:  # the parser's regexes never see text this odd in the corpus; treat as no parse
        return None


def terms(form: Form) -> tuple[str, ...]:
    if isinstance(form, Compare):
        return (form.a, form.b)
    if isinstance(form, Quant):
        return (form.s, form.p)
    if isinstance(form, Prop):
        return (form.s,)
    if isinstance(form, Relation):
        return (form.s, form.o)
    assert isinstance(form, Describe)
    return (form.name, form.desc)


def first_term(form: Form, text: str) -> str:
    """The term of `form` that `text` mentions first (word-bounded, case-insensitive)."""
    low = text.lower()
    best, where = terms(form)[0], len(low) + 1
    for term in terms(form):
        m = re.search(r"(?<![a-z])" + re.escape(term.lower()) + r"(?![a-z])", low)
        if m and m.start() < where:
            best, where = term, m.start()
    return best


def directed_key(form: Form, text: str) -> tuple[Form, str]:
    """(form, the term named first) for the forms with two word orders; (form, "") for the others,
    whose order is part of the form ("compared with b, a are ..." is still a statement about a)."""
    if isinstance(form, (Relation, Describe)):
        return (form, first_term(form, text))
    return (form, "")


@dataclass
class TrainingFacts:
    """The training documents' statements: their forms, directed keys and the engine over them."""

    forms: list[Form]
    keys: set[tuple[Form, str]]
    texts: set[str]  # normalized sentences, for "is this exact sentence already in the training data"
    knowledge: Knowledge = field(repr=False)

    @classmethod
    def from_documents(cls, documents: list) -> TrainingFacts:
        forms: dict[Form, None] = {}
        keys, texts = set(), set()
        for doc in documents:
            for sent in sentences(doc.text):
                texts.add(normalize(sent))
                form = parse_statement(sent)
                if form is not None:
                    forms[form] = None
                    keys.add(directed_key(form, sent))
        return cls(list(forms), keys, texts, Knowledge(list(forms)))


def normalize(sentence: str) -> str:
    return " ".join(sentence.split()).rstrip(".?").lower()


@dataclass
class TestAnswers:
    """Directed keys of the correct answers of test items whose answer is not itself trained text.

    `by_key[key]` lists the ids of the items that `key` answers; `split_of[item id]` its split.
    """

    __test__ = False

    by_key: dict[tuple[Form, str], list[str]]
    split_of: dict[str, str]

    @classmethod
    def from_items(cls, items: list, training: TrainingFacts) -> TestAnswers:
        by_key: dict[tuple[Form, str], list[str]] = {}
        split_of: dict[str, str] = {}
        for item in items:
            forms = item.meta.get("option_forms")
            if not forms:
                continue
            for k in item.accepted():  # the answer, and an equivalent option stating it too
                form = from_list(forms[k])
                option = item.options[k]
                # An option that is a whole sentence (syllogisms) speaks for itself; otherwise the
                # prompt starts the sentence ("glon are" + " less dangerous than femp.").
                text = option if parse_statement(option) is not None else item.prompt + option
                key = directed_key(form, text)
                if key in training.keys:  # answered verbatim by the training data: nothing to leak
                    continue
                by_key.setdefault(key, []).append(item.id)
                split_of[item.id] = item.split
        return cls(by_key, split_of)

    def splits(self) -> list[str]:
        return list(dict.fromkeys(self.split_of.values()))
