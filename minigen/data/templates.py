"""Surface text for logical forms: several templates per form, and the parser back to forms.

Variant 0 of each form is the canonical sentence: derived statements in the corpus and the test
prompts of the datasets use it, so a test asks for a format the corpus contains. Other variants
and the context prefixes only appear in facts.
"""

from __future__ import annotations

import re
from functools import lru_cache

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
from minigen.data.logic import Compare, Describe, Form, Prop, Quant, Relation, reverse
from minigen.data.people_templates import DESC_FIRST, NAME_FIRST

# English phrases only the corpus uses (the tokenizer keeps every English word whole).
REWRITE_LABEL = "In other words:"
QA_PHRASES = ("Q:", "A:", "Yes.", "No.", "Are", "Who is", "What do", "have?", "What can", "do?", "and")

COMPARE_TEMPLATES = (
    "{a} are {dir} {adj} than {b}",
    "{a} are generally {dir} {adj} than {b}",
    "{a} tend to be {dir} {adj} than {b}",
    "compared with {b}, {a} are {dir} {adj}",
)
QUANT_TEMPLATES = {
    "all": ("All {s} are {p}", "Every {s} is a {p}"),
    "some": ("Some {s} are {p}", "There are {s} that are {p}"),
    "no": ("No {s} are {p}", "There are no {s} that are {p}"),
}
PROP_TEMPLATES = {
    "are": ("{s} are {v}", "{s} are known to be {v}"),
    "have": ("{s} have {v}", "{s} usually have {v}"),
    "can": ("{s} can {v}", "{s} are able to {v}"),
}
RELATION_TEMPLATES = ("{s} {verb} {o}", "{o} are {pp} by {s}")
DESCRIBE_TEMPLATES = ("{name} is {desc}", "{Desc} is {name}")

# Question / answer formats shared by the corpus and the datasets' test prompts.
SYLLOGISM_QUESTION = "Question: what follows about {s} and {p}?\nAnswer:"
INFERENCE_HEADER = "It follows that:"

_PASSIVE = dict(RELATION_VERBS)
_ACTIVE = {pp: v for v, pp in RELATION_VERBS}


def n_variants(form: Form) -> int:
    if isinstance(form, Compare):
        return len(COMPARE_TEMPLATES)
    return 2


def body(form: Form, variant: int = 0) -> str:
    """The sentence without prefix or final punctuation."""
    if isinstance(form, Compare):
        return COMPARE_TEMPLATES[variant].format(
            a=form.a, b=form.b, adj=form.adj, dir="more" if form.more else "less"
        )
    if isinstance(form, Quant):
        return QUANT_TEMPLATES[form.q][variant].format(s=form.s, p=form.p)
    if isinstance(form, Prop):
        return PROP_TEMPLATES[form.kind][variant].format(s=form.s, v=form.value)
    if isinstance(form, Relation):
        return RELATION_TEMPLATES[variant].format(s=form.s, o=form.o, verb=form.verb, pp=_PASSIVE[form.verb])
    return DESCRIBE_TEMPLATES[variant].format(name=form.name, desc=form.desc, Desc=_upper_first(form.desc))


def sentence_variants(form: Form) -> list[str]:
    """The form in each of its templates, canonical first."""
    return [body(form, v) + "." for v in range(n_variants(form))]


def restatements(form: Form) -> list[str]:
    """The sentences that say what `form` says, canonical first: its templates, then its converse in the
    canonical template where it has one (the comparison reversed; "some" / "no" with the terms swapped;
    "all" has none). Relations and people need no converse: their two templates are the two voices /
    orders. The corpus's rewrite documents teach exactly these, and the local augmentation oracle writes
    exactly these."""
    out = sentence_variants(form)
    if isinstance(form, Compare):
        out.append(body(reverse(form)) + ".")
    elif isinstance(form, Quant) and form.q != "all":
        out.append(body(Quant(form.q, form.p, form.s)) + ".")
    return out


def render(form: Form, variant: int = 0, prefix: int = 0) -> str:
    """One sentence: context prefix + body + punctuation ("Did you know that femp are ...?")."""
    text = body(form, variant)
    start, end = PREFIXES[prefix]
    if start:
        text = start + _lower_first(text)
    return text + end


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _lower_first(text: str) -> str:
    """Lowercase a leading English word ("All" -> "all") but never a person's name."""
    first = text.split(" ", 1)[0]
    if first in ("All", "Some", "No", "Every", "There", "The"):
        return text[:1].lower() + text[1:]
    return text


def syllogism_prompt(s: str, p: str) -> str:
    return SYLLOGISM_QUESTION.format(s=s, p=p)


