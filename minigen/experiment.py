"""`minigen run`: one sweep run = pretrain (shared between runs with the same pretraining config) + compare.

It takes the sweep's parameters as `--KEY=VALUE` flags, the way `wandb agent` passes them (${args}):
- run options: preset, recipe, steps, split, conditions, seeds, ckpt (use this checkpoint, skip
  pretraining), nproc_per_node (pretrain under `torchrun` with that many processes);
- `model.X`, `train.X`, `data.X`: pretraining config overrides (`minigen pretrain --set`);
- `ft.X`, `icl.X`, `eval.X`, `dataset.X`, `aug.X`: compare options (`minigen compare --set`).
Nested W&B parameters arrive as one dict (`--ft={'lr': 0.001}`) and mean the same as `--ft.lr=0.001`.

The pretrained checkpoint lives in a cache keyed by (preset, steps, pretraining overrides), so runs
that differ only in evaluation settings share one pretraining; a file lock makes concurrent runs wait
for it. The run directory gets compare's files (results.json, scores.jsonl, compare.png) and run.json.
"""

from __future__ import annotations

import ast
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from minigen.errors import UserError
from minigen.sweep_config import run_id

RUN_OPTIONS = ("preset", "recipe", "steps", "split", "conditions", "seeds", "ckpt", "nproc_per_node")
INT_OPTIONS = ("steps", "seeds", "nproc_per_node")
PRETRAIN_SECTIONS = ("model", "train", "data")
COMPARE_SECTIONS = ("ft", "icl", "eval", "dataset", "aug")
AGENT_ENV = ("WANDB_SWEEP_ID", "WANDB_RUN_ID", "WANDB_SWEEP_PARAM_PATH")
DONE = "pretrain_done.json"


@dataclass
class Experiment:
    preset: str = "tiny"
    recipe: str | None = None
    steps: int | None = None
    split: str = "reversal"
    conditions: str = "base,icl,ft"
    seeds: int = 3
    ckpt: str | None = None
    nproc_per_node: int = 1
    pretrain_overrides: list[str] = field(default_factory=list)
    compare_overrides: list[str] = field(default_factory=list)


def parse_flags(argv: list[str]) -> dict:
    """`--key=value` / `--key value` flags into a dict of strings (nested dicts flattened to dotted keys)."""
    params: dict = {}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if not arg.startswith("--") or len(arg) == 2:
            raise UserError(f"minigen run: unexpected argument {arg!r}; parameters look like --KEY=VALUE")
        key, eq, value = arg[2:].partition("=")
        if not eq:
            if i + 1 >= len(argv) or argv[i + 1].startswith("--"):
                raise UserError(f"minigen run: --{key} needs a value (--{key}=VALUE)")
            i, value = i + 1, argv[i + 1]
        params.update(_flatten(key, value))
        i += 1
    return params


def _flatten(key: str, value) -> dict:
    if isinstance(value, str) and value.startswith("{"):
        try:
            value = ast.literal_eval(value)  # W&B formats a nested parameter as a Python dict
        except (ValueError, SyntaxError):
            raise UserError(f"minigen run: --{key}={value} is not a mapping") from None
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            out.update(_flatten(f"{key}.{k}", v))
        return out
    return {key: value}


def to_experiment(params: dict) -> Experiment:
    """Route each parameter to the run option, pretraining override or compare option it names."""
    exp = Experiment()
    for key, value in params.items():
        if isinstance(value, dict):
            for k, v in _flatten(key, value).items():
                _route(exp, k, v)
        else:
            _route(exp, key, value)
    return exp


def _route(exp: Experiment, key: str, value) -> None:
    section, dot, name = key.partition(".")
    text = str(value)
    if key == "icl_share":  # retired 2026-12-05: it could not reach a recipe's stages
        raise UserError("parameter icl_share is retired; use data.facts_share (the share of every stage's "
                        "documents replaced by plain fact documents: icl_share s is data.facts_share 1-s)")
    if not dot and key in RUN_OPTIONS:
        setattr(exp, key, _integer(key, text) if key in INT_OPTIONS else text)
    elif dot and section in PRETRAIN_SECTIONS:
        exp.pretrain_overrides.append(f"{key}={text}")
    elif dot and name:  # compare's options (a new section, e.g. aug.X, is checked by compare itself)
        exp.compare_overrides.append(f"{key}={text}")
    else:
        sections = ", ".join(f"{s}.X" for s in (*PRETRAIN_SECTIONS, *COMPARE_SECTIONS))
        raise UserError(f"unknown parameter {key!r}; `minigen run` takes {', '.join(RUN_OPTIONS)} "
                        f"and {sections}")


