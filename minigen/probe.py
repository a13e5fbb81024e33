"""What pretraining is for, measured while it runs: held-out corpus loss, and in-context probe accuracy
on small reversal and syllogism sets over evaluation-pool words (words the model never saw).

Each probe item is one document in the shared ICL layout: [BOS] + "\n".join(the training documents the
item needs + a few other training documents, shuffled) + "\n" + prompt; its options are scored as
continuations by summed log-likelihood (`Transformer.score_contexts`: each context encoded once, several
side by side).
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


@dataclasses.dataclass
class ProbeItem:
    context: list[int]
    options: list[list[int]]
    accepted: list[int]  # options counted as correct


def build_items(name: str, split: str, cfg: RunConfig, tokenizer, seed: int = 0) -> list[ProbeItem]:
    from minigen.data.datasets import load_dataset
    from minigen.eval.scoring import split_at_boundary

    ds = load_dataset(name, seed=seed, lexicon_seed=cfg.data.lexicon_seed, size=cfg.train.probe_items)
    docs = {d.id: d.text for d in ds.train}
    rng = random.Random(seed)
    items = []
    for item in [t for t in ds.test if t.split == split][: cfg.train.probe_items]:
        needed = [docs[i] for i in item.meta["doc_ids"]]
        others = [d for i, d in docs.items() if i not in set(item.meta["doc_ids"])]
        texts = needed + rng.sample(others, min(cfg.train.probe_other_docs, len(others)))
        rng.shuffle(texts)
        prefix_text = "\n".join(texts) + "\n" + item.prompt
        options = []
        for option in item.options:
            prefix, cont = split_at_boundary(tokenizer, prefix_text, option)
            options.append(cont)
        context = [tokenizer.bos_id] + prefix
        items.append(ProbeItem(context[-cfg.model.seq_len:], options, item.accepted()))
    return items


class Probe:
    def __init__(self, cfg: RunConfig, tokenizer, device: torch.device):
        from minigen.data.corpus import packed_rows

        self.device = device
        held = dataclasses.replace(cfg.data, seed=cfg.data.seed + HELDOUT_SEED_OFFSET)
        tokens, segs = packed_rows(held, tokenizer, cfg.model.seq_len, 0, cfg.train.heldout_rows)
        self.heldout = targets_within_documents(torch.as_tensor(tokens, dtype=torch.long).to(device),
                                                torch.as_tensor(segs, dtype=torch.long).to(device))
        self.items = {key: build_items(name, split, cfg, tokenizer) for key, (name, split) in PROBES.items()}

    @torch.no_grad()
    def run(self, model) -> dict[str, float]:
        was_training = model.training
        model.eval()
        x, y, seg = self.heldout
        out = {"heldout_loss": model(x, y, segment_ids=seg)[1].item()}
        for name, items in self.items.items():
            scored = model.score_contexts([item.context for item in items], [item.options for item in items])
            correct = 0
            for item, options in zip(items, scored, strict=True):
                scores = [sum(lp) for lp in options]
                correct += int(max(range(len(scores)), key=scores.__getitem__) in item.accepted)
            out[f"probe_{name}"] = correct / max(1, len(items))
        model.train(was_training)
        return out
