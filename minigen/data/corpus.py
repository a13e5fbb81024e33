"""The pretraining corpus: an endless seeded stream of documents, and row-addressable packing.

Row j of the packed corpus is a pure function of (config, j): its documents come from an RNG
seeded with (seed, j), so training can resume at any row and data-parallel ranks can take their
own rows without producing the ones before them.
"""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from minigen.data.doctypes import DOC_TYPES
from minigen.data.doctypes.keyval import KeyvalDocs
from minigen.data.doctypes.people import PeopleDocs
from minigen.data.doctypes.recall import RecallDocs
from minigen.data.doctypes.reversal import ReversalDocs
from minigen.data.doctypes.rewrite import RewriteDocs
from minigen.data.doctypes.roles import RolesDocs
from minigen.data.doctypes.syllogism import SyllogismDocs
from minigen.data.lexicon import Lexicon
from minigen.errors import UserError

# The mixed corpus: in-context reversal and syllogism documents dominate, since they teach the skills
# the probe and the `icl` condition measure.
MIXED = {"reversal": 0.34, "syllogism": 0.30, "world": 0.06, "people": 0.04, "facts": 0.06, "rewrite": 0.06,
         "inference": 0.08, "qa": 0.06}


@dataclass
class CorpusConfig:
    """The corpus: which document types, in what proportions, and how they are written.

    `--set data.mixture.roles=1` (one weight), `--set data.mixture=roles:1,syllogism:0.5` (the whole
    mixture: types left out have weight 0), `--set data.roles.confusers=0.8` (a type's own knob).
    """

    seed: int = 0  # corpus stream seed
    lexicon_seed: int = 0  # which words are in the pretraining / evaluation pools
    mixture: dict = field(default_factory=lambda: dict(MIXED))  # {document type: relative weight}
    # Shared by every type:
    facts_min: int = 4  # facts per in-context document
    facts_max: int = 10
    prefix_prob: float = 0.4  # share of fact sentences with a context prefix ("Did you know that")
    canonical_share: float = 0.5  # share of fact sentences in the canonical template (others: random)
    # Share of the stream replaced by plain fact documents (`facts`), in every stage alike: the mixture's
    # own types keep their proportions in the rest (the corpus ablation's knob; 0: the mixture as given)
    facts_share: float = 0.0
    # Each type's own knobs (minigen/data/doctypes/NAME.py):
    reversal: ReversalDocs = field(default_factory=ReversalDocs)
    syllogism: SyllogismDocs = field(default_factory=SyllogismDocs)
    roles: RolesDocs = field(default_factory=RolesDocs)
    recall: RecallDocs = field(default_factory=RecallDocs)
    keyval: KeyvalDocs = field(default_factory=KeyvalDocs)
    people: PeopleDocs = field(default_factory=PeopleDocs)
    rewrite: RewriteDocs = field(default_factory=RewriteDocs)

    def __post_init__(self) -> None:
        self.mixture = {name: float(w) for name, w in self.mixture.items() if w != 0}  # one form per mixture
        unknown = set(self.mixture) - set(DOC_TYPES)
        if unknown:
            raise UserError(f"data.mixture: unknown document types {', '.join(sorted(unknown))}; the types "
                            f"are {', '.join(DOC_TYPES)}")
        if not 0.0 <= self.facts_share <= 1.0:
            raise UserError(f"data.facts_share must be in [0, 1]; got {self.facts_share}")
        weights = self.weights()
        if any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
            raise UserError(f"data.mixture weights must be >= 0 with a positive sum; got {self.mixture}")
        if not 2 <= self.facts_min <= self.facts_max <= 40:
            raise UserError(f"need 2 <= data.facts_min <= data.facts_max <= 40; got facts_min="
                            f"{self.facts_min}, facts_max={self.facts_max}")
        for name in ("prefix_prob", "canonical_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise UserError(f"data.{name} must be in [0, 1]; got {getattr(self, name)}")

    def weights(self) -> dict[str, float]:
        """Every type's weight, in draw order (0 for types the mixture leaves out), `facts_share` applied."""
        weights = {name: float(self.mixture.get(name, 0.0)) for name in DOC_TYPES}
        if self.facts_share == 0:
            return weights
        total = sum(weights.values()) or 1.0
        weights = {name: (1 - self.facts_share) * w / total for name, w in weights.items()}
        weights["facts"] += self.facts_share
        return weights

    @classmethod
    def from_dict(cls, d: dict) -> CorpusConfig:
        """From `to_dict`'s form, or the flat form of runs written before 2026-12-01 (`legacy_keys`)."""
        from minigen.overrides import from_dict, set_key

        if not any(key in LEGACY for key in d):
            return from_dict(cls, d)
        cfg = cls()
        cfg.mixture = {}  # the flat form lists every weight
        for key, value in d.items():
            for new in legacy_keys(key):
                set_key(cfg, new, value, "corpus field")
        return from_dict(cls, dataclasses.asdict(cfg))  # checked once, whole


# The flat fields of runs written before 2026-12-01, and their names now. repeats_max and same_share
# were shared by the reversal and role documents, so they set both.
LEGACY = {f"w_{old}": [f"mixture.{new}"] for old, new in [
    ("icl_reversal", "reversal"), ("icl_syllogism", "syllogism"), ("icl_other", "world"),
    ("icl_people", "people"), ("facts", "facts"), ("rewrite", "rewrite"), ("inference", "inference"),
    ("qa", "qa"), ("icl_roles", "roles")]}
LEGACY |= {"reversal_share": ["reversal.asked_share"], "syllogisms_max": ["syllogism.pairs_max"],
           "repeats_max": ["reversal.restated_max", "roles.repeats_max"],
           "same_share": ["reversal.same_share", "roles.same_share"],
           "roles_mode": ["roles.mode"], "roles_confusers": ["roles.confusers"],
           "roles_more_share": ["roles.more_share"]}


def legacy_keys(key: str) -> list[str]:
    """The key(s) a flat corpus field name (or a "data."-prefixed stage key) has now."""
    prefix = "data." if key.startswith("data.") else ""
    name = key[len(prefix):]
    return [prefix + new for new in LEGACY[name]] if name in LEGACY else [key]


@lru_cache(maxsize=4)
def _lexicon(seed: int) -> Lexicon:
    return Lexicon(seed)


class _Generator:
    """Draws documents of the configured mixture from a given RNG."""

    def __init__(self, cfg: CorpusConfig):
        self.cfg = cfg
        self.words = _lexicon(cfg.lexicon_seed).pretrain_words
        weights = {kind: w for kind, w in cfg.weights().items() if w > 0}
        self.kinds = [DOC_TYPES[k].generate for k in weights]
        total = sum(weights.values())
        acc, self.cum = 0.0, []
        for w in weights.values():
            acc += w / total
            self.cum.append(acc)

    def document(self, rng: random.Random) -> str:
        r = rng.random()
        for kind, c in zip(self.kinds, self.cum, strict=True):
            if r < c:
                return kind(rng, self.words, self.cfg)
        return self.kinds[-1](rng, self.words, self.cfg)


@lru_cache(maxsize=8)
def _generator(cfg_key: str) -> _Generator:
    return _Generator(CorpusConfig.from_dict(json.loads(cfg_key)))


def _gen(cfg: CorpusConfig) -> _Generator:
    return _generator(json.dumps(dataclasses.asdict(cfg), sort_keys=True))


def documents(cfg: CorpusConfig, start: int = 0) -> Iterator[str]:
    """The endless plain-text stream: document i comes from an RNG seeded with (seed, i)."""
    gen = _gen(cfg)
    i = start
    while True:
        yield gen.document(random.Random(f"doc:{cfg.seed}:{i}"))
        i += 1


def row_documents(cfg: CorpusConfig, row: int, gen: _Generator | None = None) -> Iterator[str]:
    """The documents packed into row `row`, in order (an endless generator; packing stops it).
    `gen`: `_gen(cfg)`, when the caller already has it (looking it up costs ~0.2 ms)."""
    gen = gen or _gen(cfg)
    rng = random.Random(f"row:{cfg.seed}:{row}")
    while True:
        yield gen.document(rng)


def packed_rows(cfg: CorpusConfig, tokenizer, seq_len: int, start_row: int, num_rows: int):
    """Rows start_row .. start_row+num_rows-1 of the packed corpus (`rows_at` of those rows).

    Returns tokens int64 [num_rows, seq_len + 1] and segment_ids int32 [num_rows, seq_len + 1].
    Each document is [BOS] + encode(text) + [EOS]; the last document of a row is cut at the row end;
    segment ids number the documents within the row (0, 1, 2, ...).
    """
    if seq_len < 1 or num_rows < 0 or start_row < 0:
        raise UserError(
            f"need seq_len >= 1, num_rows >= 0, start_row >= 0; got {seq_len}, {num_rows}, {start_row}"
        )
    return rows_at(cfg, tokenizer, seq_len, range(start_row, start_row + num_rows))


def rows_at(cfg: CorpusConfig, tokenizer, seq_len: int, rows: range):
    """The packed rows with the indices `rows` (any range, e.g. a worker's stride), in that order."""
    width = seq_len + 1
    tokens = np.empty((len(rows), width), dtype=np.int64)
    segments = np.empty((len(rows), width), dtype=np.int32)
    bos, eos = tokenizer.bos_id, tokenizer.eos_id
    gen = _gen(cfg)
    for i, r in enumerate(rows):
        row: list[int] = []
        seg: list[int] = []
        stream = row_documents(cfg, r, gen)
        n_docs = 0
        while len(row) < width:  # documents one at a time: none is generated in vain
            ids = [bos, *tokenizer.encode(next(stream)), eos]
            row += ids
            seg += [n_docs] * len(ids)
            n_docs += 1
        tokens[i] = row[:width]
        segments[i] = seg[:width]
    return tokens, segments
