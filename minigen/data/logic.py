"""Logical forms and the one engine that says what follows from what.

Every part of minigen that needs logic (corpus inferences, dataset answers and distractors,
augmentation validity) asks this module; nothing about logic is written anywhere else.

Quantified reasoning is decided by model checking over Venn regions (every term non-empty, i.e.
Aristotelian existential import: categories in this world always have members), so the valid
syllogistic moods, conversions and subalternations are computed, not listed by hand.
Properties ("glon have wings") and relations ("glon eat femp") are treated as categories
("things that have wings"), so inheritance down an is-a hierarchy is the same syllogism rule.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cache

QUANTIFIERS = ("all", "some", "no")


@dataclass(frozen=True, slots=True)
class Compare:
    """`a` are more (or less) `adj` than `b`."""

    a: str
    adj: str
    more: bool
    b: str


@dataclass(frozen=True, slots=True)
class Quant:
    """`q` (all / some / no) `s` are `p`."""

    q: str
    s: str
    p: str


@dataclass(frozen=True, slots=True)
class Prop:
    """`s` are ADJ / have NOUN / can VERB: `kind` is "are", "have" or "can"."""

    s: str
    kind: str
    value: str


@dataclass(frozen=True, slots=True)
class Relation:
    """`s` VERB `o` ("glon eat femp"; passive surface: "femp are eaten by glon")."""

    s: str
    verb: str
    o: str


@dataclass(frozen=True, slots=True)
class Describe:
    """Person `name` is `desc` ("Femp Glonski" / "the inventor of the yomp trelp")."""

    name: str
    desc: str


Form = Compare | Quant | Prop | Relation | Describe


def to_list(form: Form) -> list:
    """A JSON-friendly logical form: [type, fields...] (e.g. ["all", "troff", "yomp"] for Quant)."""
    if isinstance(form, Quant):
        return [form.q, form.s, form.p]
    if isinstance(form, Compare):
        return ["compare", form.a, ("more " if form.more else "less ") + form.adj, form.b]
    if isinstance(form, Prop):
        return ["prop", form.s, form.kind, form.value]
    if isinstance(form, Relation):
        return ["relation", form.s, form.verb, form.o]
    return ["describe", form.name, form.desc]


def from_list(data: list) -> Form:
    """Inverse of `to_list` (for reading exported items back)."""
    kind, *rest = data
    if kind in QUANTIFIERS:
        return Quant(kind, *rest)
    if kind == "compare":
        a, direction, b = rest
        more, _, adj = direction.partition(" ")
        return Compare(a, adj, more == "more", b)
    if kind == "prop":
        return Prop(*rest)
    if kind == "relation":
        return Relation(*rest)
    assert kind == "describe", data
    return Describe(*rest)


def reverse(c: Compare) -> Compare:
    """The equivalent comparison with the arguments swapped: A more X than B <=> B less X than A."""
    return Compare(c.b, c.adj, not c.more, c.a)


def contradict(c: Compare) -> Compare:
    """The reversal with the wrong direction: what a model that ignores argument order would say."""
    return Compare(c.b, c.adj, c.more, c.a)


# ---------------------------------------------------------------------------------------------
# Quantified statements: truth in a Venn model, entailment by enumerating models.

def _holds(q: str, s: int, p: int, regions: tuple[frozenset, ...]) -> bool:
    """Truth of `q s p` in a model given as its non-empty Venn regions (sets of term indices)."""
    if q == "all":
        return not any(s in r and p not in r for r in regions)
    overlap = any(s in r and p in r for r in regions)
    return overlap if q == "some" else not overlap


@cache
def _models(n_terms: int) -> list[tuple[frozenset, ...]]:
    """All Venn models over n terms in which every term has a member."""
    cells = [frozenset(c) for k in range(1, n_terms + 1) for c in itertools.combinations(range(n_terms), k)]
    models = []
    for mask in range(1, 1 << len(cells)):
        regions = tuple(c for i, c in enumerate(cells) if mask >> i & 1)
        if all(any(t in r for r in regions) for t in range(n_terms)):
            models.append(regions)
    return models


@cache
def _entailed(premises: tuple[tuple[str, int, int], ...], n_terms: int) -> tuple[tuple[str, int, int], ...]:
    """Every `q s p` over the term indices that is true in all models of the premises.

    Premises that have no model entail nothing here (the engine never builds such worlds).
    """
    models = [m for m in _models(n_terms) if all(_holds(q, s, p, m) for q, s, p in premises)]
    if not models:
        return ()
    out = []
    for q in QUANTIFIERS:
        for s, p in itertools.permutations(range(n_terms), 2):
            if all(_holds(q, s, p, m) for m in models):
                out.append((q, s, p))
    return tuple(out)


def satisfiable(statements: list[Quant]) -> bool:
    """Whether quantified statements over at most three terms can all be true together."""
    terms = sorted({t for st in statements for t in (st.s, st.p)})
    assert len(terms) <= 3, "satisfiability is only checked on small term sets"
    idx = {t: i for i, t in enumerate(terms)}
    encoded = [(st.q, idx[st.s], idx[st.p]) for st in statements]
    return any(all(_holds(q, s, p, m) for q, s, p in encoded) for m in _models(len(terms)))


def syllogism_conclusions(first: Quant, second: Quant) -> list[Quant]:
    """The valid conclusions linking the two end terms of two premises that share a middle term."""
    terms = [first.s, first.p, second.s, second.p]
    shared = {first.s, first.p} & {second.s, second.p}
    assert len(shared) == 1 and len(set(terms)) == 3, "premises must share exactly one term"
    (middle,) = shared
    ends = [t for t in dict.fromkeys(terms) if t != middle]
    names = [ends[0], middle, ends[1]]
    idx = {t: i for i, t in enumerate(names)}
    premises = ((first.q, idx[first.s], idx[first.p]), (second.q, idx[second.s], idx[second.p]))
    return [Quant(q, names[s], names[p]) for q, s, p in _entailed(premises, 3) if 1 not in (s, p)]


def equivalent(a: Quant, b: Quant) -> bool:
    """Same statement: equal, or the converse of a symmetric one ("No s are p" = "No p are s")."""
    return a == b or (a.q == b.q and a.q in ("some", "no") and (a.s, a.p) == (b.p, b.s))


def strongest(conclusions: list[Quant], subject_first: str) -> Quant | None:
    """The strongest conclusion (all > no > some), preferring `subject_first` as the subject on ties."""
    rank = {"all": 0, "no": 1, "some": 2}
    if not conclusions:
        return None
    return min(conclusions, key=lambda c: (rank[c.q], c.s != subject_first))


@cache
def _syllogism_table(key: tuple[str, bool, str, bool]) -> tuple[tuple[str, bool], ...]:
    """Conclusions of a premise pattern, by model checking once per pattern.

    key = (q1, middle is the subject of premise 1, q2, middle is the subject of premise 2); terms are
    end1 = 0, middle = 1, end2 = 2. Returns (quantifier, subject is end1) per valid conclusion.
    """
    q1, m_first1, q2, m_first2 = key
    premises = ((q1, 1, 0) if m_first1 else (q1, 0, 1), (q2, 1, 2) if m_first2 else (q2, 2, 1))
    return tuple((q, s == 0) for q, s, p in _entailed(premises, 3) if 1 not in (s, p))


# ---------------------------------------------------------------------------------------------
# The knowledge closure over a set of facts.

def _as_quant(form: Form) -> Quant | None:
    """Properties and relations as "all S are <predicate>" so inheritance is a syllogism."""
    if isinstance(form, Quant):
        return form
    if isinstance(form, Prop):
        return Quant("all", form.s, f"{form.kind}:{form.value}")
    if isinstance(form, Relation):
        return Quant("all", form.s, f"rel:{form.verb}:{form.o}")
    return None


def _from_quant(q: Quant) -> Form | None:
    """Back from the internal quantified form; None for statements with no surface form."""
    if ":" in q.s:
        return None
    if ":" not in q.p:
        return q
    if q.q != "all":
        return None
    kind, _, rest = q.p.partition(":")
    if kind == "rel":
        verb, _, obj = rest.partition(":")
        return Relation(q.s, verb, obj)
    return Prop(q.s, kind, rest)


class Knowledge:
    """Everything that follows from a set of facts, computed once; then `classify` is a lookup."""

    def __init__(self, facts: list[Form]):
        self.facts = list(facts)
        quants = {q for f in self.facts if (q := _as_quant(f)) is not None}
        self._quants = self._close_quants(quants)
        self._more = self._close_comparisons([f for f in self.facts if isinstance(f, Compare)])
        self._names_by_desc: dict[str, set[str]] = {}
        for f in self.facts:
            if isinstance(f, Describe):
                self._names_by_desc.setdefault(f.desc, set()).add(f.name)
        self.derived: set[Form] = {f for q in self._quants if (f := _from_quant(q)) is not None}
        for adj, pairs in self._more.items():
            for a, b in pairs:
                self.derived.add(Compare(a, adj, True, b))
                self.derived.add(Compare(b, adj, False, a))
        self.derived.update(f for f in self.facts if isinstance(f, Describe))

    @staticmethod
    def _close_quants(quants: set[Quant]) -> set[Quant]:
        """Forward chaining: two-term consequences and syllogisms until nothing new appears.

        Works on plain (q, s, p) tuples: this loop runs for every inference document of the corpus.
        """
        known: set[tuple[str, str, str]] = set()
        by_term: dict[str, list[tuple[str, str, str]]] = {}
        todo = [(x.q, x.s, x.p) for x in quants]
        while todo:
            st = todo.pop()
            if st in known:
                continue
            q0, s0, p0 = st
            if q0 == "some" and (":" in s0 or ":" in p0):
                # A particular statement about a property can only ever conclude other particular
                # statements about properties, which have no surface form: prune them.
                continue
            known.add(st)
            by_term.setdefault(s0, []).append(st)
            by_term.setdefault(p0, []).append(st)
            pair = (s0, p0)
            for q, s, p in _entailed(((q0, 0, 1),), 2):
                if (q, pair[s], pair[p]) not in known:
                    todo.append((q, pair[s], pair[p]))
            for middle in pair:
                end1 = p0 if s0 == middle else s0
                for other in by_term[middle]:
                    end2 = other[2] if other[1] == middle else other[1]
                    if end1 == end2:
                        continue  # also skips `st` itself
                    key = (q0, s0 == middle, other[0], other[1] == middle)
                    for q, first_is_end1 in _syllogism_table(key):
                        new = (q, end1, end2) if first_is_end1 else (q, end2, end1)
                        if new not in known:
                            todo.append(new)
        return {Quant(*t) for t in known}

    @staticmethod
    def _close_comparisons(comparisons: list[Compare]) -> dict[str, set[tuple[str, str]]]:
        """Per dimension, the transitive closure of "a is more ADJ than b" (multi-hop chains)."""
        more: dict[str, set[tuple[str, str]]] = {}
        for c in comparisons:
            more.setdefault(c.adj, set()).add((c.a, c.b) if c.more else (c.b, c.a))
        for adj, pairs in more.items():
            changed = True
            while changed:
                new = {(a, d) for a, b in pairs for c, d in pairs if b == c and a != d} - pairs
                pairs |= new
                changed = bool(new)
            more[adj] = pairs
        return more

    def follows(self, statement: Form) -> bool:
        return statement in self.derived

    def classify(self, statement: Form) -> str:
        """"follows", "contradicts" or "unrelated" with respect to the facts."""
        if statement in self.derived:
            return "follows"
        if isinstance(statement, Compare):
            return "contradicts" if reverse(contradict(statement)) in self.derived else "unrelated"
        if isinstance(statement, Describe):
            others = self._names_by_desc.get(statement.desc, set()) - {statement.name}
            return "contradicts" if others else "unrelated"
        q = _as_quant(statement)
        if q is None:
            return "unrelated"
        pair = {q.s, q.p}
        related = [k for k in self._quants if {k.s, k.p} == pair]
        if related and not satisfiable(related + [q]):
            return "contradicts"
        return "unrelated"


def classify(statement: Form, facts: list[Form]) -> str:
    """"follows", "contradicts" or "unrelated": the engine's verdict on one statement."""
    return Knowledge(facts).classify(statement)


def valid_syllogism_patterns() -> list[tuple[Quant, Quant, Quant]]:
    """Every premise pair over end terms S, P and middle M with a valid S-P conclusion.

    Returns (first premise, second premise, strongest conclusion) over the placeholder terms
    "S", "M", "P", oriented so that the strongest conclusion has S as its subject.
    """
    patterns = []
    for q1, q2 in itertools.product(QUANTIFIERS, repeat=2):
        for first in (Quant(q1, "M", "P"), Quant(q1, "P", "M")):
            for second in (Quant(q2, "S", "M"), Quant(q2, "M", "S")):
                best = strongest(syllogism_conclusions(first, second), subject_first="S")
                if best is None:
                    continue
                if best.s == "S":
                    patterns.append((first, second, best))
                else:  # rename S <-> P so the conclusion reads "Q S are P"
                    swap = {"S": "P", "P": "S", "M": "M"}
                    a, b = (Quant(x.q, swap[x.s], swap[x.p]) for x in (second, first))
                    patterns.append((a, b, Quant(best.q, "S", "P")))
    return sorted(set(patterns), key=lambda t: tuple(map(to_list, t)))
