"""process: executing a made-up transform D (the paper's process knowledge), with a compositional split.

The words are grouped in fours; each group is a set of nonsense functions whose primitive rules give
each one the next as its partner ("D(glon(x)) = femp(x)", in a cycle), under the dataset's three
structural rules (`process_logic.DATASET_SCHEMAS`, none the real derivative's):
    D(A+B) = D(A)*D(B)      D(A*B) = D(B)+A      D(f(A)) = f(D(A))*A
Training documents, per group: its rule sheet (the four primitive rules and the three schemas), and
worked examples: D(expression), one rule application per line, then "D(expression) = answer".
Worked examples use only the trained combinations of rules (every (parent rule, child rule) pair
but `HELD_OUT`: composition applied to a product, a product whose transformed factor is a sum).

Test prompt: "D(expression) =" (every item needs its group's rule sheet); four options: the
engine's transform and three distractors, each the transform with one wrong schema at exactly one
rule application below the outermost (`meta["wrong_at"]`: its path and schema), so every option
agrees with the answer on the outermost rule and differs from it at one node. Chance 1/4.

Test splits (expressions never in a training document):
  train          trained combinations only, 2-3 nested rule applications (as the worked examples);
  compositional  at least one held-out combination, 2-3 nested rule applications;
  deeper         trained combinations only, 4 nested rule applications (more than any example);
and each again as SPLIT-gen, exact-match generation: the same prompts, answered by the model's greedy
continuation, which the engine parses and compares with the transform (chance 0).
"""

from __future__ import annotations

import itertools
import random

from minigen.data.datasets import Dataset, Document, TestItem, resolve_size
from minigen.data.datasets.common import eval_words, shuffled_options
from minigen.data.process_logic import (
    DATASET_SCHEMAS,
    KINDS,
    SCHEMAS,
    Rules,
    combinations,
    depth,
    edit_distance,
    n_apps,
    outermost_only,
    parse,
    partner_cycle,
    prompt_of,
    random_expression,
    show,
    symbols,
    trace,
    transform,
    worked_example,
)

DEFAULT_ITEMS = 24  # test items per split
NAMES = 4  # functions per group
ITEMS_PER_GROUP = 4  # per split
EXAMPLES_PER_GROUP = 8  # worked examples per group
N_OPTIONS = 4
HELD_OUT = (("comp", "prod"), ("prod", "sum"))
TRAINED = tuple((p, c) for p in ("comp", "sum", "prod") for c in KINDS if (p, c) not in HELD_OUT)
TRAIN_DEPTHS = (2, 3)
DEEPER_DEPTH = 4
MAX_APPS = 6  # function applications in an expression; its transform holds at most MAX_ANSWER_APPS
MAX_ANSWER_APPS = 9
SPLITS = ("train", "compositional", "deeper")
GEN = "-gen"  # the exact-match form of a split: SPLIT-gen, the same expressions answered by generation


def distractors(expression: tuple, rules: Rules) -> dict[str, list]:
    """Every option one wrong schema below the outermost rule application gives: its text -> the
    (path, schema) that gives it (the first found), none equal to the answer."""
    answer = show(transform(expression, rules))
    out: dict[str, list] = {}
    for path, kind in trace(expression, rules)[1:]:
        for alt in SCHEMAS[kind]:
            if alt == rules.schema(kind):
                continue
            text = show(transform(expression, rules, (path, alt)))
            if text != answer:
                out.setdefault(text, [list(path), alt])
    return out


def sample_expression(rng: random.Random, names: list[str], rules: Rules, depths: tuple[int, ...],
                      allowed: set | None, must: tuple | None, taken: set[str]) -> tuple:
    """A new expression (not in `taken`) with its rule combinations inside `allowed` (None: any)
    and holding `must`, of one of `depths`, short enough, with enough distinct distractors."""
    for _ in range(100_000):
        e = random_expression(rng, names, rules, rng.choice(depths))
        combos = combinations(e, rules)
        if show(e) in taken or (allowed is not None and not combos <= allowed) or \
                (must is not None and must not in combos):
            continue
        if n_apps(e) > MAX_APPS or n_apps(transform(e, rules)) > MAX_ANSWER_APPS:
            continue
        if len(distractors(e, rules)) < N_OPTIONS - 1:
            continue
        taken.add(show(e))
        return e
    raise AssertionError(f"no expression of depth {depths} with {must}")


def _credit(distances: list[int], sign: int) -> float:
    """The answer's (index 0) expected credit when the option with the least sign * distance is picked
    (ties: a uniform guess among them)."""
    best = min(sign * d for d in distances)
    top = [k for k, d in enumerate(distances) if sign * d == best]
    return (0 in top) / len(top)


# The surface cues kept at chance: the option nearest / farthest (in symbols) from the expression
# itself, and from the expression with only its outermost rule applied.
CUES = (("copy", 1), ("copy", -1), ("outermost", 1), ("outermost", -1))


