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

from minigen.errors import UserError

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


@app.command()
def pretrain(
    preset: str = typer.Option("tiny", help="Preset name from the scaling ladder (see README)."),
    out: Optional[Path] = typer.Option(None, help="Run directory (default: runs/PRESET)."),
    steps: Optional[int] = typer.Option(None, help="Override the preset's number of optimizer steps."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in OUT exactly where it stopped."),
    set_: list[str] = typer.Option([], "--set", help="Override any config field: --set train.lr=1e-3."),
    wandb: str = typer.Option("offline", help="W&B mode: online, offline or disabled."),
) -> None:
    """Pretrain a model from scratch on the synthetic corpus."""
    from minigen.pretrain import run_pretrain

    run_pretrain(preset=preset, out=out, steps=steps, resume=resume, overrides=list(set_), wandb_mode=wandb)


@app.command()
def compare(
    split: str = typer.Option(..., help="reversal, syllogism, semantic, reversal_curse, or all."),
    ckpt: Path = typer.Option(Path("runs/tiny"), help="Run directory made by `minigen pretrain`."),
    conditions: str = typer.Option("base,icl,ft", help="Comma-separated conditions to run."),
    seeds: int = typer.Option(3, help="Number of seeds (finetuning seeds / ICL document orders)."),
    out: Optional[Path] = typer.Option(None, help="Output directory (default: CKPT/compare/SPLIT)."),
    set_: list[str] = typer.Option([], "--set", help="Override a compare option: --set ft.lr=1e-4."),
    wandb: str = typer.Option("offline", help="W&B mode: online, offline or disabled."),
) -> None:
    """Compare base / ICL / finetuning (and augmented finetuning) on one dataset."""
    from minigen.eval.compare import run_compare

    run_compare(
        split=split, ckpt=ckpt, conditions=conditions, seeds=seeds, out=out, overrides=list(set_),
        wandb_mode=wandb,
    )


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
