"""The strategies as one generator of augmentation records, batch by batch.

A record is one generated statement: {"strategy", "source" (training document id), "unit" (local:
index of the source sentence in its document; global: null), "sample" (which of the n samples),
"input" (local: the source sentence), "text"}. Records come in batches as the model (or the engine)
produces them, so a caller can write each batch out before the next one is generated.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from minigen.augment import STRATEGIES
from minigen.augment.facts import TrainingFacts, parse_statement, sentences
from minigen.augment.oracle import LinkedInferences, oracle_local
from minigen.augment.prompts import (
    ContextSampler,
    answer_outputs,
    end_term_pairs,
    global_outputs,
    global_prompt,
    local_outputs,
    local_prompt,
    question_prompt,
    rewrite_examples,
)
from minigen.augment.sampling import sample_texts
from minigen.data.datasets.common import lexicon
from minigen.data.english import NAME_SUFFIXES
from minigen.data.logic import Quant
from minigen.data.templates import syllogism_prompt
from minigen.errors import UserError
from minigen.eval.options import AUG_EXAMPLES, AUG_SAMPLES, GLOBAL_PROMPTS

ANSWER_TOKENS = 24  # new tokens for a question prompt's one answer line ("Some drall are slost.")


@dataclass
class AugmentConfig:
    n: int = AUG_SAMPLES  # samples per sentence (local) / per document (global); oracle-global: traces
    seed: int = 0
    temperature: float = 0.8  # sampling temperature (diversity across the n samples)
    top_k: int | None = None
    examples: int = AUG_EXAMPLES  # local: rewrite examples before the sentence
    local_tokens: int = 64  # new tokens per local sample (a few restatements)
    global_tokens: int = 96  # new tokens per global sample (a few inferences)
    global_prompt: str = "header"  # "header" ("It follows that:") or "question" (prompts.question_prompt)
    batch_size: int = 64  # prompts per generate() call
    lexicon_seed: int = 0  # the checkpoint's lexicon: rewrite examples use its pretraining pool

    def __post_init__(self) -> None:
        if self.n < 1:
            raise UserError(f"aug.n={self.n}: need at least 1 generation per sentence / document")
        if self.global_prompt not in GLOBAL_PROMPTS:
            raise UserError(f"aug.global_prompt={self.global_prompt!r}; choose one of: "
                            f"{', '.join(GLOBAL_PROMPTS)}")


@dataclass
class Batch:
    records: list[dict]
    samples: int  # model samples (or oracle units) this batch came from
    empty: int = 0  # samples that gave no complete line
    tokens: int = 0  # new tokens the model generated for them (0: the logic engine's)
    notes: list[str] = field(default_factory=list)


def check_strategy(strategy: str) -> None:
    if strategy not in STRATEGIES:
        raise UserError(f"unknown strategy {strategy!r}; choose one of: {', '.join(STRATEGIES)}")


def augment(strategy: str, documents: list, cfg: AugmentConfig, model=None, tokenizer=None,
            training: TrainingFacts | None = None) -> Iterator[Batch]:
    """Generate `strategy`'s augmentations of `documents` (see the module doc for the records)."""
    check_strategy(strategy)
    if strategy == "oracle-local":
        yield from _oracle_local(documents, cfg)
    elif strategy == "oracle-global":
        yield from _oracle_global(documents, cfg, training or TrainingFacts.from_documents(documents))
    elif strategy.startswith("placebo"):
        oracle = strategy.replace("placebo", "oracle")
        renaming = Renaming(cfg.lexicon_seed, cfg.seed)
        for batch in augment(oracle, documents, cfg, training=training):
            yield Batch([dict(r, strategy=strategy, text=renaming(r["source"], r["text"]), input=None)
                         | ({"question": renaming(r["source"], r["question"])} if "question" in r else {})
                         for r in batch.records], batch.samples, batch.empty)
    else:
        assert model is not None and tokenizer is not None, f"{strategy} needs a model"
        jobs = _local_jobs(documents, cfg) if strategy == "local" else _global_jobs(documents, cfg, model,
                                                                                      tokenizer)
        yield from _run_jobs(strategy, jobs, cfg, model, tokenizer)


@dataclass
class _Job:
    source: str
    unit: int | None
    sample: int
    prompt: str
    input: str | None = None


def _local_jobs(documents: list, cfg: AugmentConfig) -> list[_Job]:
    jobs = []
    for doc in documents:
        for k, sent in enumerate(sentences(doc.text)):
            rng = random.Random(f"local:{cfg.seed}:{doc.id}:{k}")
            prompt = local_prompt(rewrite_examples(rng, sent, cfg.examples, cfg.lexicon_seed), sent)
            jobs += [_Job(doc.id, k, j, prompt, sent) for j in range(cfg.n)]
    return jobs