class Balance:
    """Keeps the surface cues (`CUES`) near chance on each split: an item's distractor set is drawn
    among those that bring the cues' running means nearest 1/N_OPTIONS. Left alone, the option
    nearest the expression is almost never the answer (the dataset's rules reorder their arguments,
    so a wrong rule that keeps the order looks more like the expression than the answer does), and
    the farthest one often is."""

    def __init__(self):
        self.sums: dict[str, list[float]] = {}

    def choose(self, split: str, expression: tuple, rules: Rules, answer: str, pool: list[str],
               rng: random.Random) -> list[str]:
        goals = {"copy": symbols(show(expression)),
                 "outermost": symbols(show(outermost_only(expression, rules)))}
        dist = {name: {t: edit_distance(symbols(t), goal) for t in [answer, *pool]}
                for name, goal in goals.items()}
        subsets = list(itertools.combinations(pool, N_OPTIONS - 1))
        if len(subsets) > 400:
            subsets = rng.sample(subsets, 400)
        sums = self.sums.setdefault(split, [0.0] * (1 + len(CUES)))  # items, then each cue's credit
        goal = (sums[0] + 1) / N_OPTIONS

        def credits(subset) -> list[float]:
            return [_credit([dist[name][t] for t in (answer, *subset)], sign) for name, sign in CUES]

        costs = [sum(abs(s + c - goal) for s, c in zip(sums[1:], credits(sub), strict=True))
                 for sub in subsets]
        best = [sub for sub, c in zip(subsets, costs, strict=True) if c == min(costs)]
        chosen = list(rng.choice(best))
        sums[0] += 1
        for k, c in enumerate(credits(chosen)):
            sums[1 + k] += c
        return chosen


def _item(item_id: str, split: str, expression: tuple, rules: Rules, doc_id: str, group: int,
          balance: Balance, rng: random.Random) -> TestItem:
    answer = transform(expression, rules)
    wrong = distractors(expression, rules)
    chosen = balance.choose(split, expression, rules, show(answer), sorted(wrong), rng)
    rng.shuffle(chosen)
    texts = [show(answer), *chosen]
    options, index, order = shuffled_options(rng, [" " + t for t in texts], 0)
    forms = [answer] + [parse(t) for t in chosen]
    wrong_at = [None] + [wrong[t] for t in chosen]
    return TestItem(
        id=item_id, split=split, prompt=prompt_of(expression), options=options, answer=index,
        meta={
            "doc_ids": [doc_id],
            "valid": [forms[j] == answer for j in order],
            "expression": expression,
            "option_terms": [forms[j] for j in order],
            "wrong_at": [wrong_at[j] for j in order],
            "combinations": sorted(map(list, combinations(expression, rules))),
            "depth": depth(expression, rules),
            "group": group,
            "rules": rules.to_dict(),
        },
    )


def build(seed: int = 0, lexicon_seed: int = 0, size=None, words: str = "test") -> Dataset:
    pool = eval_words("process", seed, lexicon_seed, words)
    n = resolve_size("process", size, DEFAULT_ITEMS, "items per split", len(pool) // NAMES * ITEMS_PER_GROUP)
    n_groups = -(-n // ITEMS_PER_GROUP)
    rng = random.Random(f"process-build:{seed}")
    trained = set(TRAINED)
    balance = Balance()
    train: list[Document] = []
    test: dict[str, list[TestItem]] = {s: [] for s in SPLITS}
    turn = 0  # cycles the required combination over examples and items
    for g in range(n_groups):
        names = pool[NAMES * g: NAMES * (g + 1)]
        rules = Rules(partner_cycle(names), **DATASET_SCHEMAS)
        order = list(names)
        rng.shuffle(order)
        sheet_id = f"process-g{g:02d}-rules"
        train.append(Document(sheet_id, "\n".join(rules.lines(order))))
        taken: set[str] = set()
        for k in range(EXAMPLES_PER_GROUP):
            must = TRAINED[turn % len(TRAINED)]
            e = sample_expression(rng, names, rules, TRAIN_DEPTHS, trained, must, taken)
            turn += 1
            train.append(Document(f"process-g{g:02d}-ex{k}", worked_example(e, rules)))
        for k in range(min(ITEMS_PER_GROUP, n - ITEMS_PER_GROUP * g)):
            specs = {"train": (TRAIN_DEPTHS, trained, TRAINED[turn % len(TRAINED)]),
                     "compositional": (TRAIN_DEPTHS, None, HELD_OUT[turn % len(HELD_OUT)]),
                     "deeper": ((DEEPER_DEPTH,), trained, None)}
            turn += 1
            for split, (depths, allowed, must) in specs.items():
                e = sample_expression(rng, names, rules, depths, allowed, must, taken)
                item_id = f"process-{split}-g{g:02d}-{k}"
                test[split].append(_item(item_id, split, e, rules, sheet_id, g, balance, rng))
    items = [item for s in SPLITS for item in test[s]]
    items += [generation_item(item) for item in items]
    chance = {**dict.fromkeys(SPLITS, 1 / N_OPTIONS), **dict.fromkeys((s + GEN for s in SPLITS), 0.0)}
    return Dataset("process", train, items, chance)


def generation_item(item: TestItem) -> TestItem:
    """The exact-match form of a multiple-choice item: the same prompt, the answer as its one option
    (scored for its log-likelihood too), and meta["generate"] naming the check that reads the model's
    greedy continuation (`minigen.eval.generation`): the engine parses it and compares the term."""
    answer = item.meta["option_terms"][item.answer]
    meta = {k: item.meta[k] for k in ("doc_ids", "expression", "combinations", "depth", "group", "rules")}
    return TestItem(id=item.id + GEN, split=item.split + GEN, prompt=item.prompt,
                    options=[" " + show(answer)], answer=0,
                    meta={**meta, "valid": [True], "answer_term": answer, "generate": "process"})
