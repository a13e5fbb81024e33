"""What pretraining is for, measured while it runs, on the `dev` evaluation words only (words the
model never saw, disjoint from the `test` words `minigen compare` reports: a recipe chosen by this
probe is never chosen on the items it is then scored on): held-out corpus loss, in-context accuracy
per skill beside its guard (`PROBES`), and the validity of the model's own augmentations.

An ICL probe is `minigen compare`'s `icl` condition on dev words, with nothing of its own: each probe
dataset is loaded as compare loads it (size and restatements in `PROBE_DATASETS`, dataset seed 0), its
contexts are planned by `minigen.eval.contexts.build_contexts` over the items compare plans them for
(the test items and the same-direction questions) within the model's seq_len, with compare's seed 0,
and the probe items are scored in them by `minigen.eval.scoring.score_items_in_contexts`. So
`probe_<name>` is compare's dev-word ICL accuracy on the split's first train.probe_items items, run as
`minigen compare --set dataset.words=dev --set dataset.size=N --set icl.restatements=R` would.
The contexts are planned once, when the probe is built; each run only scores them.

A context is never cut (a left cut would drop BOS and documents the item needs): build_contexts fills
each one within the budget. An item whose needed documents do not all fit (build_contexts keeps a
subset of them and reports it as truncated) is left out of the probe, and so is every item when not
even a prompt and its option fit; `Probe.skipped` says how many were left out, and a probe with no
item left is not run.

The generation probe (`GenerationProbe`, models of seq_len >= GENERATION_MIN_SEQ_LEN) samples greedy
local rewrites and global inferences of dev documents in `minigen augment`'s formats and reports the
share that parse and follow by the logic engine, with its guard.
"""

from __future__ import annotations

import dataclasses

import torch

from minigen.config import RunConfig
from minigen.train import targets_within_documents

# Probe name -> (dataset, test split). Each skill sits beside its guard: reversals beside the
# same-direction questions about the same facts (a model that flips every comparative scores 0 there);
# syllogisms beside the Darapti items, where the atmosphere rule's pick is wrong (a model that follows
# the rule scores 0 there); people asked in the never-trained order beside the trained order; the
# semantic hierarchy's inherited facts beside the facts the articles state; the process transform on
# held-out combinations of rules (multiple choice, and written out: exact match) beside the trained ones.
PROBES = {"reversal": ("reversal", "reversal"), "reversal_same": ("reversal", "train"),
          "syllogism": ("syllogism", "syllogism"), "syllogism_anti": ("syllogism", "anti_atmosphere"),
          "people": ("reversal_curse", "reversed"), "people_same": ("reversal_curse", "same"),
          "semantic": ("semantic", "syllogism"), "semantic_same": ("semantic", "train"),
          "process": ("process", "compositional"), "process_train": ("process", "train"),
          "process_gen": ("process", "compositional-gen")}
# Per probe dataset: (units, icl.restatements). Units as compare's dataset.size (None: train.probe_items);
# restatements: how many of the documents restating one fact a context needs (compare's icl.restatements;
# 0: all). A person stands in 30 documents and a category in several articles: one of them in a small
# context states the fact, as `--set icl.restatements=1` does in compare.
PROBE_DATASETS = {"reversal": (None, 0), "syllogism": (None, 0), "reversal_curse": (16, 1),
                  "semantic": (40, 1), "process": (12, 0)}
HELDOUT_SEED_OFFSET = 1_000_003  # a corpus stream the training rows never come from
PROBE_WORDS = "dev"  # the evaluation-word slice the probe is built on (never compare's "test")
CONTEXT_SEED = 0  # compare's first seed: the probe's contexts are those of its seed 0


def probe_dataset(name: str, cfg: RunConfig, seed: int = 0):
    """The (dev-word) dataset a probe's items come from."""
    from minigen.data.datasets import load_dataset

    units = PROBE_DATASETS[name][0]
    return load_dataset(name, seed=seed, lexicon_seed=cfg.data.lexicon_seed,
                        size=units if units is not None else cfg.train.probe_items, words=PROBE_WORDS)


@dataclasses.dataclass
class ProbeSet:
    """The probes on one dataset: compare's ICL contexts for it and the probe items scored in them."""

    contexts: list[tuple[list[int], list]]  # (context token ids, the probe items scored after it)
    items: dict[str, list]  # probe name -> its items that are scored
    skipped: dict[str, int]  # probe name -> its items left out (their needed documents do not all fit)
    # probe name -> {"chance": .., heuristic: accuracy}: what the probe's number is read against, on the
    # same items and contexts (compare's heuristic rows; a heuristic that ties everywhere has no entry)
    baselines: dict[str, dict[str, float]] = dataclasses.field(default_factory=dict)


