"""Augmentation of the process dataset, in its own format: lines "D(expression) = answer".

- `local`: per worked example, its group's rule sheet in context, then "D(expression) =" of the
  example's own expression: the model re-derives the document's conclusion;
- `global`: per group, its rule sheet and as many of its worked examples as fit in context (the ICL
  layout), then "D(expression) =" for new expressions the engine draws over the group's names, depths
  2-3, `n` rounds of one per combination of rules (`COMBINATIONS`, the held-out ones included): the
  model's own answers to combinations the documents never work through;
- `oracle-local` / `oracle-global`: the engine's answers to the same prompts.
A record's text is the question and the model's continuation up to its line break; a continuation cut
by the token limit gives none. Records are judged by `process_logic`: one parses when it is "D(e) = t"
with both sides parsed, is valid when t is D(e) under the rules of the group whose names e uses, new
when no training line states D(e) = t (every step of a worked example states one), and states a test
answer when (e, t) is a test item's expression and answer. The groups' rules are read back from their
rule sheets: the documents are all it needs, as for the fact datasets.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from minigen.augment.facts import TestAnswers
from minigen.augment.generate import AugmentConfig, Batch, _record, check_strategy
from minigen.augment.sampling import sample_texts
from minigen.data.datasets.process import MAX_ANSWER_APPS, MAX_APPS, TRAIN_DEPTHS
from minigen.data.process_logic import (
    KINDS,
    SCHEMAS,
    Rules,
    X,
    children,
    combinations,
    n_apps,
    parse,
    prompt_of,
    random_expression,
    schema_line,
    show,
    to_term,
    transform,
)
from minigen.errors import UserError
from minigen.eval.contexts import context_text

# Every (parent rule, transformed child's rule) pair an expression can hold, the held-out ones too.
COMBINATIONS = tuple((p, c) for p in ("comp", "sum", "prod") for c in KINDS)
NOTES = {"parse": "(\"D(e) = t\", both sides by process_logic.parse)",
         "valid": "(t is D(e) under the group's rules, by process_logic.transform)",
         "contradict": "(a group's expression, a wrong transform)",
         "new": "(no line of a training document states D(e) = t)",
         "new_text": "(the line is not a training line)",
         "units": {"oracle-local": "documents", "oracle-global": "prompts"}}
FORMATS = {"local": "process", "global": "process"}
ADVICE = "use a checkpoint pretrained with process documents (a recipe with data.mixture.process > 0)"


def _term(text: str) -> tuple | None:
    try:
        return parse(text)
    except (UserError, RecursionError):  # not an expression (or nested past Python's stack)
        return None


def read_line(text: str) -> tuple[tuple, tuple] | None:
    """(e, t) of a line "D(e) = t" whose two sides `process_logic.parse` reads, else None."""
    lhs, sep, rhs = text.partition("=")
    if not sep or "=" in rhs:
        return None
    left, right = _term(lhs), _term(rhs)
    return (left[1], right) if left is not None and right is not None and left[0] == "D" else None


def read_sheet(text: str) -> Rules | None:
    """The rules a rule sheet states (its primitive rules in their order), else None."""
    schemas = {schema_line(k, a): (k, a) for k in ("sum", "prod", "comp") for a in SCHEMAS[k]}
    partner, chosen = {}, {}
    for line in text.split("\n"):
        if line in schemas:
            kind, alt = schemas[line]
            chosen[kind] = alt
            continue
        pair = read_line(line)
        if pair is None or not all(t[0] == "app" and t[2] == X for t in pair):
            return None
        partner[pair[0][1]] = pair[1][1]
    return Rules(partner, **chosen) if partner and len(chosen) == 3 else None


def names_of(term: tuple) -> set[str]:
    return ({term[1]} if term[0] == "app" else set()).union(*(names_of(c) for c in children(term)))


def transformable(term: tuple) -> bool:
    """Whether D applies: functions, sums and products of x, nothing else (no D, no metavariable)."""
    if term[0] == "app":
        return term[2] == X or transformable(term[2])
    return term[0] in ("sum", "prod") and all(transformable(c) for c in term[1:])


@dataclass
class Group:
    sheet: object  # the rule sheet (Document)
    rules: Rules
    examples: list = field(default_factory=list)  # (worked example Document, its expression, its last line)

    @property
    def names(self) -> list[str]:
        return list(self.rules.partner)


@dataclass
class ProcessFacts:
    """What the training documents state: the groups, every (e, t) a line equates with D(e), the lines."""

    groups: list[Group]
    stated: set[tuple[tuple, tuple]]
    texts: set[str]  # training lines, spaces removed

    @classmethod
    def from_documents(cls, documents: list) -> ProcessFacts:
        groups, stated, texts, examples = [], set(), set(), []
        for doc in documents:
            lines = doc.text.split("\n")
            texts.update(compact(line) for line in lines)
            rules = read_sheet(doc.text)
            if rules is not None:
                groups.append(Group(doc, rules))
            current = None
            for line in lines:  # "D(e) = s1", then "= s2" ...: every step equals D(e)
                if line.startswith("=") and current is not None:
                    if (step := _term(line[1:])) is not None:
                        stated.add((current, step))
                elif (pair := read_line(line)) is not None:
                    current = pair[0]
                    stated.add(pair)
            last = read_line(lines[-1])
            if rules is None and last is not None:
                examples.append((doc, last[0], lines[-1]))
        facts = cls(groups, stated, texts)
        for doc, e, line in examples:
            group = facts.group_of(e)
            if group is not None:
                group.examples.append((doc, e, line))
        return facts

    def group_of(self, expression: tuple) -> Group | None:
        names = names_of(expression)
        return next((g for g in self.groups if names and names <= set(g.rules.partner)), None)

    def verdict(self, expression: tuple, term: tuple) -> str:
        group = self.group_of(expression)
        if group is None or not transformable(expression):
            return "unrelated"
        return "follows" if transform(expression, group.rules) == term else "contradicts"


def compact(line: str) -> str:
    return "".join(line.split())


def answers_of(items: list, facts: ProcessFacts) -> TestAnswers:
    """Test items by (expression, answer), the exact-match twins too; pairs training states are left out."""
    by_key: dict[tuple, list[str]] = {}
    split_of: dict[str, str] = {}
    for item in items:
        meta = item.meta
        if "expression" not in meta:
            continue
        answer = meta["answer_term"] if "answer_term" in meta else meta["option_terms"][item.answer]
        key = (to_term(meta["expression"]), to_term(answer))
        if key in facts.stated:
            continue
        by_key.setdefault(key, []).append(item.id)
        split_of[item.id] = item.split
    return TestAnswers(by_key, split_of)


def annotate(record: dict, facts: ProcessFacts, answers: TestAnswers) -> dict:
    """The record with the report's fields (see report.py), judged by the process engine."""
    text = record["text"]
    out = dict(record)
    out["new_text"] = compact(text) not in facts.texts
    pair = read_line(text)
    if pair is None:
        out.update(form=None, verdict=None, new=None, answers=[])
        return out
    out.update(form={"expression": pair[0], "term": pair[1]}, verdict=facts.verdict(*pair),
               new=pair not in facts.stated, answers=list(answers.by_key.get(pair, [])))
    return out


