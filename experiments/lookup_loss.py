"""Which lookups a checkpoint makes on its own recall documents: the loss on the first piece of each
restated line's last word, by the kind of line (a comparison restated reversed or as stated, and each
other kind of fact, restated as stated). A forward lookup (a fact's later word from its first) and a
reversed one (a comparison's subject from its object) are told apart, on pool words in the documents
the run trained on, from a stream it never saw (data seed 999): a curve of loss against the lookups'
4-way measure in `exact_retrieval.py` (docs/log/2026-12-05-reversed-lookup.md).

    python experiments/lookup_loss.py RUN_DIR [RUN_DIR ...] [--docs 300]
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools

import torch

from minigen.checkpoint import load_run
from minigen.data.corpus import documents
from minigen.data.logic import Compare
from minigen.data.templates import parse


def answer_position(tok, ids: list[int], line: str) -> tuple[list[int], int]:
    """`ids` with `line` appended, and the index of the last word's first non-space token."""
    head = tok.encode(line.rsplit(" ", 1)[0])
    full = tok.encode(line)
    k = next(i for i in range(len(head), len(full)) if tok.decode([full[i]]).strip())
    return ids + full, len(ids) + k


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--docs", type=int, default=300)
    args = ap.parse_args()
    torch.set_num_threads(1)
    for run in args.runs:
        model, tok, cfg = load_run(run)
        model.eval()
        data = dataclasses.replace(cfg.data, seed=999, mixture={"recall": 1.0})
        losses: dict[str, list[float]] = {}
        for doc in itertools.islice(documents(data), args.docs):
            lines = doc.split("\n")
            k = len(lines) // 2
            stated = {parse(line) for line in lines[:k]}
            ids, asked = [tok.bos_id] + tok.encode("\n".join(lines[:k])), []
            for line in lines[k:]:
                ids, pos = answer_position(tok, ids + tok.encode("\n"), line)
                f = parse(line)
                kind = type(f).__name__ if not isinstance(f, Compare) else (
                    "compare as stated" if f in stated else "compare reversed")
                asked.append((pos, kind))
            with torch.no_grad():
                logp = model(torch.tensor([ids]))[0].log_softmax(-1)[0]
            for pos, kind in asked:
                losses.setdefault(kind, []).append(-logp[pos - 1, ids[pos]].item())
        means = (f"{k} {sum(v) / len(v):.2f} ({len(v)})" for k, v in sorted(losses.items()))
        print(run + " | " + " | ".join(means))


if __name__ == "__main__":
    main()