def probe_set(name: str, cfg: RunConfig, tokenizer, ds=None) -> ProbeSet:
    """Plan the contexts of the probes on dataset `name` (`ds`: the probe dataset, if built)."""
    from minigen.eval.contexts import build_contexts, document_budget
    from minigen.eval.options import CompareOptions
    from minigen.eval.scoring import check_separable
    from minigen.eval.trained_facts import evaluation_items

    ds = ds or probe_dataset(name, cfg)
    options = CompareOptions()
    asked = {key: [t for t in ds.test if t.split == split][: cfg.train.probe_items]
             for key, (dataset, split) in PROBES.items() if dataset == name}
    items = evaluation_items(ds, options.eval.same_direction)
    max_tokens = options.icl.max_tokens or cfg.model.seq_len
    if document_budget(items, tokenizer, max_tokens) <= 0:  # not even BOS + a prompt + an option fit
        return ProbeSet([], {key: [] for key in asked}, {key: len(ts) for key, ts in asked.items()})
    plan = build_contexts(list(ds.train), items, tokenizer, max_tokens, CONTEXT_SEED,
                          restatements=PROBE_DATASETS[name][1])
    kept = {t.id for ts in asked.values() for t in ts} - plan.truncated_ids
    contexts, documents = [], []
    texts = {d.id: d.text for d in ds.train}
    for ctx in plan.contexts:
        scored = [t for t in ctx.items if t.id in kept]
        if not scored:
            continue
        check_separable(tokenizer, ctx.text, ctx.tokens, scored[0])
        longest = max(len(tokenizer.encode(t.prompt + o)) for t in scored for o in t.options)
        assert len(ctx.tokens) + longest <= cfg.model.seq_len, "a probe context would be cut"
        contexts.append((ctx.tokens, scored))
        documents.append(([texts[i] for i in ctx.doc_ids], [t.id for t in scored]))
    items = {key: [t for t in ts if t.id in kept] for key, ts in asked.items()}
    return ProbeSet(contexts, items, {key: sum(t.id not in kept for t in ts) for key, ts in asked.items()},
                    probe_baselines(items, ds, documents))


def probe_baselines(items: dict[str, list], ds, documents: list) -> dict[str, dict[str, float]]:
    """Per probe: chance and each heuristic's accuracy on its items, the in-context heuristics reading
    each item's probe context (`documents`: (texts, item ids) per context), as compare's rows do."""
    from minigen.eval.protocol import heuristic_rows

    every = [t for ts in items.values() for t in ts]
    rows = heuristic_rows(list({t.id: t for t in every}.values()), ds, {0: documents}) if every else {}
    out = {}
    for key, ts in items.items():
        if not ts:
            continue
        split = PROBES[key][1]
        guess = ds.chance.get(split)  # the dataset's own (exact-match generation: 0), else a uniform guess
        out[key] = {"chance": guess if guess is not None else
                    sum(len(t.accepted()) / len(t.options) for t in ts) / len(ts)}
        out[key].update({h: r["splits"][split]["acc"] for h, r in rows.items() if split in r["splits"]})
    return out


# Generation: the model's own augmentations of dev documents, greedy, in `minigen augment`'s formats
# (local: a sentence's restatements after "In other words:"; global: inferences after "It follows
# that:"), judged by the parser and the logic engine against the documents' facts.
# probe datasets whose training documents are rewritten: the pooled keys (probe_gen_local_valid, ...) are
# over the first two, as they always were; each source's local rewrites also get their own key
# (probe_gen_local_valid_reversal, ..._syllogism, ..._reversal_curse: people)
GENERATION_SOURCES = ("reversal", "syllogism", "reversal_curse")
GENERATION_POOLED = ("reversal", "syllogism")
GENERATION_SENTENCES = 16  # local: sentences per source (their documents' first sentences)
GENERATION_DOCUMENTS = 4  # global: documents per source
GENERATION_MIN_SEQ_LEN = 192  # below it, augment's prompts and new tokens do not fit: no generation probe


