"""The process-knowledge engine: expressions over nonsense function names, a made-up transform `D`
defined by one rule per constructor, its worked steps, and parsing.

Terms are nested tuples (JSON-friendly as lists): ("x",) the variable; ("app", NAME, T) a named
function applied to T; ("sum", A, B); ("prod", A, B); ("D", T) the transform not yet applied (worked
steps); ("meta", "A") a metavariable of a rule schema. Printed without spaces, a sum or product
inside another sum or product in parentheses: "(glon(x)+femp(x))*trelp(x)".

A rule set gives every primitive a partner (its rule: D(glon(x)) = femp(x)) and names one schema
per constructor from `SCHEMAS`. A node of an expression is of one kind: "prim" (a function applied
to x), "comp" (a function applied to anything else), "sum" or "prod". Each schema says which
children it transforms (with D) and which it copies; the nodes D reaches are the expression's
rule applications (`trace`), and a parent's kind with a transformed child's kind is a combination
of rules (`combinations`): what the process dataset holds out.

    python -m minigen.data.process_logic "D(glon(femp(x))+femp(x))"

prints the worked steps under the dataset's rules (names not in the rule set keep their own name as
partner). An expression the engine cannot parse is one line on stderr, exit code 2.
"""

from __future__ import annotations

import random
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

from minigen.errors import UserError

X = ("x",)
KINDS = ("prim", "comp", "sum", "prod")


def app(name: str, arg: tuple) -> tuple:
    return ("app", name, arg)


def kind_of(term: tuple) -> str:
    if term[0] == "app":
        return "prim" if term[2] == X else "comp"
    assert term[0] in ("sum", "prod"), term
    return term[0]


def children(term: tuple) -> tuple:
    return (term[2],) if term[0] == "app" else tuple(term[1:]) if term[0] in ("sum", "prod", "D") else ()


# --- the rule schemas ---------------------------------------------------------------------------------
# A schema maps (node, d, partner) to the node's transform, where d(i) is the transform of child i
# (an evaluated term, or ("D", child) in worked steps) and partner(name) the name a primitive rule
# gives. Every schema transforms each child at most once, so an answer stays about as long as its
# expression.

Schema = Callable[[tuple, Callable[[int], tuple], Callable[[str], str]], tuple]


def _child(term: tuple, i: int) -> tuple:
    return children(term)[i]


SCHEMAS: dict[str, dict[str, Schema]] = {
    "prim": {
        "partner": lambda t, d, p: app(p(t[1]), X),
        "second": lambda t, d, p: app(p(p(t[1])), X),
    },
    "sum": {
        "swap_op": lambda t, d, p: ("prod", d(0), d(1)),  # D(A+B) = D(A)*D(B)
        "keep_op": lambda t, d, p: ("sum", d(0), d(1)),  # D(A+B) = D(A)+D(B): the real derivative's
        "reverse": lambda t, d, p: ("prod", d(1), d(0)),  # D(A+B) = D(B)*D(A)
        "reverse_sum": lambda t, d, p: ("sum", d(1), d(0)),  # D(A+B) = D(B)+D(A)
    },
    "prod": {
        "tail": lambda t, d, p: ("sum", d(1), _child(t, 0)),  # D(A*B) = D(B)+A
        "head": lambda t, d, p: ("sum", d(0), _child(t, 1)),  # D(A*B) = D(A)+B
        "tail_prod": lambda t, d, p: ("prod", d(1), _child(t, 0)),  # D(A*B) = D(B)*A
        "front": lambda t, d, p: ("sum", _child(t, 0), d(1)),  # D(A*B) = A+D(B)
    },
    "comp": {
        "wrap": lambda t, d, p: ("prod", app(t[1], d(0)), _child(t, 0)),  # D(f(A)) = f(D(A))*A
        "wrap_sum": lambda t, d, p: ("sum", app(t[1], d(0)), _child(t, 0)),  # D(f(A)) = f(D(A))+A
        "lead": lambda t, d, p: ("prod", _child(t, 0), app(t[1], d(0))),  # D(f(A)) = A*f(D(A))
        "inner": lambda t, d, p: ("prod", app(t[1], _child(t, 0)), d(0)),  # D(f(A)) = f(A)*D(A)
    },
}
# Which children each schema transforms (read off the schema itself, once).
_META = {"sum": ("sum", ("meta", "A"), ("meta", "B")), "prod": ("prod", ("meta", "A"), ("meta", "B")),
         "comp": app("f", ("meta", "A")), "prim": app("f", X)}


