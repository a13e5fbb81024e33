"""Experiment tracking: a W&B logger (offline by default) or a do-nothing stand-in with the same
methods, so the training loop never asks whether tracking is on; plus the console progress bar."""

from __future__ import annotations

import os
import time
from pathlib import Path

from minigen.errors import UserError

WANDB_MODES = ("online", "offline", "disabled")


class NullLogger:
    """Stands in for W&B when tracking is disabled (and on every rank but 0)."""

    def log(self, metrics: dict, step: int) -> None:
        pass

    def summary(self, metrics: dict) -> None:
        pass

    def finish(self) -> None:
        pass


class WandbLogger:
    def __init__(self, mode: str, run_dir: Path, config: dict, name: str, project: str = "minigen"):
        import wandb

        os.environ.setdefault("WANDB_SILENT", "true")
        self._run = wandb.init(project=project, name=name, dir=str(run_dir), config=config, mode=mode,
                               resume="allow", id=_run_id(run_dir))

    def log(self, metrics: dict, step: int) -> None:
        self._run.log({chart_key(k): v for k, v in metrics.items()}, step=step)

    def summary(self, metrics: dict) -> None:
        self._run.summary.update(metrics)

    def finish(self) -> None:
        self._run.finish()


# W&B draws a section of charts per "section/" prefix: the probe curves (probe_reversal, ...) and the
# generation probe (probe_gen_local_valid, ...) get one each, under the names metrics.jsonl uses
# without the prefix; every other key is logged as it is.
CHART_SECTIONS = ("probe_gen_", "probe_")


def chart_key(key: str) -> str:
    for prefix in CHART_SECTIONS:
        if key.startswith(prefix):
            return prefix.rstrip("_") + "/" + key.removeprefix(prefix)
    return key


def baseline_summary(baselines: dict) -> dict:
    """The probes' baselines (probe_baselines.json) as W&B summary keys beside their curves:
    baseline/NAME/chance, baseline/NAME/HEURISTIC."""
    return {f"baseline/{name}/{h}": v for name, b in baselines.items() for h, v in b.items()}


def _run_id(run_dir: Path) -> str:
    # One W&B run per run directory, so a resumed run continues the same W&B run.
    path = run_dir / "wandb_id.txt"
    if path.exists():
        return path.read_text().strip()
    import secrets

    run_id = secrets.token_hex(4)
    path.write_text(run_id)
    return run_id


def make_logger(mode: str, run_dir: Path, config: dict, name: str, enabled: bool = True):
    if mode not in WANDB_MODES:
        raise UserError(f"--wandb {mode!r} is unknown; use online, offline or disabled")
    mode = (os.environ.get("WANDB_MODE") or mode) if mode != "disabled" else mode
    if not enabled or mode == "disabled":
        return NullLogger()
    return WandbLogger(mode, run_dir, config, name)


class ConsoleProgress:
    """A rich progress bar with loss, tokens/s and ETA; `note()` prints a line above it."""

    def __init__(self, total: int, completed: int = 0, enabled: bool = True):
        self.enabled = enabled
        self.start = time.perf_counter()
        if not enabled:
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.console = Console(stderr=True)
        self.bar = Progress(TextColumn("pretrain"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("loss {task.fields[loss]}  {task.fields[tps]} tok/s"),
                            TimeRemainingColumn(), console=self.console, transient=False)
        self.task = self.bar.add_task("steps", total=total, completed=completed, loss="-", tps="-")
        self.bar.start()

    def update(self, step: int, loss: float | None, tokens_per_s: float | None) -> None:
        if not self.enabled:
            return
        fields = {}
        if loss is not None:
            fields["loss"] = f"{loss:.3f}"
        if tokens_per_s is not None:
            fields["tps"] = f"{tokens_per_s:,.0f}"
        self.bar.update(self.task, completed=step, **fields)

    def note(self, text: str) -> None:
        if self.enabled:
            self.console.print(text)

    def close(self) -> None:
        if self.enabled:
            self.bar.stop()