class GenerationProbe:
    """Shares of the model's local rewrites and global inferences that parse and follow (`valid`), and
    the guard beside each: local rewrites that only copy a training sentence (`copied`), global
    inferences that are valid and not already stated (`new_valid`); pooled over the GENERATION_POOLED
    sources given, and the local share of each source on its own."""

    def __init__(self, datasets: dict, lexicon_seed: int, sources=GENERATION_SOURCES):
        from minigen.augment.facts import TestAnswers, TrainingFacts
        from minigen.eval.conditions import split_sentences

        self.sources = []
        for name in sources:
            ds = datasets[name]
            local, n = [], 0
            for doc in ds.train:
                if n >= GENERATION_SENTENCES:
                    break
                local.append(doc)
                n += len(split_sentences(doc.text))
            training = TrainingFacts.from_documents(ds.train)
            self.sources.append((name, local, list(ds.train[:GENERATION_DOCUMENTS]), training,
                                 TestAnswers.from_items(ds.test, training)))
        self.lexicon_seed = lexicon_seed

    def run(self, model, tokenizer) -> dict[str, float]:
        from minigen.augment.generate import AugmentConfig, augment
        from minigen.augment.report import Tally, annotate

        cfg = AugmentConfig(n=1, temperature=0.0, lexicon_seed=self.lexicon_seed)
        pooled = {"local": Tally(self.sources[0][4]), "global": Tally(self.sources[0][4])}
        own = {}  # source -> its local tally
        for name, local_docs, global_docs, training, answers in self.sources:
            own[name] = Tally(answers)
            for strategy, docs in (("local", local_docs), ("global", global_docs)):
                if strategy == "global" and name not in GENERATION_POOLED:
                    continue
                for batch in augment(strategy, docs, cfg, model, tokenizer, training):
                    for rec in batch.records:
                        rec = annotate(rec, training, answers)
                        if name in GENERATION_POOLED:
                            pooled[strategy].add(rec)
                        if strategy == "local":
                            own[name].add(rec)
        local, glob = pooled["local"], pooled["global"]

        def share(k: int, tally) -> float:
            return k / tally.generated if tally.generated else 0.0

        out = {}
        if any(name in GENERATION_POOLED for name in own):
            out = {"probe_gen_local_valid": share(local.valid, local),
                   "probe_gen_local_copied": share(local.generated - local.new_text, local),
                   "probe_gen_global_valid": share(glob.valid, glob),
                   "probe_gen_global_new_valid": share(glob.new_valid, glob)}
        return out | {f"probe_gen_local_valid_{name}": share(t.valid, t) for name, t in own.items()}


# Exact retrieval (minigen.eval.retrieval) on the reversal probe's dev words: the people and syllogism
# items need it and the reversal items do not (docs/log/2026-12-02-exact-retrieval.md); and the same
# lookup on people in one template, on the reversal_curse probe's dev words (the people probe without
# its paraphrases: docs/log/2026-12-05-dense-people.md).
RETRIEVAL_CONTEXTS = 20  # lookup contexts of 4 facts, each asked both ways: 80 copy and 80 flip items
RETRIEVAL_LINES = 20  # greedy line completions
LOOKUPS = {"retrieval": "reversal", "people_lookup": "reversal_curse"}  # probe key -> dataset of its words
HEURISTICS = {"retrieval": "role", "people_lookup": "order"}  # each one's cheap rule (minigen.eval.retrieval)


class RetrievalProbe:
    """The 4-way lookups on dev words: `probe_retrieval_copy`, `probe_retrieval_flip` (comparisons:
    chance .25 beside the role heuristic) with greedy line completion (`probe_retrieval_line`: chance
    0), and `probe_people_lookup_copy` / `_flip` (people: chance .25 beside the order heuristic). A
    lookup whose items' tokens the stream never shows (`counts`), or whose contexts do not fit the
    model's, is left out."""

    def __init__(self, cfg: RunConfig, tokenizer, counts: dict | None = None):
        from minigen.data.datasets.common import eval_words
        from minigen.eval.coverage import coverage, covers
        from minigen.eval.retrieval import KINDS, lookup, people_lookup

        build = {"retrieval": lookup, "people_lookup": people_lookup}
        seed = cfg.data.lexicon_seed
        self.words = {key: eval_words(name, 0, seed, PROBE_WORDS) for key, name in LOOKUPS.items()}
        self.lookups, self.contexts = {}, []
        for key in LOOKUPS:
            planned = build[key](self.words[key], RETRIEVAL_CONTEXTS)
            contexts = [([tokenizer.bos_id] + tokenizer.encode(text), ts) for text, ts in planned.contexts]
            longest = max(len(c) + len(tokenizer.encode(t.prompt + o))
                          for c, ts in contexts for t in ts for o in t.options)
            items = [t for _, ts in contexts for t in ts]
            seen = counts is None or covers(coverage(tokenizer, items, counts))
            if longest <= cfg.model.seq_len and seen:
                self.lookups[key] = planned
                self.contexts += contexts
        self.fits = bool(self.lookups)
        self.baselines = {f"{key}_{k}": {"chance": 0.25, HEURISTICS[key]: planned.baseline(k)}
                          for key, planned in self.lookups.items() for k in KINDS}
        if "retrieval" in self.lookups:
            self.baselines["retrieval_line"] = {"chance": 0.0}

    def run(self, model, tokenizer, batch_size: int) -> dict[str, float]:
        from minigen.eval.retrieval import KINDS, line_completion
        from minigen.eval.scoring import score_items_in_contexts

        groups = score_items_in_contexts(model, tokenizer, self.contexts, batch_size=batch_size)
        correct = [{s.item_id: s.correct() for s in group} for group in groups]
        out, at = {}, 0
        for key, planned in self.lookups.items():  # item ids repeat across lookups: each reads its own
            mine = {i: c for group in correct[at: at + len(planned.contexts)] for i, c in group.items()}
            at += len(planned.contexts)
            out.update({f"probe_{key}_{k}": planned.accuracy(mine, k) for k in KINDS})
        if "retrieval" in self.lookups:
            out["probe_retrieval_line"] = line_completion(model, tokenizer, self.words["retrieval"],
                                                          RETRIEVAL_LINES)
        return out


