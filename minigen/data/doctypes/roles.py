"""Role-curriculum documents: comparison facts whose questions only the word's role answers
(docs/log/2026-11-27-role-curriculum.md)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from minigen.data.doctypes.common import canonical, fact_line, n_facts, random_compare
from minigen.data.logic import Compare, reverse
from minigen.errors import UserError

MODES = ("copy", "flip", "mix")


@dataclass
class RolesDocs:
    # flip: every question reverses its fact; copy: every question restates it; mix: both, at same_share
    mode: str = "mix"
    confusers: float = 0.0  # share of later facts reusing an earlier word in the other role (copy / flip)
    more_share: float = 0.0  # share of documents whose facts all say "more" (the answer is the role itself)
    same_share: float = 0.5  # mix: share of questions restating their fact instead of reversing it
    repeats_max: int = 0  # each fact stands 1 to repeats_max + 1 times (as the dataset's articles repeat it)
    # share of a fact's later statements (all but its first) written reversed, so that a restatement is
    # copied or flipped by the word's role as a question is, not always copied
    restate_reversed: float = 0.0
    # mix: share of documents drawn as flip-mode ones instead (every question reverses, `replay_confusers`
    # as in the flip stage), so a later stage keeps rehearsing the flip it starts from
    flip_share: float = 0.0
    replay_confusers: float = 0.8
    # a replayed flip document restates its facts (repeats_max) as the mix ones do; False: each fact
    # once, since a restated confuser line ("B is ..." where B is also an object) is copied while its
    # question about B flips, the one pair of signals in the stage that contradict each other
    replay_restated: bool = True

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise UserError(f"data.roles.mode={self.mode!r} is unknown; use copy, flip or mix")
        for name in ("confusers", "more_share", "same_share", "flip_share", "replay_confusers",
                     "restate_reversed"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise UserError(f"data.roles.{name} must be in [0, 1]; got {getattr(self, name)}")
        if self.repeats_max < 0:
            raise UserError(f"data.roles.repeats_max must be >= 0; got {self.repeats_max}")


def role_doc(rng: random.Random, words: list[str], n: int, mode: str, cross: float,
             same_share: float = 0.5, fact_text=canonical, more_only: bool = False,
             repeats: int = 0, restate_reversed: float = 0.0) -> tuple[str, list[Compare], list[Compare]]:
    """(the fact lines, the facts, the questions as forms) of a role-curriculum document.

    mode "copy" / "flip": questions in one direction only, and each later fact reuses, with probability
    `cross`, an earlier fact's word in the other role ("confusers": copy reuses an earlier subject as
    its object, flip an earlier object as its subject); only words that stand once in the asked role are
    asked about. mode "mix": no shared words; each question restates its fact with probability
    `same_share`, else reverses it. more_only: every fact says "more", so the answer follows from the
    word's role alone (subject "more", object "less"). repeats: each fact stands 1 to repeats + 1 times
    (no draw at 0); each statement after its first is its reversal with probability `restate_reversed`
    (no draw at 0).
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
    lines = []
    for f in facts:
        for k in range(1 + (rng.randrange(repeats + 1) if repeats else 0)):
            reversed_ = k > 0 and restate_reversed > 0 and rng.random() < restate_reversed
            lines.append(fact_text(reverse(f) if reversed_ else f))
    rng.shuffle(lines)
    if mode == "copy":
        asked = [f for f in facts if sum(g.a == f.a for g in facts) == 1]
    elif mode == "flip":
        asked = [reverse(f) for f in facts if sum(g.b == f.b for g in facts) == 1]
    else:
        asked = [f if rng.random() < same_share else reverse(f) for f in facts]
    rng.shuffle(asked)
    return "\n".join(lines), facts, asked


def generate(rng: random.Random, words: list[str], cfg) -> str:
    """`role_doc` with the corpus's templates and prefixes, then its questions answered canonically.
    (No draw for more_only at more_share 0 or 1, nor for a replayed flip document at flip_share 0.)"""
    own = cfg.roles
    mode, confusers, repeats = own.mode, own.confusers, own.repeats_max
    if mode == "mix" and own.flip_share and rng.random() < own.flip_share:
        mode, confusers = "flip", own.replay_confusers
        repeats = repeats if own.replay_restated else 0
    share = own.more_share
    more_only = share == 1 or (0 < share < 1 and rng.random() < share)
    text, _, asked = role_doc(rng, words, n_facts(rng, cfg), mode, confusers, own.same_share,
                              lambda f: fact_line(f, rng, cfg), more_only, repeats,
                              own.restate_reversed)
    return text + "\n" + "\n".join(canonical(q) for q in asked)
