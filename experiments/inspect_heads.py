"""A look inside ICL reversals with TransformerLens: what each head reads from the context's fact, and
which heads the in-context answer needs.

    pip install -e ".[interop]"
    python experiments/inspect_heads.py [--run runs/tiny] [--n 100] [--seed 0] [--out FILE.png]

The run is exported (`minigen export hf`) and opened with TransformerLens's `TransformerBridge`
(TransformerLens 4 replaced `HookedTransformer.from_pretrained` with it; its logits equal minigen's).
The items are the `reversal` dataset's first n reversal questions, in the contexts `minigen compare`
gives them at ICL seed `--seed` (the same plan over the same evaluation items: the same documents in
the same order), scored as compare scores them. The query position is the prompt's last token
("bruts are"), which predicts " more" / " less": where the copy-or-flip choice shows. Per head, the
figure shows the attention from there to the question's subject inside the fact's documents ("bruts"
in "prorp are more sensitive than bruts."), to their comparative (the word the answer must flip) and
to the comparatives of the other documents; then the drop in ICL accuracy when the head's output is
zeroed (`hook_z`, every position) on the reversal questions and, as a control, on the first n
same-direction questions in the same contexts: a head both need is general machinery, one only the
reversal needs is where the flip is made. Below, one item's attention of the head that reads the
fact's comparative most. Default --out: docs/inspect_heads_tiny.png; the printed table is the
ablation, heads in order of the reversal drop.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import torch
import typer

COMPARATIVES = (" more", " less")


def load_bridge(run: Path, tmp: Path):
    try:
        from transformer_lens.model_bridge import TransformerBridge
    except ImportError:
        print('error: TransformerLens is not installed; pip install -e ".[interop]"', file=sys.stderr)
        raise SystemExit(2) from None
    from minigen.interop.hf import export_hf

    export_hf(run, tmp)
    return TransformerBridge.boot_transformers(str(tmp), device="cpu")


def reversal_cases(run: Path, seed: int, n: int) -> tuple[dict[str, list], object]:
    """{split: [(context tokens, fact spans, marked positions, item)]} of the first n items of the
    `reversal` split and of the same-direction `train` split, in compare's seed-`seed` ICL contexts.
    Marked: the question's subject and the comparatives inside the fact's documents, and the
    comparatives of every other document."""
    from minigen.checkpoint import load_run
    from minigen.data.datasets import load_dataset
    from minigen.eval.contexts import build_contexts
    from minigen.eval.trained_facts import evaluation_items

    _, tokenizer, cfg = load_run(run)
    ds = load_dataset("reversal", lexicon_seed=cfg.data.lexicon_seed)
    plan = build_contexts(list(ds.train), evaluation_items(ds), tokenizer, cfg.model.seq_len, seed)
    texts = {d.id: d.text for d in ds.train}
    comparative_ids = {tokenizer.encode(w)[0] for w in COMPARATIVES}
    cases: dict[str, list] = {"reversal": [], "train": []}
    for ctx in plan.contexts:
        spans, pos = {}, 1  # after <bos>
        for doc_id in ctx.doc_ids:
            length = len(tokenizer.encode(texts[doc_id] + "\n"))
            spans[doc_id] = (pos, pos + length)
            pos += length
        assert pos == len(ctx.tokens), "documents do not tokenize on their own as in the context"
        for item in ctx.items:
            facts = [spans[i] for i in item.meta["doc_ids"] if i in spans]
            in_facts = {p for a, b in facts for p in range(a, b)}
            word = tokenizer.encode(item.prompt.split()[0])  # the question's subject, e.g. "bru" "ts"
            marks = {
                "subject": [p + k for p in sorted(in_facts) if ctx.tokens[p:p + len(word)] == word
                            for k in range(len(word))],
                "comparative": [p for p in sorted(in_facts) if ctx.tokens[p] in comparative_ids],
                "other_comparative": [p for p in range(len(ctx.tokens))
                                      if p not in in_facts and ctx.tokens[p] in comparative_ids],
            }
            cases[item.split].append((ctx.tokens, facts, marks, item))
    return {split: sorted(c, key=lambda case: case[3].id)[:n] for split, c in cases.items()}, tokenizer


@torch.no_grad()
def option_logprobs(bridge, tokenizer, context: list[int], item, hooks=()) -> list[float]:
    """Summed log-probability of each option after context + prompt (compare's ICL score)."""
    from minigen.eval.scoring import split_at_boundary

    seqs, starts = [], []
    for option in item.options:
        p, c = split_at_boundary(tokenizer, item.prompt, option)
        seqs.append(context + p + c)
        starts.append(len(context) + len(p))
    width = max(map(len, seqs))
    ids = torch.full((len(seqs), width), tokenizer.pad_id)
    for k, s in enumerate(seqs):
        ids[k, : len(s)] = torch.tensor(s)
    logits = bridge.run_with_hooks(ids, fwd_hooks=list(hooks)) if hooks else bridge(ids)
    logp = logits.float().log_softmax(-1)
    return [sum(logp[k, i - 1, s[i]].item() for i in range(start, len(s)))
            for k, (s, start) in enumerate(zip(seqs, starts, strict=True))]


def zero_head(head: int):
    def hook(z, hook):  # z: (batch, position, head, d_head), the head outputs before o_proj
        z[:, :, head, :] = 0.0
        return z
    return hook


def accuracy(bridge, tokenizer, cases, hooks=()) -> float:
    hits = 0
    for context, _, _, item in cases:
        lp = option_logprobs(bridge, tokenizer, context, item, hooks)
        hits += max(range(len(lp)), key=lp.__getitem__) in item.accepted()
    return hits / len(cases)


@torch.no_grad()
def attention_shares(bridge, tokenizer, cases, n_layer: int):
    """{what: (n_layer, n_head) mean attention from the answer position to it} for the fact documents,
    the question's subject inside them and their comparative tokens; and the first case's pattern."""
    sums: dict[str, torch.Tensor] = {}
    first = None
    names = [f"blocks.{layer}.attn.hook_pattern" for layer in range(n_layer)]
    for k, (context, spans, marks, item) in enumerate(cases):
        ids = torch.tensor([context + tokenizer.encode(item.prompt)])
        _, cache = bridge.run_with_cache(ids, names_filter=lambda name: name in names)
        q = ids.shape[1] - 1
        pattern = torch.stack([cache[name][0, :, q, :] for name in names])  # (layer, head, key)
        masks = {"facts": torch.zeros(ids.shape[1], dtype=torch.bool)}
        masks["prompt"] = torch.arange(ids.shape[1]) >= len(context)
        for a, b in spans:
            masks["facts"][a:b] = True
        for what, positions in marks.items():
            masks[what] = torch.zeros_like(masks["facts"])
            masks[what][positions] = True
        for what, mask in masks.items():
            sums[what] = sums.get(what, 0) + pattern[..., mask].sum(-1)
        if k == 0:
            first = (pattern, masks, ids[0].tolist())
    return {what: total / len(cases) for what, total in sums.items()}, first


def draw(path: Path, shares: dict, drops: dict, acc: dict, first, tokenizer, run: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n_layer, n_head = drops["reversal"].shape
    fig = plt.figure(figsize=(19, 7.4))
    grid = fig.add_gridspec(2, 5, height_ratios=[1, 0.8])
    lim = max(max(abs(d).max() for d in drops.values()), 1e-3)
    panels = [(shares["subject"], "attention to the question's\nsubject in the fact's documents", None),
              (shares["comparative"], "attention to \" more\" / \" less\"\nin the fact's documents", None),
              (shares["other_comparative"], "attention to \" more\" / \" less\"\nin other documents", None),
              (drops["reversal"], f"reversal drop when\nzeroed (unablated {acc['reversal']:.2f})", lim),
              (drops["train"], f"same-direction drop when\nzeroed (unablated {acc['train']:.2f})", lim)]
    for col, (values, title, lim) in enumerate(panels):
        ax = fig.add_subplot(grid[0, col])
        cmap = "RdBu_r" if lim else "viridis"
        im = ax.imshow(values, cmap=cmap, vmin=-lim if lim else 0, vmax=lim if lim else None, aspect="auto")
        for layer in range(n_layer):
            for head in range(n_head):
                v = float(values[layer, head])
                dark = not lim and v < values.max() * 0.6
                ax.text(head, layer, f"{v:.2f}", ha="center", va="center", fontsize=8,
                        color="white" if dark else "black")
        ax.set_xticks(range(n_head))
        ax.set_yticks(range(n_layer))
        ax.set_xlabel("head")
        ax.set_ylabel("layer")
        ax.set_title(title, fontsize=9)
        fig.colorbar(im, ax=ax, fraction=0.046)
    pattern, masks, ids = first
    layer, head = divmod(int(shares["comparative"].argmax()), n_head)
    ax = fig.add_subplot(grid[1, :])
    row = pattern[layer, head].numpy()
    order = ("facts", "subject", "comparative", "prompt")
    kinds = zip(*(masks[what].tolist() for what in order), strict=True)
    colors = ["C3" if c else "C2" if s else "C1" if f else "0.6" if p else "C0" for f, s, c, p in kinds]
    ax.bar(range(len(row)), row, color=colors, width=1.0)
    ax.set_xlim(-0.5, len(row) - 0.5)
    for p in (masks["comparative"] | masks["other_comparative"]).nonzero().flatten().tolist():
        ax.text(p, row[p], tokenizer.token(ids[p]).strip(), ha="center", va="bottom", fontsize=7)
    prompt = tokenizer.decode(ids).splitlines()[-1]
    ax.set_title(f"head {layer}.{head} from the last token of {prompt!r} over its context (blue: other "
                 f"documents, orange: the fact's documents, green: the subject in them, red: their "
                 f"comparative, grey: the prompt)", fontsize=10)
    ax.set_xlabel("context position")
    ax.set_ylabel("attention")
    fig.suptitle(f"ICL reversal questions on {run}: what each head (layer.head) reads from the answer "
                 f"position (the prompt's last token), and what zeroing it costs", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(run: Path = Path("runs/tiny"), n: int = 100, seed: int = 0,
         out: Path = Path("docs/inspect_heads_tiny.png")):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    from minigen.errors import UserError

    try:
        cases, tokenizer = reversal_cases(run, seed, n)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    with tempfile.TemporaryDirectory() as tmp:
        bridge = load_bridge(run, Path(tmp))
    n_layer, n_head = bridge.cfg.n_layers, bridge.cfg.n_heads
    acc = {split: accuracy(bridge, tokenizer, c) for split, c in cases.items()}
    shares, first = attention_shares(bridge, tokenizer, cases["reversal"], n_layer)
    drops = {split: torch.zeros(n_layer, n_head) for split in cases}
    for layer in range(n_layer):
        for head in range(n_head):
            hooks = [(f"blocks.{layer}.attn.hook_z", zero_head(head))]
            for split, c in cases.items():
                drops[split][layer, head] = acc[split] - accuracy(bridge, tokenizer, c, hooks)
    draw(out, {k: v.numpy() for k, v in shares.items()}, {k: v.numpy() for k, v in drops.items()}, acc,
         first, tokenizer, run)
    print(f"{run}, ICL seed {seed}: {len(cases['reversal'])} reversal questions, accuracy "
          f"{acc['reversal']:.3f}; {len(cases['train'])} same-direction questions, {acc['train']:.3f}; "
          f"wrote {out}")
    print("| head | reversal acc. zeroed (drop) | same-direction acc. zeroed (drop) | attention to the "
          "fact's documents | to the subject in them | to their comparative | to other comparatives |")
    print("|---|---|---|---|---|---|---|")
    for index in drops["reversal"].flatten().argsort(descending=True).tolist():
        layer, head = divmod(index, n_head)
        cells = [f"{acc[s] - drops[s][layer, head]:.2f} ({drops[s][layer, head]:+.2f})" for s in cases]
        cells += [f"{shares[w][layer, head]:.3f}" for w in ("facts", "subject", "comparative",
                                                           "other_comparative")]
        print(f"| {layer}.{head} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    typer.run(main)