class Probe:
    """Every probe of `PROBES` whose dataset the run's stream covers. With `counts` (the stream's token
    counts, `minigen.eval.coverage`), a dataset whose probe items hold a token the stream never shows
    is not probed (`uncovered`: its coverage), as `compare` leaves such a dataset unscored: its number
    could not mean anything."""

    def __init__(self, cfg: RunConfig, tokenizer, device: torch.device, counts: dict | None = None):
        from minigen.data.corpus import packed_rows
        from minigen.eval.coverage import coverage, covers
        from minigen.eval.options import CompareOptions

        self.device, self.tokenizer = device, tokenizer
        self.batch_size = CompareOptions().eval.batch_size  # compare's scoring batches
        held = dataclasses.replace(cfg.data, seed=cfg.data.seed + HELDOUT_SEED_OFFSET)
        tokens, segs = packed_rows(held, tokenizer, cfg.model.seq_len, 0, cfg.train.heldout_rows)
        self.heldout = targets_within_documents(torch.as_tensor(tokens, dtype=torch.long).to(device),
                                                torch.as_tensor(segs, dtype=torch.long).to(device))
        datasets = {name: probe_dataset(name, cfg) for name in PROBE_DATASETS}
        self.uncovered: dict[str, float] = {}  # dataset -> its probe items' coverage, when below 1
        if counts is not None:
            for name, ds in datasets.items():
                asked = [t for t in ds.test if any(d == name and t.split == s for d, s in PROBES.values())]
                cov = coverage(tokenizer, asked, counts)
                if not covers(cov):
                    self.uncovered[name] = cov["share"]
        covered = {name: ds for name, ds in datasets.items() if name not in self.uncovered}
        self.sets = {name: probe_set(name, cfg, tokenizer, ds) for name, ds in covered.items()}
        sources = [name for name in GENERATION_SOURCES if name in covered]
        self.generation = GenerationProbe(covered, cfg.data.lexicon_seed, sources) if sources else None
        keys = [key for key, (name, _) in PROBES.items() if name in covered]
        self.items = {key: self.sets[PROBES[key][0]].items[key] for key in keys}
        self.skipped = {key: self.sets[PROBES[key][0]].skipped[key] for key in keys}
        self.baselines = {key: self.sets[PROBES[key][0]].baselines[key] for key in keys
                          if key in self.sets[PROBES[key][0]].baselines}
        # exact retrieval: each lookup whose own items' tokens the stream shows
        retrieval = RetrievalProbe(cfg, tokenizer, counts)
        self.retrieval = retrieval if retrieval.fits else None
        if self.retrieval is not None:
            self.baselines.update(self.retrieval.baselines)

    @torch.no_grad()
    def run(self, model) -> dict[str, float]:
        from minigen.eval.scoring import score_items_in_contexts

        was_training = model.training
        model.eval()
        x, y, seg = self.heldout
        out = {"heldout_loss": model(x, y, segment_ids=seg)[1].item()}
        correct = {}  # (dataset, item id) -> whether its best-scored option is accepted
        for name, ps in self.sets.items():
            if not ps.contexts:  # no item fits in the model's context: nothing to measure
                continue
            scored = score_items_in_contexts(model, self.tokenizer, ps.contexts, batch_size=self.batch_size)
            correct.update(((name, s.item_id), s.correct()) for group in scored for s in group)
        for key, items in self.items.items():
            if items:
                out[f"probe_{key}"] = sum(correct[PROBES[key][0], t.id] for t in items) / len(items)
        if self.retrieval is not None:
            out.update(self.retrieval.run(model, self.tokenizer, self.batch_size))
        if self.generation is not None and model.cfg.seq_len >= GENERATION_MIN_SEQ_LEN:
            out.update(self.generation.run(model, self.tokenizer))
        model.train(was_training)
        return out