def _reached(kind: str, alt: str) -> tuple[int, ...]:
    seen: list[int] = []

    def d(i: int) -> tuple:
        seen.append(i)
        return ("D", _child(_META[kind], i))

    SCHEMAS[kind][alt](_META[kind], d, lambda n: n)
    return tuple(seen)


REACHED = {(k, a): _reached(k, a) for k in SCHEMAS for a in SCHEMAS[k]}


@dataclass(frozen=True)
class Rules:
    """A rule set: each primitive's partner, and the schema of each structural constructor."""

    partner: dict = field(default_factory=dict)  # name -> the name D(name(x)) gives
    sum: str = "swap_op"
    prod: str = "tail"
    comp: str = "wrap"

    def __post_init__(self) -> None:
        for kind in ("sum", "prod", "comp"):
            assert getattr(self, kind) in SCHEMAS[kind], (kind, getattr(self, kind))

    def schema(self, kind: str) -> str:
        return "partner" if kind == "prim" else getattr(self, kind)

    def partner_of(self, name: str) -> str:
        return self.partner.get(name, name)

    def lines(self, order: list[str] | None = None) -> list[str]:
        """The rule set as text: one line per primitive (in `order`), then the three schemas."""
        names = order if order is not None else list(self.partner)
        return [f"D({show(app(n, X))}) = {show(app(self.partner[n], X))}" for n in names] + [
            schema_line(k, self.schema(k)) for k in ("sum", "prod", "comp")]

    def to_dict(self) -> dict:
        return {"partner": dict(self.partner), "sum": self.sum, "prod": self.prod, "comp": self.comp}

    @classmethod
    def from_dict(cls, d: dict) -> Rules:
        return cls(dict(d["partner"]), d["sum"], d["prod"], d["comp"])


# The process dataset's rules: none of them the real derivative's (sum rule D(A)+D(B), product rule
# D(A)*B+A*D(B), chain rule f'(A)*D(A)).
DATASET_SCHEMAS = {"sum": "swap_op", "prod": "tail", "comp": "wrap"}


def schema_line(kind: str, alt: str) -> str:
    """A schema as a rule over metavariables: "D(A+B) = D(A)*D(B)"."""
    lhs = _META[kind]
    rhs = SCHEMAS[kind][alt](lhs, lambda i: ("D", _child(lhs, i)), lambda n: n)
    return f"{show(('D', lhs))} = {show(rhs)}"


# --- the transform ------------------------------------------------------------------------------------

def transform(term: tuple, rules: Rules, wrong: tuple | None = None, path: tuple = ()) -> tuple:
    """D(term) under `rules`; `wrong` = (path, schema) applies that schema instead at the node at path."""
    kind = kind_of(term)
    alt = wrong[1] if wrong is not None and tuple(wrong[0]) == path else rules.schema(kind)
    return SCHEMAS[kind][alt](term, lambda i: transform(_child(term, i), rules, wrong, (*path, i)),
                              rules.partner_of)


def trace(term: tuple, rules: Rules, path: tuple = ()) -> list[tuple[tuple, str]]:
    """The rule applications of D(term): (path of the node, its kind), pre-order."""
    kind = kind_of(term)
    out = [(path, kind)]
    for i in REACHED[kind, rules.schema(kind)]:
        out += trace(_child(term, i), rules, (*path, i))
    return out


def combinations(term: tuple, rules: Rules) -> set[tuple[str, str]]:
    """(parent kind, child kind) for each rule application whose result another one uses."""
    kinds = dict(trace(term, rules))
    return {(kinds[p[:-1]], k) for p, k in kinds.items() if p}


