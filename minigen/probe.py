"""What pretraining is for, measured while it runs: held-out corpus loss, and in-context probe accuracy
on small reversal and syllogism sets over the `dev` evaluation words (words the model never saw, and
disjoint from the `test` words that `minigen compare` reports: a recipe chosen by this probe is never
chosen on the items it is then scored on).

Each probe item is one document in the shared ICL layout: [BOS] + "\n".join(the training documents the
item needs + a few other training documents, shuffled) + "\n" + prompt; its options are scored as
continuations by summed log-likelihood (`Transformer.score_contexts`: each context encoded once, several
side by side). A context is never cut (a left cut would drop BOS and documents the item needs): when
the needed documents, the other documents and the prompt do not fit in the model's context, other
documents are dropped; an item whose needed documents alone do not fit is left out of the probe, and
a probe with no item left is not run (`Probe.skipped` says how many were left out).
"""

from __future__ import annotations

import dataclasses
import random

import torch

from minigen.config import RunConfig
from minigen.train import targets_within_documents

# (dataset, test split): the reversal probe sits beside the same-direction questions about the same facts,
# so a model that just flips every comparative (1.00 on reversals) shows up as 0.00 on `reversal_same`.
PROBES = {"reversal": ("reversal", "reversal"), "reversal_same": ("reversal", "train"),
          "syllogism": ("syllogism", "syllogism")}
HELDOUT_SEED_OFFSET = 1_000_003  # a corpus stream the training rows never come from
PROBE_WORDS = "dev"  # the evaluation-word slice the probe is built on (never compare's "test")


@dataclasses.dataclass
class ProbeItem:
    context: list[int]
    options: list[list[int]]
    accepted: list[int]  # options counted as correct


def probe_dataset(name: str, cfg: RunConfig, seed: int = 0):
    """The (dev-word) dataset a probe's items come from."""
    from minigen.data.datasets import load_dataset

    return load_dataset(name, seed=seed, lexicon_seed=cfg.data.lexicon_seed, size=cfg.train.probe_items,
                        words=PROBE_WORDS)


def build_items(name: str, split: str, cfg: RunConfig, tokenizer, seed: int = 0, ds=None) -> list[ProbeItem]:
    """The probe items of one split that fit in the model's context (`ds`: the probe dataset, if built)."""
    from minigen.eval.scoring import split_at_boundary

    ds = ds or probe_dataset(name, cfg, seed)
    docs = {d.id: d.text for d in ds.train}
    rng = random.Random(seed)
    items = []
    for item in [t for t in ds.test if t.split == split][: cfg.train.probe_items]:
        needed = [docs[i] for i in item.meta["doc_ids"]]
        others = [d for i, d in docs.items() if i not in set(item.meta["doc_ids"])]
        others = rng.sample(others, min(cfg.train.probe_other_docs, len(others)))
        while True:  # drop other documents until the longest option fits; never cut the context
            texts = needed + others
            random.Random(f"{seed}:{item.id}").shuffle(texts)
            prefix_text = "\n".join(texts) + "\n" + item.prompt
            pairs = [split_at_boundary(tokenizer, prefix_text, option) for option in item.options]
            length = 1 + max(len(p) + len(c) for p, c in pairs)
            if length <= cfg.model.seq_len or not others:
                break
            others = others[:-1]
        if length > cfg.model.seq_len:  # its own documents do not fit: the item is left out, never cut
            continue
        # The joint tokenization splits at the option boundary; the prefix is the same for every option
        # except where a token straddles it, so each option keeps its own continuation after one context.
        shared = min((p for p, _ in pairs), key=len)
        assert all(p[:len(shared)] == shared for p, _ in pairs), item.id
        context = [tokenizer.bos_id] + shared
        options = [p[len(context) - 1:] + c for p, c in pairs]
        items.append(ProbeItem(context, options, item.accepted()))
    return items


class Probe:
    def __init__(self, cfg: RunConfig, tokenizer, device: torch.device):
        from minigen.data.corpus import packed_rows

        self.device = device
        held = dataclasses.replace(cfg.data, seed=cfg.data.seed + HELDOUT_SEED_OFFSET)
        tokens, segs = packed_rows(held, tokenizer, cfg.model.seq_len, 0, cfg.train.heldout_rows)
        self.heldout = targets_within_documents(torch.as_tensor(tokens, dtype=torch.long).to(device),
                                                torch.as_tensor(segs, dtype=torch.long).to(device))
        datasets = {name: probe_dataset(name, cfg) for name, _ in PROBES.values()}
        self.items, self.skipped = {}, {}  # skipped: items whose own documents do not fit
        for key, (name, split) in PROBES.items():
            self.items[key] = build_items(name, split, cfg, tokenizer, ds=datasets[name])
            asked = min(cfg.train.probe_items, sum(t.split == split for t in datasets[name].test))
            self.skipped[key] = asked - len(self.items[key])

    @torch.no_grad()
    def run(self, model) -> dict[str, float]:
        was_training = model.training
        model.eval()
        x, y, seg = self.heldout
        out = {"heldout_loss": model(x, y, segment_ids=seg)[1].item()}
        for name, items in self.items.items():
            if not items:  # no item fits in the model's context: nothing to measure
                continue
            scored = model.score_contexts([item.context for item in items], [item.options for item in items])
            correct = 0
            for item, options in zip(items, scored, strict=True):
                scores = [sum(lp) for lp in options]
                correct += int(max(range(len(scores)), key=scores.__getitem__) in item.accepted)
            out[f"probe_{name}"] = correct / len(items)
        model.train(was_training)
        return out