def global_expressions(group: Group, cfg: AugmentConfig) -> list[tuple[int, tuple]]:
    """(round, expression): `cfg.n` rounds of one new expression per combination, seeded by cfg.seed."""
    rng = random.Random(f"process-global:{cfg.seed}:{group.sheet.id}")
    taken = {show(e) for _, e, _ in group.examples}
    return [(j, _draw(rng, group, combo, taken)) for j in range(cfg.n) for combo in COMBINATIONS]


def _draw(rng: random.Random, group: Group, combo: tuple[str, str], taken: set[str]) -> tuple:
    """A random expression over the group's names holding `combo`, as short as the dataset's, new."""
    for _ in range(100_000):
        e = random_expression(rng, group.names, group.rules, rng.choice(TRAIN_DEPTHS))
        if show(e) in taken or combo not in combinations(e, group.rules):
            continue
        if n_apps(e) > MAX_APPS or n_apps(transform(e, group.rules)) > MAX_ANSWER_APPS:
            continue
        taken.add(show(e))
        return e
    raise AssertionError(f"no expression of depth {TRAIN_DEPTHS} with {combo}")


def answer_line(expression: tuple, rules: Rules) -> str:
    return f"{prompt_of(expression)} {show(transform(expression, rules))}"


def augment(strategy: str, documents: list, cfg: AugmentConfig, model=None, tokenizer=None,
            facts: ProcessFacts | None = None) -> Iterator[Batch]:
    """`strategy`'s records for the process documents (see the module doc), batch by batch."""
    check_strategy(strategy)
    if strategy.startswith("placebo"):
        raise UserError(f"{strategy} renames the words of fact statements; the process dataset has none "
                        f"(use local, global, oracle-local or oracle-global)")
    facts = facts or ProcessFacts.from_documents(documents)
    if strategy == "oracle-local":
        for g in facts.groups:
            for doc, e, line in g.examples:
                yield Batch([_record(strategy, doc.id, _unit(doc), 0, answer_line(e, g.rules), line)], 1)
    elif strategy == "oracle-global":
        for g in facts.groups:
            drawn = global_expressions(g, cfg)
            yield Batch([_record(strategy, g.sheet.id, None, j, answer_line(e, g.rules)) for j, e in drawn],
                        len(drawn))
    else:
        assert model is not None and tokenizer is not None, f"{strategy} needs a model"
        jobs = _local_jobs(facts, cfg) if strategy == "local" else _global_jobs(facts, cfg, model, tokenizer)
        yield from _run_jobs(strategy, jobs, cfg, model, tokenizer)


