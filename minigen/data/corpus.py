"""The pretraining corpus: an endless seeded stream of documents, and row-addressable packing.

Row j of the packed corpus is a pure function of (config, j): its documents come from an RNG
seeded with (seed, j), so training can resume at any row and data-parallel ranks can take their
own rows without producing the ones before them.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, fields
from functools import lru_cache

import numpy as np

from minigen.data.docs import DOC_TYPES
from minigen.data.lexicon import Lexicon
from minigen.errors import UserError


@dataclass
class CorpusConfig:
    """The corpus mixture. Plain-typed fields, so `--set data.X=...` can override any of them."""

    seed: int = 0  # corpus stream seed
    lexicon_seed: int = 0  # which words are in the pretraining / evaluation pools
    # Mixture weights (relative). In-context reversal and syllogism documents dominate: they teach
    # the skills the probe and the `icl` condition measure.
    w_icl_reversal: float = 0.34
    w_icl_syllogism: float = 0.30
    w_icl_other: float = 0.06  # hierarchy / property / relation inferences in context
    w_icl_people: float = 0.04  # people facts in paraphrases, restated in the other order
    w_facts: float = 0.06
    w_rewrite: float = 0.06
    w_inference: float = 0.08  # facts, "It follows that:", derived statements
    w_qa: float = 0.06
    w_icl_roles: float = 0.0  # role-curriculum documents (docs.role_doc; the `tiny-roles` preset's stages)
    facts_min: int = 4  # facts per in-context document
    facts_max: int = 10
    prefix_prob: float = 0.4  # share of fact sentences with a context prefix ("Did you know that")
    canonical_share: float = 0.5  # share of fact sentences in the canonical template (others: random)
    reversal_share: float = 1.0  # share of an in-context reversal document's facts reversed at its end
    same_share: float = 0.0  # share of those end lines restating the fact (same direction), not reversing it
    repeats_max: int = 4  # facts restated in their own direction per in-context reversal document (0..)
    syllogisms_max: int = 3  # premise pairs (each with its question) per in-context syllogism document
    # Role-curriculum documents: questions in one direction (flip: reversals, copy: restatements) with
    # "confusers" (later facts reusing an earlier word in the other role, this share of them), or both
    # directions (mix, restated at same_share); roles_more_share of the documents state only "more".
    roles_mode: str = "mix"
    roles_confusers: float = 0.0
    roles_more_share: float = 0.0

    def __post_init__(self) -> None:
        weights = self.weights()
        if any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
            raise UserError(f"corpus mixture weights must be >= 0 with a positive sum; got {weights}")
        if not 2 <= self.facts_min <= self.facts_max <= 40:
            raise UserError(
                f"need 2 <= facts_min <= facts_max <= 40; got facts_min={self.facts_min}, "
                f"facts_max={self.facts_max}"
            )
        if not 0.0 <= self.canonical_share <= 1.0:
            raise UserError(f"canonical_share must be in [0, 1]; got {self.canonical_share}")
        if not 0.0 <= self.reversal_share <= 1.0:
            raise UserError(f"reversal_share must be in [0, 1]; got {self.reversal_share}")
        if not 0.0 <= self.same_share <= 1.0:
            raise UserError(f"same_share must be in [0, 1]; got {self.same_share}")
        if self.repeats_max < 0:
            raise UserError(f"repeats_max must be >= 0; got {self.repeats_max}")
        if not 1 <= self.syllogisms_max <= 6:
            raise UserError(f"syllogisms_max must be in 1..6; got {self.syllogisms_max}")
        if not 0.0 <= self.prefix_prob <= 1.0:
            raise UserError(f"prefix_prob must be in [0, 1]; got {self.prefix_prob}")
        if self.roles_mode not in ("copy", "flip", "mix"):
            raise UserError(f"roles_mode {self.roles_mode!r} is unknown; use copy, flip or mix")
        for name in ("roles_confusers", "roles_more_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise UserError(f"{name} must be in [0, 1]; got {getattr(self, name)}")

    def weights(self) -> dict[str, float]:
        return {f.name[2:]: float(getattr(self, f.name)) for f in fields(self) if f.name.startswith("w_")}


@lru_cache(maxsize=4)
def _lexicon(seed: int) -> Lexicon:
    return Lexicon(seed)


class _Generator:
    """Draws documents of the configured mixture from a given RNG."""

    def __init__(self, cfg: CorpusConfig):
        self.cfg = cfg
        self.words = _lexicon(cfg.lexicon_seed).pretrain_words
        weights = {kind: w for kind, w in cfg.weights().items() if w > 0}
        self.kinds = [DOC_TYPES[k] for k in weights]
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
def _generator(cfg_key: tuple) -> _Generator:
    return _Generator(CorpusConfig(*cfg_key))


def _gen(cfg: CorpusConfig) -> _Generator:
    return _generator(tuple(getattr(cfg, f.name) for f in fields(cfg)))


def documents(cfg: CorpusConfig, start: int = 0) -> Iterator[str]:
    """The endless plain-text stream: document i comes from an RNG seeded with (seed, i)."""
    gen = _gen(cfg)
    i = start
    while True:
        yield gen.document(random.Random(f"doc:{cfg.seed}:{i}"))
        i += 1


def row_documents(cfg: CorpusConfig, row: int) -> Iterator[str]:
    """The documents packed into row `row`, in order (an endless generator; packing stops it)."""
    gen = _gen(cfg)
    rng = random.Random(f"row:{cfg.seed}:{row}")
    while True:
        yield gen.document(rng)


def packed_rows(cfg: CorpusConfig, tokenizer, seq_len: int, start_row: int, num_rows: int):
    """Rows start_row .. start_row+num_rows-1 of the packed corpus.

    Returns tokens int64 [num_rows, seq_len + 1] and segment_ids int32 [num_rows, seq_len + 1].
    Each document is [BOS] + encode(text) + [EOS]; the last document of a row is cut at the row end;
    segment ids number the documents within the row (0, 1, 2, ...).
    """
    if seq_len < 1 or num_rows < 0 or start_row < 0:
        raise UserError(
            f"need seq_len >= 1, num_rows >= 0, start_row >= 0; got {seq_len}, {num_rows}, {start_row}"
        )
    width = seq_len + 1
    tokens = np.empty((num_rows, width), dtype=np.int64)
    segments = np.empty((num_rows, width), dtype=np.int32)
    bos, eos = tokenizer.bos_id, tokenizer.eos_id
    for i in range(num_rows):
        row: list[int] = []
        seg: list[int] = []
        stream = row_documents(cfg, start_row + i)
        n_docs = 0
        while len(row) < width:  # documents one at a time: none is generated in vain
            ids = [bos, *tokenizer.encode(next(stream)), eos]
            row += ids
            seg += [n_docs] * len(ids)
            n_docs += 1
        tokens[i] = row[:width]
        segments[i] = seg[:width]
    return tokens, segments