def depth(term: tuple, rules: Rules) -> int:
    """The longest chain of rule applications."""
    return max(len(p) for p, _ in trace(term, rules)) + 1


def step(term: tuple, rules: Rules) -> tuple | None:
    """One worked step: the leftmost-outermost D(...) rewritten by its rule (None: no D left)."""
    if term[0] == "D":
        inner = term[1]
        return SCHEMAS[kind_of(inner)][rules.schema(kind_of(inner))](
            inner, lambda i: ("D", _child(inner, i)), rules.partner_of)
    for i, c in enumerate(children(term)):
        new = step(c, rules)
        if new is not None:
            return _replace(term, i, new)
    return None


def _replace(term: tuple, i: int, new: tuple) -> tuple:
    if term[0] == "app":
        return ("app", term[1], new)
    parts = list(term)
    parts[1 + i] = new
    return tuple(parts)


def worked_steps(term: tuple, rules: Rules) -> list[tuple]:
    """The terms from D(term) to its transform, one rule application per step."""
    out = [("D", term)]
    while (nxt := step(out[-1], rules)) is not None:
        out.append(nxt)
    assert out[-1] == transform(term, rules), term
    return out


def prompt_of(expression: tuple) -> str:
    """The question: "D(expression) =" (the answer follows after a space)."""
    return f"D({show(expression)}) ="


def worked_example(expression: tuple, rules: Rules) -> str:
    """D(expression) = its first step, then one line per step ("= ..."), then the question answered."""
    steps = worked_steps(expression, rules)
    lines = [f"{show(steps[0])} = {show(steps[1])}"] + [f"= {show(s)}" for s in steps[2:]]
    return "\n".join(lines + [f"{prompt_of(expression)} {show(steps[-1])}"])


# --- printing and parsing -----------------------------------------------------------------------------

def show(term: tuple) -> str:
    head = term[0]
    if head == "x":
        return "x"
    if head == "meta":
        return term[1]
    if head == "app":
        return f"{term[1]}({show(term[2])})"
    if head == "D":
        return f"D({show(term[1])})"
    op = "+" if head == "sum" else "*"
    return op.join(f"({show(c)})" if c[0] in ("sum", "prod") else show(c) for c in term[1:])


_TOKEN = re.compile(r"\s*(?:([a-z]+)|(D)|([()+*]))")


def parse(text: str) -> tuple:
    """The term `text` writes (spaces ignored); a UserError for anything else."""
    tokens, pos = [], 0
    stripped = text.rstrip()
    while pos < len(stripped):
        m = _TOKEN.match(stripped, pos)
        if m is None:
            raise UserError(f"cannot parse expression {text!r}: unexpected {stripped[pos:].strip()[:1]!r} "
                            f"at character {pos}; write e.g. D(glon(x)+femp(x))")
        tokens.append(m.group(1) or m.group(2) or m.group(3))
        pos = m.end()
    if not tokens:
        raise UserError("cannot parse an empty expression; write e.g. D(glon(x)+femp(x))")
    term, end = _expr(tokens, 0, text)
    if end < len(tokens) and tokens[end] in "+*":
        raise UserError(f"cannot parse expression {text!r}: a sum or product inside another needs "
                        f"parentheses, e.g. (glon(x)+femp(x))*x")
    if end != len(tokens):
        raise UserError(f"cannot parse expression {text!r}: {' '.join(tokens[end:])!r} left over "
                        f"(a sum or product inside another needs parentheses)")
    return term


def _expr(tokens: list[str], i: int, text: str) -> tuple[tuple, int]:
    left, i = _unit(tokens, i, text)
    if i < len(tokens) and tokens[i] in "+*":
        op = "sum" if tokens[i] == "+" else "prod"
        right, i = _unit(tokens, i + 1, text)
        return (op, left, right), i
    return left, i