def comparison_prompt(form: Compare) -> tuple[str, str]:
    """The canonical sentence as test prompt and option: ("glon are", " less dangerous than femp.")."""
    prompt = f"{form.a} are"
    text = render(form)
    assert text.startswith(prompt)
    return prompt, text[len(prompt):]


# ---------------------------------------------------------------------------------------------
# Parsing: each template becomes a regex; the first one that matches the whole sentence wins.

_WORD = r"[a-z]+"
_NAME = r"[A-Z][a-z]+ [A-Z][a-z]+"
_DESC = r"the [a-z]+ of the [a-z]+ [a-z]+"


def _alt(words) -> str:
    return "(?:" + "|".join(sorted(map(re.escape, words), key=len, reverse=True)) + ")"


@lru_cache(maxsize=1)
def _parsers() -> list[tuple[re.Pattern, callable]]:
    parsers = []

    def add(template: str, groups: dict[str, str], build) -> None:
        pattern = re.escape(template)
        for name, regex in groups.items():
            slot = re.escape("{" + name + "}")
            # A placeholder used twice must match the same text twice (a back-reference).
            pattern = pattern.replace(slot, f"(?P<{name}>{regex})", 1).replace(slot, f"(?P={name})")
        parsers.append((re.compile(pattern), build))

    adjs = _alt(a for a, _, _ in ADJECTIVES)
    for t in COMPARE_TEMPLATES:
        add(t, {"a": _WORD, "b": _WORD, "adj": adjs, "dir": "more|less"},
            lambda m: Compare(m["a"], m["adj"], m["dir"] == "more", m["b"]))
    for q, ts in QUANT_TEMPLATES.items():
        for t in ts:
            add(t, {"s": _WORD, "p": _WORD}, lambda m, q=q: Quant(q, m["s"], m["p"]))
    values = {"are": PROPERTY_ADJECTIVES, "have": PROPERTY_NOUNS, "can": PROPERTY_VERBS}
    for kind, ts in PROP_TEMPLATES.items():
        for t in ts:
            add(t, {"s": _WORD, "v": _alt(values[kind])}, lambda m, k=kind: Prop(m["s"], k, m["v"]))
    add(RELATION_TEMPLATES[0], {"s": _WORD, "verb": _alt(_PASSIVE), "o": _WORD},
        lambda m: Relation(m["s"], m["verb"], m["o"]))
    add(RELATION_TEMPLATES[1], {"o": _WORD, "pp": _alt(_ACTIVE), "s": _WORD},
        lambda m: Relation(m["s"], _ACTIVE[m["pp"]], m["o"]))
    for t in (*DESCRIBE_TEMPLATES, *(t[:-1] for t in NAME_FIRST + DESC_FIRST)):
        add(t, {"name": _NAME, "desc": _DESC, "Desc": "T" + _DESC[1:]},
            lambda m: Describe(m["name"], m["desc"] if "desc" in m.groupdict() else _lower_first(m["Desc"])))
    return parsers


def parse(sentence: str) -> Form | None:
    """The logical form of a sentence written by `render` (any variant and prefix), else None."""
    text = sentence.strip()
    if text[-1:] in ".?":
        text = text[:-1]
    candidates = [text]
    for start, _ in PREFIXES:
        if start and text.startswith(start):
            rest = text[len(start):]
            candidates.append(rest)
            candidates.append(_upper_first(rest))
    for candidate in candidates:
        for regex, build in _parsers():
            m = regex.fullmatch(candidate)
            if m:
                return build(m)
    return None


@lru_cache(maxsize=1)
def english_vocabulary() -> frozenset[str]:
    """Every English word the generated text can contain (for the lexicon and the tokenizer)."""
    texts = [
        *COMPARE_TEMPLATES, *(t for ts in QUANT_TEMPLATES.values() for t in ts),
        *(t for ts in PROP_TEMPLATES.values() for t in ts), *RELATION_TEMPLATES, *DESCRIBE_TEMPLATES,
        SYLLOGISM_QUESTION, INFERENCE_HEADER, "more less the of The", *(p for p, _ in PREFIXES),
        *(w for a in ADJECTIVES for w in a), *PROPERTY_ADJECTIVES, *PROPERTY_NOUNS, *PROPERTY_VERBS,
        *(w for pair in RELATION_VERBS for w in pair), *PERSON_ROLES, *NAME_FIRST, *DESC_FIRST,
    ]
    texts.extend([REWRITE_LABEL, *QA_PHRASES])
    words = {w for t in texts for w in re.findall(r"[A-Za-z]+", re.sub(r"\{\w+\}", " ", t))}
    words |= {w.capitalize() for w in words} | {w.lower() for w in words}
    return frozenset(words - set(NAME_SUFFIXES))