def _integer(key: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise UserError(f"parameter {key}={text}: expected an integer") from None


def check(params: dict) -> Experiment:
    """Validate a run's parameters without running anything (names, types, values)."""
    from minigen.compare import parse_conditions, parse_split
    from minigen.config import apply_overrides, get_preset
    from minigen.eval.options import CompareOptions
    from minigen.eval.options import apply_overrides as compare_overrides

    exp = to_experiment(params)
    if exp.ckpt is None:
        apply_overrides(get_preset(exp.preset, exp.recipe), exp.pretrain_overrides)
    compare_overrides(CompareOptions(), exp.compare_overrides)
    parse_split(exp.split)
    parse_conditions(exp.conditions)
    for key in INT_OPTIONS:
        value = getattr(exp, key)
        if value is not None and value < 1:
            raise UserError(f"parameter {key}={value}: must be >= 1")
    return exp


def pretrain_key(exp: Experiment) -> str:
    key = json.dumps([exp.preset, exp.steps, sorted(exp.pretrain_overrides)]
                     + ([exp.recipe] if exp.recipe else []))  # without a recipe, as before it existed
    return f"{exp.preset}-{hashlib.sha1(key.encode()).hexdigest()[:8]}"


@contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # another run pretraining the same config: wait for it
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _outside_agent():
    # Under `wandb agent`, the sweep's run id is in the environment; pretraining logs its own W&B run,
    # so hide the agent's variables until the run's summary is logged.
    saved = {k: os.environ.pop(k) for k in AGENT_ENV if k in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


def pretrained_checkpoint(exp: Experiment, cache: Path, wandb_mode: str) -> Path:
    """The checkpoint for this pretraining config: reused when finished, resumed when interrupted."""
    ckpt = cache / pretrain_key(exp)
    with _locked(cache / f"{ckpt.name}.lock"):
        if (ckpt / DONE).exists():
            return ckpt
        resume = (ckpt / "config.json").exists()
        if ckpt.exists() and not resume:
            shutil.rmtree(ckpt)  # killed before its config was written: nothing to resume
        print(f"minigen run: pretraining {exp.preset} into {ckpt}", flush=True)
        with _outside_agent():
            if exp.nproc_per_node > 1:
                _torchrun_pretrain(exp, ckpt, resume, wandb_mode)
            else:
                from minigen.pretrain import run_pretrain

                run_pretrain(preset=exp.preset, out=ckpt, steps=exp.steps, resume=resume,
                             overrides=exp.pretrain_overrides, wandb_mode=wandb_mode, recipe=exp.recipe)
        (ckpt / DONE).write_text(json.dumps({"preset": exp.preset, "recipe": exp.recipe, "steps": exp.steps,
                                             "overrides": exp.pretrain_overrides}) + "\n")
    return ckpt


def torchrun_command(exp: Experiment, ckpt: Path, resume: bool, wandb_mode: str) -> list[str]:
    """`torchrun ... -m minigen pretrain ...`; MINIGEN_TORCHRUN_ARGS replaces --standalone (multi-node)."""
    launch = os.environ.get("MINIGEN_TORCHRUN_ARGS", "--standalone").split()
    cmd = [sys.executable, "-m", "torch.distributed.run", *launch, f"--nproc_per_node={exp.nproc_per_node}",
           "-m", "minigen", "pretrain", "--preset", exp.preset, "--out", str(ckpt), "--wandb", wandb_mode]
    if exp.steps is not None:
        cmd += ["--steps", str(exp.steps)]
    if exp.recipe is not None:
        cmd += ["--recipe", exp.recipe]
    if resume:
        cmd.append("--resume")
    for item in exp.pretrain_overrides:
        cmd += ["--set", item]
    return cmd


def _torchrun_pretrain(exp: Experiment, ckpt: Path, resume: bool, wandb_mode: str) -> None:
    cmd = torchrun_command(exp, ckpt, resume, wandb_mode)
    print("minigen run: " + " ".join(cmd), flush=True)
    if subprocess.run(cmd).returncode != 0:
        raise RuntimeError(f"torchrun pretraining failed: {' '.join(cmd)}")


def run_experiment(params: dict, out: Path | None = None, ckpt_cache: Path | None = None,
                   wandb_mode: str = "offline") -> dict:
    """Pretrain (cached) + compare for one set of parameters; returns compare's results."""
    from minigen.compare import run_compare
    from minigen.eval.table import flat_metrics

    exp = check(params)
    out = Path(out or os.environ.get("MINIGEN_RUN_DIR") or Path("runs") / "experiments" / run_id(params))
    rid = out.name  # the sweep's id for this run, when a sweep runs it
    cache = Path(ckpt_cache or os.environ.get("MINIGEN_CKPT_CACHE") or Path("runs") / "checkpoints")
    out.mkdir(parents=True, exist_ok=True)
    ckpt = Path(exp.ckpt) if exp.ckpt else pretrained_checkpoint(exp, cache, wandb_mode)
    results = run_compare(split=exp.split, ckpt=ckpt, conditions=exp.conditions, seeds=exp.seeds, out=out,
                          overrides=exp.compare_overrides, wandb_mode="disabled")
    metrics = flat_metrics(results)
    summary = {"id": rid, "params": params, "ckpt": str(ckpt), "preset": exp.preset,
               "model_params": results.get("model", {}).get("params"), "metrics": metrics}
    (out / "run.json").write_text(json.dumps(summary, indent=2) + "\n")
    log_run(rid, params, metrics, out, wandb_mode)
    return results


def log_run(rid: str, params: dict, metrics: dict, out: Path, wandb_mode: str) -> None:
    """One W&B run per sweep run: parameters as config, accuracies as metrics, the compare figure.
    Its group is the sweep's name (WANDB_RUN_GROUP); under `wandb agent` it is the sweep's own run."""
    mode = wandb_mode if wandb_mode == "disabled" else os.environ.get("WANDB_MODE", wandb_mode)
    if mode == "disabled":
        return
    import wandb

    os.environ.setdefault("WANDB_SILENT", "true")
    under_agent = "WANDB_SWEEP_ID" in os.environ  # the agent's run already holds the sweep's config
    run = wandb.init(project=os.environ.get("WANDB_PROJECT", "minigen"), name=rid, mode=mode, dir=str(out),
                     config=None if under_agent else params, group=os.environ.get("WANDB_RUN_GROUP"),
                     job_type="sweep-run")
    figure = out / "compare.png"
    run.log({**metrics, **({"compare": wandb.Image(str(figure))} if figure.exists() else {})})
    run.summary.update(metrics)
    run.finish()