def _unit(tokens: list[str], i: int, text: str) -> tuple[tuple, int]:
    def fail(what: str):
        raise UserError(f"cannot parse expression {text!r}: expected {what} at token {i + 1}")

    if i >= len(tokens):
        fail("more")
    tok = tokens[i]
    if tok == "x":
        return X, i + 1
    if tok == "(":
        inner, j = _expr(tokens, i + 1, text)
        _close(tokens, j, text)
        return inner, j + 1
    if tok == "D" or tok.isalpha() and tok.islower():
        if i + 1 >= len(tokens) or tokens[i + 1] != "(":
            i += 1
            fail(f"'(' after {tok!r}")
        inner, j = _expr(tokens, i + 2, text)
        _close(tokens, j, text)
        return (("D", inner) if tok == "D" else app(tok, inner)), j + 1
    fail("x, a function name, D or '('")
    raise AssertionError  # unreachable


def _close(tokens: list[str], j: int, text: str) -> None:
    if j < len(tokens) and tokens[j] in "+*":
        raise UserError(f"cannot parse expression {text!r}: a sum or product inside another needs "
                        f"parentheses, e.g. (glon(x)+femp(x))*x")
    if j >= len(tokens) or tokens[j] != ")":
        raise UserError(f"cannot parse expression {text!r}: expected ')' at token {j + 1}")


def to_term(data) -> tuple:
    """A term from its JSON form (nested lists)."""
    return tuple(to_term(x) if isinstance(x, list) else x for x in data)


def n_apps(term: tuple) -> int:
    """Function applications in a term (its size)."""
    return (term[0] == "app") + sum(n_apps(c) for c in children(term))


# --- random expressions -------------------------------------------------------------------------------

def random_expression(rng: random.Random, names: list[str], rules: Rules, depth_: int,
                      kinds: tuple[str, ...] = ("comp", "sum", "prod")) -> tuple:
    """A random expression whose D has exactly `depth_` nested rule applications along its deepest chain;
    structural nodes drawn from `kinds`; subterms the rules copy are single primitives."""
    if depth_ == 1:
        return app(rng.choice(names), X)
    kind = rng.choice(kinds)
    sub = random_expression(rng, names, rules, depth_ - 1, kinds)
    if kind == "comp":
        return app(rng.choice(names), sub)
    reached = REACHED[kind, rules.schema(kind)]
    other_depth = rng.randint(1, depth_ - 1) if len(reached) == 2 else 1
    other = random_expression(rng, names, rules, other_depth, kinds) if other_depth > 1 else \
        app(rng.choice(names), X)
    deep_side = rng.choice(reached) if len(reached) == 2 else reached[0]
    parts = [other, other]
    parts[deep_side] = sub
    return (kind, *parts)


# --- cheap heuristics (what an option's surface gives away) -------------------------------------------

def symbols(text: str) -> list[str]:
    return re.findall(r"[a-z]+|D|[()+*]", text)


def edit_distance(a: list[str], b: list[str]) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1]


def outermost_only(expression: tuple, rules: Rules) -> tuple:
    """The outermost rule applied, every D inside it left out (its argument copied)."""
    kind = kind_of(expression)
    return SCHEMAS[kind][rules.schema(kind)](expression, lambda i: _child(expression, i), rules.partner_of)


def closeness(target: tuple, options: list[str]) -> list[float]:
    """Per option, minus its edit distance (in symbols) to `target`: the nearest option scores highest."""
    goal = symbols(show(target))
    return [-float(edit_distance(symbols(o), goal)) for o in options]


def partner_cycle(names: list[str]) -> dict[str, str]:
    """Each name's partner: the next name, in a cycle."""
    return {n: names[(k + 1) % len(names)] for k, n in enumerate(names)}


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    try:
        if len(argv) != 1:
            raise UserError('give one expression, e.g. python -m minigen.data.process_logic "D(glon(x))"')
        term = parse(argv[0])
        if term[0] == "D":
            term = term[1]
        if term[0] not in ("app", "sum", "prod"):
            raise UserError(f"cannot transform {argv[0]!r}: D applies to a function of x, a sum or a product")
        rules = Rules({}, **DATASET_SCHEMAS)
        steps = worked_steps(term, rules)
        print(show(steps[0]) + "".join(f"\n= {show(s)}" for s in steps[1:]))
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
