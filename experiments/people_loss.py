"""Does a checkpoint find a restated person's line? The loss on the first piece of each restated
people line's answer, in dense people documents (`data.people.dense`) of the run's own settings from a
stream it never saw (data seed 999), by what the line asks: a name (first piece of the name, after
" is") or a description (its role word, after " is the"). Beside it, ln(n) for a document of n people:
the loss of a model that knows the answer is one of the document's n people and not which
(docs/log/2026-12-05-people-lookup-shapes.md).

    python experiments/people_loss.py RUN_DIR [RUN_DIR ...] [--docs 300]
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import math

import torch

from minigen.checkpoint import load_run
from minigen.data.corpus import documents


def answer_start(tok, ids: list[int], line: str) -> tuple[list[int], int, str]:
    """`ids` with `line` appended, the index of its answer's first telling token, and what it asks."""
    head, answer = line.rsplit(" is ", 1)
    asks = "desc" if answer.startswith("the ") else "name"
    prompt = head + " is" + (" the" if asks == "desc" else "")
    start, full = tok.encode(prompt), tok.encode(line)
    k = next(i for i in range(len(start), len(full)) if tok.decode([full[i]]).strip())
    return ids + full, len(ids) + k, asks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--docs", type=int, default=300)
    args = ap.parse_args()
    torch.set_num_threads(1)
    print("run | loss asking a name (lines) | asking a description (lines) | ln(people) | docs")
    for run in args.runs:
        model, tok, cfg = load_run(run)
        model.eval()
        people = dataclasses.replace(cfg.data.people, dense=True)
        data = dataclasses.replace(cfg.data, seed=999, mixture={"people": 1.0}, people=people)
        losses: dict[str, list[float]] = {"name": [], "desc": []}
        log_n = []
        for doc in itertools.islice(documents(data), args.docs):
            lines = doc.split("\n")
            k = len(lines) // 2
            ids, asked = [tok.bos_id] + tok.encode("\n".join(lines[:k])), []
            for line in lines[k:]:
                ids, pos, asks = answer_start(tok, ids + tok.encode("\n"), line)
                asked.append((pos, asks))
            ids = ids[: model.cfg.seq_len]  # a longer document is cut, as a training row cuts it
            with torch.no_grad():
                logp = model(torch.tensor([ids]))[0].log_softmax(-1)[0]
            for pos, asks in asked:
                if pos < len(ids):
                    losses[asks].append(-logp[pos - 1, ids[pos]].item())
            log_n.append(math.log(k))
        cells = (f"{sum(v) / len(v):.2f} ({len(v)})" if v else "-" for v in losses.values())
        print(f"{run} | " + " | ".join(cells) + f" | {sum(log_n) / len(log_n):.2f} | {args.docs}")


if __name__ == "__main__":
    main()
