"""The `minigen` command line: a thin typer layer over library functions.

Each command imports its library module lazily (so `minigen --help` is instant) and passes plain
values through. Errors a user can cause are `UserError`s: `main()` prints them as one line on
stderr and exits with code 2.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from minigen.config import PRESET_RECIPES, RECIPES, config_keys_help
from minigen.data.datasets import DATASETS
from minigen.errors import UserError
from minigen.eval.options import DEFAULT_CONDITIONS, option_keys_help

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="minigen: pretrain a small transformer on a synthetic corpus, then compare how in-context "
    "learning and finetuning generalize.",
)


def _register_subapps() -> None:
    from minigen.data.cli import data_app

    app.add_typer(data_app, name="data", help="Show and export the corpus and the generalization datasets.")
    app.add_typer(export_app, name="export", help="Export a run to other tools' formats (Hugging Face).")


export_app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)


@export_app.command("hf")
def export_hf(
    run_dir: Path = typer.Argument(..., help="Run directory made by `minigen pretrain`, or finetuned weights "
                                   "that `minigen compare` wrote inside one (CKPT/compare/SPLIT/DATASET/ft/"
                                   "seedS, or its model.safetensors)."),
    out: Path = typer.Option(..., help="Output directory: config.json, model.safetensors, tokenizer files."),
) -> None:
    """Write a Hugging Face `transformers` Llama checkpoint (AutoModelForCausalLM, AutoTokenizer)."""
    from minigen.interop.hf import export_hf as run_export

    summary = run_export(run_dir, out)
    print(f"wrote {summary['out']} ({summary['params']:,} parameters from {summary['weights']}, "
          f"{summary['seconds']:.1f} s)")


@app.command()
def pretrain(
    preset: str = typer.Option("tiny", help="Preset (shape x recipe): " + ", ".join(
        f"{name} ({shape} x {recipe})" for name, (shape, recipe) in PRESET_RECIPES.items()) + "."),
    out: Optional[Path] = typer.Option(None, help="Run directory (default: runs/PRESET)."),
    steps: Optional[int] = typer.Option(None, help="Override the preset's number of optimizer steps (a "
                                        "curriculum's stages keep their shares)."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in OUT exactly where it stopped."),
    extend: bool = typer.Option(False, "--extend", help="Continue the run in OUT under a longer recipe: "
                                "its stages unchanged, then more (the same run as that recipe from step 0)."),
    set_: list[str] = typer.Option([], "--set", help="Override a config field: --set train.lr=1e-3, "
                                   f"data.roles.confusers=0.8. Keys: {config_keys_help()}."),
    recipe: Optional[str] = typer.Option(None, help="Train the preset's shape on another recipe: "
                                         f"{', '.join(RECIPES)} (README, Presets)."),
    wandb: str = typer.Option("offline", help="W&B mode: online, offline or disabled."),
) -> None:
    """Pretrain a model from scratch on the synthetic corpus."""
    from minigen.pretrain import run_pretrain

    run_pretrain(preset=preset, out=out, steps=steps, resume=resume, overrides=list(set_), wandb_mode=wandb,
                 recipe=recipe, extend=extend)


@app.command()
def compare(
    split: str = typer.Option(..., help=f"{', '.join(DATASETS)}, or all."),
    ckpt: Path = typer.Option(Path("runs/tiny"), help="Run directory made by `minigen pretrain`."),
    conditions: str = typer.Option(DEFAULT_CONDITIONS, help="Comma-separated conditions to run."),
    seeds: int = typer.Option(3, help="Number of seeds (finetuning seeds / ICL document orders)."),
    out: Optional[Path] = typer.Option(None, help="Output directory (default: CKPT/compare/SPLIT)."),
    set_: list[str] = typer.Option(
        [], "--set", help=f"Override a compare option: --set dataset.words=dev. Keys: {option_keys_help()}."),
    wandb: str = typer.Option("offline", help="W&B mode: online, offline or disabled."),
) -> None:
    """Compare base / ICL / finetuning (and augmented finetuning) on one dataset."""
    from minigen.compare import run_compare

    run_compare(
        split=split, ckpt=ckpt, conditions=conditions, seeds=seeds, out=out, overrides=list(set_),
        wandb_mode=wandb,
    )


@app.command()
def augment(
    split: str = typer.Option(..., help=f"Dataset to augment: {', '.join(DATASETS)}."),
    strategy: str = typer.Option(..., help="local, global, oracle-local, oracle-global, "
                                    "placebo-local or placebo-global."),
    ckpt: Path = typer.Option(Path("runs/tiny"), help="Run directory made by `minigen pretrain`."),
    out: Path = typer.Option(..., help="Output JSONL file of augmented documents."),
    seed: int = typer.Option(0, help="Sampling seed (the same seed writes the same file)."),
    set_: list[str] = typer.Option(
        [], "--set", help="Compare's options of the samples and the dataset: --set aug.n=4 (samples per "
        "sentence / document), aug.temperature (0: greedy), dataset.size (20, 0.5), dataset.seed, "
        "dataset.words."),
) -> None:
    """Write augmented finetuning documents (the model's own in-context inferences) and a report."""
    from minigen.augment.run import run_augment

    run_augment(split=split, strategy=strategy, ckpt=ckpt, out=out, seed=seed, overrides=list(set_))


@app.command()
def sweep(
    file: Path = typer.Argument(..., help="Sweep file in the W&B sweep schema (YAML)."),
    workers: int = typer.Option(1, help="Runs in parallel (worker processes)."),
    out: Optional[Path] = typer.Option(None, help="Sweep directory (default: sweeps/NAME)."),
    seed: int = typer.Option(0, help="Seed of random search (the same seed samples the same runs)."),
    wandb: str = typer.Option("offline", help="W&B mode of every run: online, offline or disabled."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print each run's command; run nothing."),
) -> None:
    """Run a W&B-schema sweep file locally (resumable; each run logged to W&B in the sweep's group).

    The same file runs on W&B with `wandb sweep FILE` then `wandb agent ID`."""
    from minigen.sweep import run_sweep

    summary = run_sweep(file=file, workers=workers, out=out, seed=seed, wandb_mode=wandb, dry_run=dry_run)
    if summary.get("failed"):
        raise typer.Exit(1)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def run(
    ctx: typer.Context,
    out: Optional[Path] = typer.Option(
        None, help="Run directory (default: $MINIGEN_RUN_DIR or runs/experiments/ID)."),
    ckpt_cache: Optional[Path] = typer.Option(
        None, help="Shared pretraining cache (default: $MINIGEN_CKPT_CACHE or runs/checkpoints)."),
    wandb: str = typer.Option("offline", help="W&B mode: online, offline or disabled."),
) -> None:
    """One sweep run: pretrain (shared by runs with the same pretraining config), then compare.

    Parameters are --KEY=VALUE flags, as `wandb agent` passes them: preset, steps, split, conditions,
    seeds, ckpt, nproc_per_node; model.X / train.X / data.X (pretraining config); ft.X / icl.X /
    eval.X / dataset.X (compare options). Example: minigen run --preset=tiny --split=reversal --ft.lr=0.001
    """
    from minigen.experiment import parse_flags, run_experiment

    run_experiment(parse_flags(list(ctx.args)), out=out, ckpt_cache=ckpt_cache, wandb_mode=wandb)


@app.command()
def report(
    sweep_dir: Path = typer.Argument(..., help="Directory of a sweep (made by `minigen sweep`)."),
    wandb: str = typer.Option("offline", help="W&B mode: online, offline or disabled."),
) -> None:
    """Aggregate a sweep's results into tables and figures (PNG + Markdown)."""
    from minigen.report import run_report

    run_report(sweep_dir=sweep_dir, wandb_mode=wandb)


def main(argv: Optional[list[str]] = None) -> None:
    """Entry point of the console script: one clear line and exit code 2 for user errors."""
    try:
        _register_subapps()
        # Standalone mode: typer reports usage errors (unknown option, wrong type) itself, exit code 2.
        app(args=argv)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
