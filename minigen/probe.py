"""What pretraining is for, measured while it runs: held-out corpus loss, and in-context probe accuracy
on small reversal and syllogism sets over the `dev` evaluation words (words the model never saw, and
disjoint from the `test` words that `minigen compare` reports: a recipe chosen by this probe is never
chosen on the items it is then scored on).

The probe is `minigen compare`'s `icl` condition on the dev words, with nothing of its own: each probe
dataset is loaded as compare loads it with `data.size` = train.probe_items (dataset seed 0), its ICL
contexts are planned by `minigen.eval.contexts.build_contexts` over the items compare plans them for
(the test items and the same-direction questions), within the model's seq_len, with compare's default
ICL options and its seed 0, and the probe items are scored in them by
`minigen.eval.scoring.score_items_in_contexts`. So a probe item sees exactly the context compare's seed
0 gives it, and `probe_<name>` is compare's dev-word ICL accuracy on the split (on the first
train.probe_items items of it; compare scores the other items too, which only shapes the plan here).
The contexts are planned once, when the probe is built; each run only scores them.

A context is never cut (a left cut would drop BOS and documents the item needs): build_contexts fills
each one within the budget. An item whose needed documents do not all fit (build_contexts keeps a
subset of them and reports it as truncated) is left out of the probe, and so is every item when not
even a prompt and its option fit; `Probe.skipped` says how many were left out, and a probe with no
item left is not run.
"""

from __future__ import annotations

import dataclasses

import torch

from minigen.config import RunConfig
from minigen.train import targets_within_documents

# (dataset, test split): the reversal probe sits beside the same-direction questions about the same facts,
# so a model that just flips every comparative (1.00 on reversals) shows up as 0.00 on `reversal_same`.
PROBES = {"reversal": ("reversal", "reversal"), "reversal_same": ("reversal", "train"),
          "syllogism": ("syllogism", "syllogism")}
HELDOUT_SEED_OFFSET = 1_000_003  # a corpus stream the training rows never come from
PROBE_WORDS = "dev"  # the evaluation-word slice the probe is built on (never compare's "test")
CONTEXT_SEED = 0  # compare's first seed: the probe's contexts are those of its seed 0


def probe_dataset(name: str, cfg: RunConfig, seed: int = 0):
    """The (dev-word) dataset a probe's items come from."""
    from minigen.data.datasets import load_dataset

    return load_dataset(name, seed=seed, lexicon_seed=cfg.data.lexicon_seed, size=cfg.train.probe_items,
                        words=PROBE_WORDS)


@dataclasses.dataclass
class ProbeSet:
    """The probes on one dataset: compare's ICL contexts for it and the probe items scored in them."""

    contexts: list[tuple[list[int], list]]  # (context token ids, the probe items scored after it)
    items: dict[str, list]  # probe name -> its items that are scored
    skipped: dict[str, int]  # probe name -> its items left out (their needed documents do not all fit)


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
                          restatements=options.icl.restatements)
    kept = {t.id for ts in asked.values() for t in ts} - plan.truncated_ids
    contexts = []
    for ctx in plan.contexts:
        scored = [t for t in ctx.items if t.id in kept]
        if not scored:
            continue
        check_separable(tokenizer, ctx.text, ctx.tokens, scored[0])
        longest = max(len(tokenizer.encode(t.prompt + o)) for t in scored for o in t.options)
        assert len(ctx.tokens) + longest <= cfg.model.seq_len, "a probe context would be cut"
        contexts.append((ctx.tokens, scored))
    return ProbeSet(contexts, {key: [t for t in ts if t.id in kept] for key, ts in asked.items()},
                    {key: sum(t.id not in kept for t in ts) for key, ts in asked.items()})


class Probe:
    def __init__(self, cfg: RunConfig, tokenizer, device: torch.device):
        from minigen.data.corpus import packed_rows
        from minigen.eval.options import CompareOptions

        self.device, self.tokenizer = device, tokenizer
        self.batch_size = CompareOptions().eval.batch_size  # compare's scoring batches
        held = dataclasses.replace(cfg.data, seed=cfg.data.seed + HELDOUT_SEED_OFFSET)
        tokens, segs = packed_rows(held, tokenizer, cfg.model.seq_len, 0, cfg.train.heldout_rows)
        self.heldout = targets_within_documents(torch.as_tensor(tokens, dtype=torch.long).to(device),
                                                torch.as_tensor(segs, dtype=torch.long).to(device))
        names = dict.fromkeys(name for name, _ in PROBES.values())
        self.sets = {name: probe_set(name, cfg, tokenizer) for name in names}
        self.items = {key: self.sets[name].items[key] for key, (name, _) in PROBES.items()}
        self.skipped = {key: self.sets[name].skipped[key] for key, (name, _) in PROBES.items()}

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
        for key, (name, _) in PROBES.items():
            if self.items[key]:
                out[f"probe_{key}"] = sum(correct[name, t.id] for t in self.items[key]) / len(self.items[key])
        model.train(was_training)
        return out
