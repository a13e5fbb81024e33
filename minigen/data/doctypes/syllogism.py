"""In-context syllogism documents: premise pairs among distractor facts, then the test's questions and
their answers (the strongest valid conclusion)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from minigen.data.doctypes.common import canonical, fact_line, n_facts, random_fact
from minigen.data.logic import Quant, valid_syllogism_patterns
from minigen.data.templates import syllogism_prompt
from minigen.errors import UserError

_PATTERNS = valid_syllogism_patterns()
_PATTERNS_BY_Q: dict[str, list] = {}
for _first, _second, _concl in _PATTERNS:
    _PATTERNS_BY_Q.setdefault(_concl.q, []).append((_first, _second, _concl))
(_DARAPTI,) = [x for x in _PATTERNS_BY_Q["some"] if x[0].q == x[1].q == "all"]
_SOME_OTHERS = [x for x in _PATTERNS_BY_Q["some"] if x != _DARAPTI]
PATTERN_DRAWS = ("conclusion", "pattern")


@dataclass
class SyllogismDocs:
    pairs_max: int = 3  # premise pairs (each with its question) per document: 1..pairs_max
    prefix_scale: float = 0.5  # premises take a context prefix at this times data.prefix_prob
    # How a premise pair is drawn: "conclusion" (its conclusion's quantifier first, all / no / some equally
    # often, then a pattern with it: "All, All" premises then conclude "All" (Barbara) five times as often as
    # "Some" (Darapti), which the atmosphere rule gets wrong) or "pattern" (each of the ten valid patterns
    # equally often: Barbara and Darapti alike, so only the middle term's place tells them apart)
    draw: str = "conclusion"
    # Premise pairs no question asks about, 0..unasked_max a document (drawn only when > 0): an ICL
    # context holds about ten pairs and asks about one; a document of 1-3 pairs, each asked, never
    # makes the model find the pair a question is about among many
    unasked_max: int = 0
    # With the conclusion draw, the share of "some" conclusions drawn from Darapti ("All M are S", "All M
    # are P"; drawn only when set): uniform, 1 in 5, leaves "All, All" premises Barbara 5 times in 6, so
    # the atmosphere rule, which ignores the middle term, loses little; 0.6 makes it 3 in 8, the answers
    # still all / no / some equally often
    darapti_share: float | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.pairs_max <= 6:
            raise UserError(f"data.syllogism.pairs_max must be in 1..6; got {self.pairs_max}")
        if not 0 <= self.unasked_max <= 12:
            raise UserError(f"data.syllogism.unasked_max must be in 0..12; got {self.unasked_max}")
        if self.draw not in PATTERN_DRAWS:
            raise UserError(f"data.syllogism.draw must be one of {', '.join(PATTERN_DRAWS)}; "
                            f"got {self.draw!r}")
        if self.darapti_share is not None and not (0.0 <= self.darapti_share <= 1.0
                                                   and self.draw == "conclusion"):
            raise UserError(f"data.syllogism.darapti_share must be in [0, 1] with draw conclusion; got "
                            f"{self.darapti_share} with draw {self.draw}")
        if not 0.0 <= self.prefix_scale <= 1.0:
            raise UserError(f"data.syllogism.prefix_scale must be in [0, 1]; got {self.prefix_scale}")


def instance(rng: random.Random, s: str, m: str, p: str, draw: str = "conclusion",
             darapti_share: float | None = None):
    """(two premises, the conclusion) of a valid syllogism over terms s, m, p, drawn as `SyllogismDocs.draw`
    and `.darapti_share` say."""
    if draw == "pattern":
        first, second, concl = rng.choice(_PATTERNS)
    else:
        q = rng.choice(("all", "no", "some"))
        if q == "some" and darapti_share is not None:
            first, second, concl = _DARAPTI if rng.random() < darapti_share else rng.choice(_SOME_OTHERS)
        else:
            first, second, concl = rng.choice(_PATTERNS_BY_Q[q])
    name = {"S": s, "M": m, "P": p}
    premises = [Quant(x.q, name[x.s], name[x.p]) for x in (first, second)]
    return premises, Quant(concl.q, s, p)


def generate(rng: random.Random, words: list[str], cfg) -> str:
    own = cfg.syllogism
    k = rng.randint(1, own.pairs_max)
    n_distract = max(0, n_facts(rng, cfg) - 2 * k)
    unasked = rng.randint(0, own.unasked_max) if own.unasked_max else 0
    pool = rng.sample(words, 3 * (k + unasked) + 4 * n_distract)
    lines, questions = [], []
    for i in range(k + unasked):
        s, m, p = pool[3 * i: 3 * i + 3]
        premises, concl = instance(rng, s, m, p, own.draw, own.darapti_share)
        lines += [fact_line(x, rng, cfg, prefix_scale=own.prefix_scale) for x in premises]
        if i >= k:
            continue
        named = (s, p) if rng.random() < 0.5 else (p, s)  # the question's order says nothing ...
        if concl.q != "all":  # ... except which way round a symmetric answer is written
            concl = Quant(concl.q, *named)
        questions.append(f"{syllogism_prompt(*named)} {canonical(concl)}")
    rest = pool[3 * (k + unasked):]
    for i in range(n_distract):
        lines.append(fact_line(random_fact(rng, rest[4 * i: 4 * i + 4]), rng, cfg))
    rng.shuffle(lines)
    rng.shuffle(questions)
    return "\n".join(lines + questions)
