"""The generation probe of pretraining (`minigen.probe.GenerationProbe`: greedy local rewrites and global
inferences of the probe datasets' first sentences, `dev` words, one rewrite example) on finished runs,
on the datasets you name: the log's per-dataset validity figures.

    python experiments/generation_probe.py runs/tiny [RUN ...] [--source reversal --source reversal_curse]

Pretraining logs the mean over reversal's and syllogism's sentences (`probe_gen_local_valid`), where a
model that rewrites comparisons but not syllogism premises scores between the two, and each source's
own local share (`probe_gen_local_valid_reversal`, `_syllogism`, `_reversal_curse`: people).
"""

from __future__ import annotations

from pathlib import Path

import torch
import typer

from minigen.checkpoint import load_run
from minigen.probe import GenerationProbe, probe_dataset


def main(runs: list[Path], source: list[str] = typer.Option(["reversal"], help="Probe dataset(s).")):
    torch.set_num_threads(1)
    for run in runs:
        model, tokenizer, cfg = load_run(run)
        model.eval()
        datasets = {name: probe_dataset(name, cfg) for name in source}
        shares = GenerationProbe(datasets, cfg.data.lexicon_seed, source).run(model, tokenizer)
        print(f"{run} ({', '.join(source)}): " + ", ".join(f"{k.removeprefix('probe_gen_')} {v:.3f}"
                                                         for k, v in shares.items()))


if __name__ == "__main__":
    typer.run(main)