@dataclass
class _Job:
    source: str
    unit: int | None
    sample: int
    question: str  # "D(e) =": the record's start
    prompt: str  # the context, then the question
    input: str | None = None


def _unit(doc) -> int:
    """The index of a worked example's conclusion, its last line."""
    return doc.text.count("\n")


def _local_jobs(facts: ProcessFacts, cfg: AugmentConfig) -> list[_Job]:
    jobs = []
    for g in facts.groups:
        for doc, e, line in g.examples:
            q = prompt_of(e)
            prompt = context_text([g.sheet.text]) + q
            jobs += [_Job(doc.id, _unit(doc), j, q, prompt, line) for j in range(cfg.n)]
    return jobs


def _global_jobs(facts: ProcessFacts, cfg: AugmentConfig, model, tokenizer) -> list[_Job]:
    room = model.cfg.seq_len - cfg.local_tokens - 1  # 1: BOS
    jobs = []
    for g in facts.groups:
        cost = {d.id: len(tokenizer.encode(d.text)) + 1 for d in [g.sheet, *(d for d, _, _ in g.examples)]}
        for k, (j, e) in enumerate(global_expressions(g, cfg)):
            rng = random.Random(f"process-global-context:{cfg.seed}:{g.sheet.id}:{k}")
            q = prompt_of(e)
            budget = room - len(tokenizer.encode(q)) - cost[g.sheet.id]
            examples = [d for d, _, _ in g.examples]
            rng.shuffle(examples)
            chosen = []
            for d in examples:
                if cost[d.id] <= budget:
                    chosen.append(d)
                    budget -= cost[d.id]
            order = [g.sheet, *chosen]
            rng.shuffle(order)
            prompt = context_text([d.text for d in order]) + q
            while chosen and len(tokenizer.encode(prompt)) > room:  # joint tokenization may differ
                order.remove(chosen.pop())
                prompt = context_text([d.text for d in order]) + q
            jobs.append(_Job(g.sheet.id, None, j, q, prompt))
    return jobs


def _run_jobs(strategy: str, jobs: list[_Job], cfg: AugmentConfig, model, tokenizer) -> Iterator[Batch]:
    newline = tokenizer.encode("\n")
    for samples in sample_texts(model, tokenizer, [j.prompt for j in jobs], max_new_tokens=cfg.local_tokens,
                                temperature=cfg.temperature, top_k=cfg.top_k, seed=cfg.seed,
                                batch_size=cfg.batch_size, stop_id=newline[0] if len(newline) == 1 else None):
        records, empty = [], 0
        for s in sorted(samples, key=lambda s: s.index):
            job = jobs[s.index]
            line = s.text.split("\n")[0] if "\n" in s.text or s.ended else ""  # cut by the limit: none
            if not line.strip():
                empty += 1
                continue
            records.append(_record(strategy, job.source, job.unit, job.sample, (job.question + line).strip(),
                                   job.input))
        yield Batch(records, len(samples), empty, tokens=sum(s.tokens for s in samples))
