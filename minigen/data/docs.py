"""The corpus's document types, each a function (rng, words) -> text over pretraining-pool words.

In-context inference documents use exactly the ICL layout of the evaluation: statements one per
line, then derived statements / question + answer in the formats the test prompts use. That is
what teaches the skill (reversal, syllogism) that is later tested on new (evaluation-pool) words.
Generation is plain Python on purpose kept lean: it runs at hundreds of thousands of tokens/s.
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
from minigen.data.logic import (
    Compare,
    Describe,
    Form,
    Knowledge,
    Prop,
    Quant,
    Relation,
    reverse,
    valid_syllogism_patterns,
)
from minigen.data.people_templates import DESC_FIRST, NAME_FIRST, fill
from minigen.data.templates import (
    INFERENCE_HEADER,
    REWRITE_LABEL,
    body,
    n_variants,
    render,
    syllogism_prompt,
)

_DIMS = tuple(a for a, _, _ in ADJECTIVES)
_VERBS = tuple(v for v, _ in RELATION_VERBS)
_PROPS = (("are", PROPERTY_ADJECTIVES), ("have", PROPERTY_NOUNS), ("can", PROPERTY_VERBS))
_PATTERNS_BY_Q: dict[str, list] = {}
for _first, _second, _concl in valid_syllogism_patterns():
    _PATTERNS_BY_Q.setdefault(_concl.q, []).append((_first, _second, _concl))


def fact_line(form: Form, rng: random.Random, cfg, prefix_scale: float = 1.0) -> str:
    """A fact as a training sentence: the canonical template or a random one, sometimes a prefix."""
    variant = 0 if rng.random() < cfg.canonical_share else rng.randrange(n_variants(form))
    prefix = rng.randrange(1, len(PREFIXES)) if rng.random() < cfg.prefix_prob * prefix_scale else 0
    return render(form, variant, prefix)


def canonical(form: Form) -> str:
    return body(form) + "."


# ---------------------------------------------------------------------------------------------
# Random facts over given words.

def random_compare(rng: random.Random, a: str, b: str) -> Compare:
    return Compare(a, rng.choice(_DIMS), rng.random() < 0.5, b)


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
        return Relation(s, rng.choice(_VERBS), o)
    return random_person(rng, words)


def _n_facts(rng: random.Random, cfg) -> int:
    return rng.randint(cfg.facts_min, cfg.facts_max)


# ---------------------------------------------------------------------------------------------
# Document types.

def icl_reversal_doc(rng: random.Random, words: list[str], cfg) -> str:
    """Comparison facts (some prefixed, some repeated), then canonical reversals of some of them."""
    n = _n_facts(rng, cfg)
    pool = rng.sample(words, 2 * n)
    facts = []
    for i in range(n):
        a, b = pool[2 * i], pool[2 * i + 1]
        if facts and rng.random() < 0.2:  # a word in two facts: the reversal must pick the right one
            a = rng.choice(facts).a
        facts.append(random_compare(rng, a, b))
    lines = [fact_line(f, rng, cfg) for f in facts]
    for _ in range(rng.randrange(cfg.repeats_max + 1) if n > 2 else 0):  # restated facts, as in articles
        lines.insert(rng.randrange(len(lines) + 1), fact_line(rng.choice(facts), rng, cfg))
    # Reversing most facts makes the reversal lines a large share of the document: the skill is learned
    # from those lines alone, and a tiny model needs many of them per token to pick it up in minutes.
    n_asked = max(1, round(cfg.reversal_share * len(facts)))
    asked = rng.sample(facts, n_asked)
    # Some questions restate a fact in its own direction: the answer is then a copy, not a flip, and
    # only the word's role in the fact (subject or object) tells which one is asked for.
    # (No draw at same_share=0, so that stream stays as it was.)
    lines += [canonical(f if cfg.same_share and rng.random() < cfg.same_share else reverse(f)) for f in asked]
    return "\n".join(lines)


def role_doc(rng: random.Random, words: list[str], n: int, mode: str, cross: float,
             same_share: float = 0.5, fact_text=canonical, more_only: bool = False,
             repeats: int = 0) -> tuple[str, list[Compare], list[Compare]]:
    """(the fact lines, the facts, the questions as forms) of a role-curriculum document
    (docs/log/2026-11-27-role-curriculum.md).

    mode "copy" / "flip": questions in one direction only, and each later fact reuses, with probability
    `cross`, an earlier fact's word in the other role ("confusers": copy reuses an earlier subject as
    its object, flip an earlier object as its subject); only words that stand once in the asked role are
    asked about. mode "mix": no shared words; each question restates its fact with probability
    `same_share`, else reverses it. more_only: every fact says "more", so the answer follows from the
    word's role alone (subject "more", object "less"). repeats: each fact stands 1 to repeats + 1 times,
    as in the dataset's ten articles per fact (no draw at 0).
    """
    pool = rng.sample(words, 2 * n)
    facts = []
    for i in range(n):
        a, b = pool[2 * i], pool[2 * i + 1]
        if facts and mode != "mix" and rng.random() < cross:
            earlier = rng.choice(facts)
            a, b = (a, earlier.a) if mode == "copy" else (earlier.b, b)
        fact = random_compare(rng, a, b)
        facts.append(Compare(a, fact.adj, True, b) if more_only else fact)
    lines = [fact_text(f) for f in facts for _ in range(1 + (rng.randrange(repeats + 1) if repeats else 0))]
    rng.shuffle(lines)
    if mode == "copy":
        asked = [f for f in facts if sum(g.a == f.a for g in facts) == 1]
    elif mode == "flip":
        asked = [reverse(f) for f in facts if sum(g.b == f.b for g in facts) == 1]
    else:
        asked = [f if rng.random() < same_share else reverse(f) for f in facts]
    rng.shuffle(asked)
    return "\n".join(lines), facts, asked


def icl_roles_doc(rng: random.Random, words: list[str], cfg) -> str:
    """A role-curriculum document (`role_doc` with the corpus's `roles_*` settings, its templates and
    prefixes), then its questions answered in the canonical template. `roles_more_share` of the documents
    state only "more" facts (no draw at 0 or 1)."""
    share = cfg.roles_more_share
    more_only = share == 1 or (0 < share < 1 and rng.random() < share)
    text, _, asked = role_doc(rng, words, _n_facts(rng, cfg), cfg.roles_mode, cfg.roles_confusers,
                              cfg.same_share, lambda f: fact_line(f, rng, cfg), more_only, cfg.repeats_max)
    return text + "\n" + "\n".join(canonical(q) for q in asked)


def _syllogism_instance(rng: random.Random, s: str, m: str, p: str):
    first, second, concl = rng.choice(_PATTERNS_BY_Q[rng.choice(("all", "no", "some"))])
    name = {"S": s, "M": m, "P": p}
    premises = [Quant(x.q, name[x.s], name[x.p]) for x in (first, second)]
    return premises, Quant(concl.q, s, p)


def icl_syllogism_doc(rng: random.Random, words: list[str], cfg) -> str:
    """Premise pairs among distractor facts, then the test's questions (terms in a random order) and
    their answers (the strongest conclusion)."""
    k = rng.randint(1, cfg.syllogisms_max)
    n_distract = max(0, _n_facts(rng, cfg) - 2 * k)
    pool = rng.sample(words, 3 * k + 4 * n_distract)
    lines, questions = [], []
    for i in range(k):
        s, m, p = pool[3 * i: 3 * i + 3]
        premises, concl = _syllogism_instance(rng, s, m, p)
        lines += [fact_line(x, rng, cfg, prefix_scale=0.5) for x in premises]
        named = (s, p) if rng.random() < 0.5 else (p, s)  # the question's order says nothing ...
        if concl.q != "all":  # ... except which way round a symmetric answer is written
            concl = Quant(concl.q, *named)
        questions.append(f"{syllogism_prompt(*named)} {canonical(concl)}")
    rest = pool[3 * k:]
    for i in range(n_distract):
        lines.append(fact_line(random_fact(rng, rest[4 * i: 4 * i + 4]), rng, cfg))
    rng.shuffle(lines)
    rng.shuffle(questions)
    return "\n".join(lines + questions)


def _small_world(rng: random.Random, words: list[str], n: int) -> list[Form]:
    """A small knowledge structure: an is-a chain with properties and relations, plus people."""
    chain = rng.sample(words, 3 + n)
    facts: list[Form] = [Quant("all", chain[i], chain[i + 1]) for i in range(rng.randint(1, 3))]
    for _ in range(n // 2):
        facts.append(random_prop(rng, rng.choice(chain[1:4])))
    extra = chain[4:]
    if len(extra) >= 2:
        facts.append(Relation(extra[0], rng.choice(_VERBS), extra[1]))
    if rng.random() < 0.5:
        facts.append(random_person(rng, words))
    rng.shuffle(facts)
    return facts


def _derived_new(rng: random.Random, facts: list[Form], limit: int) -> list[Form]:
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


def _restatements(form: Form) -> list[str]:
    """Other sentences with the same meaning: other templates, reversals, and passive/active voice."""
    out = [body(form, v) + "." for v in range(n_variants(form))]
    if isinstance(form, Compare):
        out.append(canonical(reverse(form)))
    elif isinstance(form, Quant) and form.q != "all":
        out.append(canonical(Quant(form.q, form.p, form.s)))
    return out


def icl_other_doc(rng: random.Random, words: list[str], cfg) -> str:
    """Hierarchy / property / relation / people facts, then what follows (no header).

    Relations and people are restated in the other voice / order ("The inventor of ... is Femp
    Glonski"): the in-context reversal the reversal_curse and semantic tests ask for.
    """
    facts = _small_world(rng, words, _n_facts(rng, cfg))
    lines, tail = [], [canonical(f) for f in _derived_new(rng, facts, 3)]
    for f in facts:
        if isinstance(f, (Relation, Describe)):
            v = rng.randrange(2)
            prefix = rng.randrange(1, len(PREFIXES)) if rng.random() < cfg.prefix_prob else 0
            lines.append(render(f, v, prefix))
            tail.append(body(f, 1 - v) + ".")
        else:
            lines.append(fact_line(f, rng, cfg))
    rng.shuffle(tail)
    return "\n".join(lines + tail)


def icl_people_doc(rng: random.Random, words: list[str], cfg) -> str:
    """People facts in paraphrase templates (either order), then some restated in the other order.

    Uses all templates, including those the reversal_curse dataset holds out from its training
    documents: the corpus teaches the formats, the dataset tests new people.
    """
    people = [random_person(rng, words) for _ in range(rng.randint(2, max(2, cfg.facts_max // 2)))]
    lines, tail = [], []
    for p in people:
        first = NAME_FIRST if rng.random() < 0.5 else DESC_FIRST
        other = DESC_FIRST if first is NAME_FIRST else NAME_FIRST
        lines.append(fill(rng.choice(first), p.name, p.desc))
        tail.append(fill(rng.choice(other), p.name, p.desc))
    asked = rng.sample(tail, rng.randint(1, len(tail)))
    return "\n".join(lines + asked)


def inference_doc(rng: random.Random, words: list[str], cfg) -> str:
    """Facts, the header "It follows that:", then derived statements (global augmentation format)."""
    facts = _small_world(rng, words, _n_facts(rng, cfg))
    if rng.random() < 0.5:
        a, b, c = rng.sample(words, 3)
        facts += [random_compare(rng, a, b)]
        facts += [Compare(b, facts[-1].adj, facts[-1].more, c)] if rng.random() < 0.5 else []
    derived = _derived_new(rng, facts, 5)
    lines = [fact_line(f, rng, cfg) for f in facts]
    return "\n".join(lines + [INFERENCE_HEADER] + [canonical(f) for f in derived])


def rewrite_doc(rng: random.Random, words: list[str], cfg) -> str:
    """A statement, then its restatements and reversal (local augmentation format)."""
    parts = []
    for _ in range(rng.randint(1, 3)):
        form = random_fact(rng, words)
        first, *rest = _restatements(form)
        rng.shuffle(rest)
        parts.append("\n".join([first, REWRITE_LABEL, *rest]))
    return "\n".join(parts)


def facts_doc(rng: random.Random, words: list[str], cfg) -> str:
    """Independent facts of every kind, in varied surface forms."""
    n = _n_facts(rng, cfg)
    return "\n".join(fact_line(random_fact(rng, words), rng, cfg) for _ in range(n))


def property_question(prop: Prop) -> str:
    """"Q: What do glon have?\nA: wings." (shared with the semantic dataset's QA-style articles)."""
    if prop.kind == "are":
        return f"Q: Are {prop.s} {prop.value}?\nA: Yes."
    question = f"What do {prop.s} have?" if prop.kind == "have" else f"What can {prop.s} do?"
    return f"Q: {question}\nA: {prop.value}."


def _question(rng: random.Random, fact: Form) -> str:
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


def qa_doc(rng: random.Random, words: list[str], cfg) -> str:
    """Facts, then questions about them with answers."""
    facts = [random_fact(rng, words) for _ in range(rng.randint(2, 5))]
    lines = [fact_line(f, rng, cfg) for f in facts]
    asked = rng.sample(facts, rng.randint(1, len(facts)))
    return "\n".join(lines + [_question(rng, f) for f in asked])


DOC_TYPES = {
    "icl_reversal": icl_reversal_doc,
    "icl_syllogism": icl_syllogism_doc,
    "icl_other": icl_other_doc,
    "icl_people": icl_people_doc,
    "facts": facts_doc,
    "rewrite": rewrite_doc,
    "inference": inference_doc,
    "qa": qa_doc,
    "icl_roles": icl_roles_doc,
}
