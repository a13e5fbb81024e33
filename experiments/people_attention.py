"""Where does the people lookup look? Per head, the attention from a people-lookup question's last token
(" is", which predicts the answer's first piece) to the context's lines, on the pretraining probe's
items (`minigen.eval.retrieval.people_lookup`, dev words, 4 people in context).

For each head and kind (copy: the asked person stated in the question's order, so the answer follows
the same words in its line; flip: stated in the other order), it prints
- `line`: the attention on the asked person's line over the mean on each other line (1.0: blind to
  which person is asked; a head that finds the person is far above 1);
- `ans`: the attention on the answer's telling piece inside the asked line (the first token where the
  four options differ: a name's first piece, a description's role word), over the mean on the other
  lines' own telling pieces (the candidate set);
- `right piece`: the attention on the answer's telling piece in the asked line (mean over items);
- `mass`: the share of the head's attention on the four lines at all (the rest is on the question).
Ratios are of means over the items.

Then the model's own choice there: the rank of the right option's telling piece among the four (1 = the
most probable; ties count in its favour). The query position is the prompt's last token, or for a
description the options' common first piece (" the").

    python experiments/people_attention.py RUN_DIR [RUN_DIR ...] [--contexts 20]
"""

from __future__ import annotations

import argparse
import math

import torch

import minigen.model as model_mod
from minigen.checkpoint import load_run
from minigen.data.datasets.common import eval_words
from minigen.eval.retrieval import people_lookup
from minigen.probe import LOOKUPS, PROBE_WORDS

CAPTURED: list[torch.Tensor] = []


def _attend_and_keep(q, k, v, mask, seg_k, backend):
    """`minigen.model.attend` in eager form, keeping each layer's attention probabilities."""
    if k.shape[1] != q.shape[1]:
        k = k.repeat_interleave(q.shape[1] // k.shape[1], dim=1)
        v = v.repeat_interleave(q.shape[1] // v.shape[1], dim=1)
    if mask is None:
        mask = model_mod.attention_mask(q.shape[2], k.shape[2], None, None, q.device)
    att = ((q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])).masked_fill(~mask, float("-inf")).softmax(-1)
    CAPTURED.append(att[0, :, -1].detach())  # (H, S): the last token's attention
    return att @ v


def first_piece(tok, text: str) -> int:
    """The first token of `text` that is not only a space."""
    return next(t for t in tok.encode(text) if tok.decode([t]).strip())


def line_spans(tok, lines: list[str]) -> list[range]:
    """Token positions of each context line after BOS, checked against encoding the whole context."""
    spans, at = [], 1
    for line in lines:
        n = len(tok.encode(line + "\n"))
        spans.append(range(at, at + n))
        at += n
    if at != 1 + len(tok.encode("\n".join(lines) + "\n")):
        raise SystemExit("the context's lines do not tokenize apart; spans would be wrong")
    return spans


def telling(tok, options: list[str]) -> tuple[list[int], list[int]]:
    """The options' common first tokens (" the" for descriptions) and each option's token after them."""
    ids = [tok.encode(o) for o in options]
    d = next(i for i in range(min(map(len, ids))) if len({o[i] for o in ids}) > 1)
    return ids[0][:d], [o[d] for o in ids]


def piece_position(tok, line: str, span: range, piece: int) -> int:
    """The position of `piece` in the line (its first occurrence), or -1."""
    ids = tok.encode(line + "\n")
    return span[ids.index(piece)] if piece in ids else -1


def study(run: str, n_contexts: int) -> None:
    model, tok, cfg = load_run(run)
    model.eval()
    words = eval_words(LOOKUPS["people_lookup"], 0, cfg.data.lexicon_seed, PROBE_WORDS)
    planned = people_lookup(words, n_contexts)
    n_layer, n_head = cfg.model.n_layer, cfg.model.n_head
    stats = {k: torch.zeros(n_layer, n_head, 5) for k in ("copy", "flip")}
    counts = dict.fromkeys(stats, 0)
    ranks = {k: [] for k in stats}
    original = model_mod.attend
    model_mod.attend = _attend_and_keep
    try:
        for text, items in planned.contexts:
            lines = text.rstrip("\n").split("\n")
            spans = line_spans(tok, lines)
            for item in items:
                j = int(item.id.split("-")[1])
                common, pieces = telling(tok, item.options)
                of_line = _option_of_line(item, lines)
                pos = [piece_position(tok, line, span, pieces[of_line[i]])
                       for i, (line, span) in enumerate(zip(lines, spans, strict=True))]
                CAPTURED.clear()
                ids = [tok.bos_id] + tok.encode(text + item.prompt) + common
                with torch.no_grad():
                    logits, _ = model(torch.tensor([ids]))
                att = torch.stack(CAPTURED)  # (L, H, S)
                on_lines = torch.stack([att[:, :, list(s)].sum(-1) for s in spans], -1)  # (L, H, 4)
                others = [i for i in range(len(spans)) if i != j]
                stats[item.split] += torch.stack([
                    on_lines[..., j], on_lines[..., others].mean(-1), att[:, :, pos[j]],
                    att[:, :, [pos[i] for i in others]].mean(-1), on_lines.sum(-1)], -1)
                counts[item.split] += 1
                p = logits[0, -1].float().softmax(-1)[torch.tensor(pieces)]
                ranks[item.split].append(int((p > p[item.answer]).sum()) + 1)
    finally:
        model_mod.attend = original
    print(f"\n{run}: {cfg.model.n_layer} layers x {n_head} heads, {n_contexts} contexts")
    for kind, s in stats.items():
        s = s / max(counts[kind], 1)
        cells = torch.stack([s[..., 0] / s[..., 1].clamp_min(1e-9), s[..., 2] / s[..., 3].clamp_min(1e-9),
                             s[..., 2], s[..., 4]], -1)
        r = ranks[kind]
        print(f"  {kind}: right first piece ranked first {sum(x == 1 for x in r) / len(r):.2f} (chance .25), "
              f"mean rank {sum(r) / len(r):.2f} (chance 2.50); heads: line / ans / right piece / mass")
        for layer in range(n_layer):
            row = "  ".join("{:4.2f}/{:4.2f}/{:.2f}/{:.2f}".format(*cells[layer, h].tolist())
                            for h in range(n_head))
            print(f"    L{layer}  {row}")


def _option_of_line(item, lines: list[str]) -> list[int]:
    """For each context line, the index of the option that is its person's (name or description)."""
    return [next(k for k, o in enumerate(item.options) if o.strip(" .").lower() in line.lower())
            for line in lines]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--contexts", type=int, default=20)
    args = ap.parse_args()
    for run in args.runs:
        study(run, args.contexts)


if __name__ == "__main__":
    main()