def _global_jobs(documents: list, cfg: AugmentConfig, model, tokenizer) -> list[_Job]:
    """One job per document and sample; with question prompts, one per pair of the document's unlinked
    words and sample (the pair's index is the record's unit), the pair asked in a random order."""
    sampler = ContextSampler(documents, tokenizer)
    room = model.cfg.seq_len - cfg.global_tokens - 1  # 1: BOS
    jobs = []
    for i, doc in enumerate(documents):
        if cfg.global_prompt == "question":
            asks = list(enumerate(end_term_pairs(doc.text)))
        else:
            asks = [(None, None)]
        for unit, pair in asks:
            for j in range(cfg.n):
                rng = random.Random(f"global:{cfg.seed}:{doc.id}:{j}" + ("" if unit is None else f":{unit}"))
                asked = pair[::-1] if pair is not None and rng.random() < 0.5 else pair
                own = len(tokenizer.encode(_global_text([], doc.text, asked)))
                picked = sampler.sample(i, max(0, room - own), rng)
                texts = [documents[c].text for c in picked]
                prompt = _global_text(texts, doc.text, asked)
                while texts and len(tokenizer.encode(prompt)) > room:  # joint tokenization may differ
                    texts.pop()
                    prompt = _global_text(texts, doc.text, asked)
                jobs.append(_Job(doc.id, unit, j, prompt))
    return jobs


def _global_text(texts: list[str], document: str, pair: tuple[str, str] | None) -> str:
    return global_prompt(texts, document) if pair is None else question_prompt(texts, document, *pair)


def _run_jobs(strategy: str, jobs: list[_Job], cfg: AugmentConfig, model, tokenizer) -> Iterator[Batch]:
    local = strategy == "local"
    question = not local and cfg.global_prompt == "question"
    max_new = cfg.local_tokens if local else ANSWER_TOKENS if question else cfg.global_tokens
    read = local_outputs if local else answer_outputs if question else global_outputs
    for samples in sample_texts(model, tokenizer, [j.prompt for j in jobs], max_new_tokens=max_new,
                                temperature=cfg.temperature, top_k=cfg.top_k, seed=cfg.seed,
                                batch_size=cfg.batch_size):
        records, empty = [], 0
        for s in sorted(samples, key=lambda s: s.index):
            job = jobs[s.index]
            lines = read(s.text, s.ended)
            empty += not lines
            records += [_record(strategy, job.source, job.unit, job.sample, line, job.input)
                        | ({"question": job.prompt.split("\n")[-2]} if question else {}) for line in lines]
        yield Batch(records, len(samples), empty, tokens=sum(s.tokens for s in samples))


class Renaming:
    """Every evaluation word of a text renamed to a pretraining-pool word, one renaming per source
    document (its statements stay consistent with one another), seeded; capitals and surname suffixes
    kept ("Glonski" -> "Trelpski")."""

    def __init__(self, lexicon_seed: int, seed: int):
        lex = lexicon(lexicon_seed)
        self.eval_words, self.pool, self.seed = set(lex.eval_words), lex.pretrain_words, seed
        self.maps: dict[str, dict[str, str]] = {}

    def _word(self, source: str, word: str) -> str:
        lower = word.lower()
        stem, suffix = lower, ""
        if stem not in self.eval_words:
            stem, suffix = next(((lower[: -len(x)], x) for x in NAME_SUFFIXES
                                 if lower.endswith(x) and lower[: -len(x)] in self.eval_words), (lower, ""))
        if stem not in self.eval_words:
            return word
        mapping = self.maps.setdefault(source, {})
        if stem not in mapping:
            rng = random.Random(f"placebo:{self.seed}:{source}:{stem}")
            taken = set(mapping.values())
            mapping[stem] = next(w for w in iter(lambda: rng.choice(self.pool), None) if w not in taken)
        new = mapping[stem] + suffix
        return new.capitalize() if word[0].isupper() else new

    def __call__(self, source: str, text: str) -> str:
        return re.sub(r"[A-Za-z]+", lambda m: self._word(source, m.group()), text)


def _record(strategy, source, unit, sample, text, source_sentence=None) -> dict:
    return {"strategy": strategy, "source": source, "unit": unit, "sample": sample,
            "input": source_sentence, "text": text}


def _oracle_local(documents: list, cfg: AugmentConfig) -> Iterator[Batch]:
    for doc in documents:
        records, units, unparsed = [], 0, 0
        for k, sent in enumerate(sentences(doc.text)):
            form = parse_statement(sent)
            units += 1
            if form is None:
                unparsed += 1
                continue
            rng = random.Random(f"oracle-local:{cfg.seed}:{doc.id}:{k}")
            records += [_record("oracle-local", doc.id, k, 0, t, sent) for t in oracle_local(sent, form, rng)]
        yield Batch(records, units, unparsed)


def _oracle_question(text: str, cfg: AugmentConfig) -> dict:
    """With question prompts, the oracle's quantified inference gets the question the model is asked for
    it (about its two words, in its own order), so that `aug.keep_question` treats both alike."""
    form = parse_statement(text)
    if cfg.global_prompt != "question" or not isinstance(form, Quant):
        return {}
    return {"question": syllogism_prompt(form.s, form.p).split("\n")[0]}


def _oracle_global(documents: list, cfg: AugmentConfig, training: TrainingFacts) -> Iterator[Batch]:
    linked = LinkedInferences(training)
    for doc in documents:
        forms = [f for s in sentences(doc.text) if (f := parse_statement(s)) is not None]
        rng = random.Random(f"oracle-global:{cfg.seed}:{doc.id}")
        traces = linked.traces(forms, cfg.n, rng)
        records = [_record("oracle-global", doc.id, None, j, t) | _oracle_question(t, cfg)
                   for j, trace in enumerate(traces) for t in trace]
        yield Batch(records, 1, int(not records))
