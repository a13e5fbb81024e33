"""Which of an aug-FT condition's augmentations carry its effect: finetune on the training documents plus
the statements that parse, or those that do not, or all of them (the condition itself, as a check).

Reads the augmentations a `minigen compare` run cached (OUT/DATASET/augment/STRATEGY-seedS.jsonl, one
file per finetuning seed) and finetunes exactly as that compare's aug-ft conditions do (`ft` on more
documents, same options), then scores like compare, with its table
(docs/log/2026-12-06-placebo-augmentation.md).

    python experiments/augment_subsets.py --ckpt runs/tiny --split reversal_curse \
        --augment runs/tiny/compare/reversal_curse/reversal_curse/augment --strategy global \
        --set ft.lr=0.001 --set ft.lr_sweep= [--seeds 3] [--out DIR]
"""

from __future__ import annotations

import argparse
import io
import tempfile
from pathlib import Path

import torch

from minigen.augment.conditions import augmentation_documents, finetune_on
from minigen.augment.report import read_records
from minigen.checkpoint import load_run
from minigen.compare import evaluate_dataset
from minigen.eval.options import CompareOptions, apply_overrides
from minigen.eval.table import format_table

SUBSETS = {"parsed": lambda r: r["form"] is not None, "unparsed": lambda r: r["form"] is None,
           "all": lambda r: True}


def subset_condition(augment_dir: Path, strategy: str, subset: str):
    keep = SUBSETS[subset]
    name = f"aug-{strategy}-{subset}"

    def condition(setup, seed: int):
        path = augment_dir / f"{strategy}-seed{seed}.jsonl"
        if not path.is_file():
            raise SystemExit(f"no cached augmentations at {path}: run compare with aug-ft-{strategy} first")
        records = [r for r in read_records(path) if keep(r)]
        docs = list(setup.documents) + augmentation_documents(records)
        return finetune_on(setup, seed, docs, name, False, {"augmented_statements": len(records)})

    return name, condition


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ckpt", type=Path, required=True)
    ap.add_argument("--split", required=True)
    ap.add_argument("--augment", type=Path, required=True, help="a compare run's DATASET/augment folder")
    ap.add_argument("--strategy", default="global")
    ap.add_argument("--subsets", default="parsed,unparsed,all")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--set", action="append", default=[], dest="overrides")
    ap.add_argument("--out", type=Path, default=None, help="finetuning output (default: temporary)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    model, tokenizer, cfg = load_run(args.ckpt)
    options = apply_overrides(CompareOptions(), ["ft.save=false", *args.overrides])
    conditions = dict(subset_condition(args.augment, args.strategy, s) for s in args.subsets.split(","))
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        result = evaluate_dataset(args.split, model, tokenizer, cfg, conditions, args.seeds, options, out,
                                  io.StringIO())
    for cond, res in result["conditions"].items():
        print(f"{cond}: {res['info'][0]['augmented_statements']} augmented statements (seed 0)")
    print(format_table({"datasets": {args.split: result}}))


if __name__ == "__main__":
    main()
