"""`minigen report SWEEP_DIR`: a sweep's results as tables and figures (PNG + report.md), logged to W&B.

Reads every run's results.json (compare's layout) with its parameters, and draws:
- the scaling figure, `scaling.png`: accuracy against model size (parameters, log axis), a line per
  condition, a panel per dataset and test split, 95% CI error bars, chance dotted — when the sweep
  has more than one model size;
- an ablation figure per swept parameter, `ablation_PARAM.png`: accuracy against the parameter's value.
  Where several runs share a value (other parameters swept too), the point is their mean and the bar
  their range; otherwise the bar is the run's own 95% CI.
`report.md` holds the table (run x dataset/split x condition) and links the figures.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from minigen.errors import UserError

FIXED = ("split", "conditions", "seeds", "ckpt", "nproc_per_node")  # not ablation axes
SIZE_KEYS = ("preset",)  # what changes model size: the scaling figure's axis, not an ablation
CONDITION_ORDER = ("base", "icl", "ft")
STYLES = ("-", "--", "-.")  # one per preset in an ablation spanning presets


@dataclass
class Record:
    """One accuracy: a run's condition on one test split of one dataset."""

    run: str
    params: dict
    model_params: int | None
    dataset: str
    split: str
    condition: str
    acc: float
    lo: float
    hi: float
    chance: float | None


def load_records(sweep_dir: Path) -> tuple[list[Record], list[dict]]:
    """All accuracies of the sweep's runs, and the runs that have no results (failed / pending)."""
    if (sweep_dir / "runs").is_dir():
        run_dirs = sorted(p for p in (sweep_dir / "runs").iterdir() if p.is_dir())
    else:  # any directory of compare outputs
        run_dirs = sorted({p.parent for p in sweep_dir.rglob("results.json")})
    records, missing = [], []
    for run_dir in run_dirs:
        params = _read_json(run_dir / "params.json") or _read_json(run_dir / "run.json").get("params", {})
        results = _read_json(run_dir / "results.json")
        if not results.get("datasets"):
            status = _read_json(run_dir / "status.json")
            missing.append({"run": run_dir.name, "status": status.get("status", "no results.json"),
                            "error": (status.get("stderr_tail") or "").splitlines()[-1:]})
            continue
        size = results.get("model", {}).get("params")
        for name, ds in results["datasets"].items():
            for cond, res in ds.get("conditions", {}).items():
                for split, r in res.get("splits", {}).items():
                    lo, hi = r.get("ci", [r["acc"], r["acc"]])
                    chance = r.get("chance", ds.get("chance", {}).get(split))
                    records.append(Record(run_dir.name, params, size, name, split, cond, float(r["acc"]),
                                          float(lo), float(hi), chance))
    return records, missing


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def swept_params(records: list[Record]) -> list[str]:
    """Parameters whose value differs between runs, in the order they first appear."""
    values: dict[str, set] = defaultdict(set)
    for r in records:
        for key, value in r.params.items():
            values[key].add(json.dumps(value, sort_keys=True, default=str))
    return [k for k, v in values.items() if len(v) > 1]


def _order(conds) -> list[str]:
    conds = set(conds)
    return [c for c in CONDITION_ORDER if c in conds] + sorted(conds - set(CONDITION_ORDER))


def _color(cond: str, index: int) -> str:
    try:
        from minigen.eval.plot import condition_color
    except ImportError:  # the evaluation package is optional here
        return f"C{index}"
    return condition_color(cond, index)


def _panels(records: list[Record]) -> list[tuple[str, str]]:
    return list(dict.fromkeys((r.dataset, r.split) for r in records))


def _figure(n_panels: int):
    from matplotlib.figure import Figure  # no pyplot: no GUI backend

    cols = min(n_panels, 4)
    rows = math.ceil(n_panels / cols)
    fig = Figure(figsize=(3.3 * cols + 1.6, 2.9 * rows))
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return fig, axes


def _draw(records: list[Record], x_of, path: Path, xlabel: str, log_x: bool, ticks=None) -> Path:
    """Accuracy against x_of(record): a panel per (dataset, split), a line per condition (per condition
    and preset when an ablation spans several presets: the preset is the line style)."""
    panels = _panels(records)
    presets = list(dict.fromkeys(str(r.params["preset"]) for r in records if "preset" in r.params))
    lines = presets if xlabel != "parameters" and len(presets) > 1 else [None]
    conds = _order(r.condition for r in records)
    fig, axes = _figure(len(panels))
    handles = {}
    for ax, (dataset, split) in zip(axes, panels, strict=False):
        here = [r for r in records if r.dataset == dataset and r.split == split]
        for cond, preset in [(c, p) for c in conds for p in lines]:
            points = defaultdict(list)
            for r in here:
                same_line = r.condition == cond and preset in (None, str(r.params.get("preset")))
                if same_line and x_of(r) is not None:
                    points[x_of(r)].append(r)
            if not points:
                continue
            xs = sorted(points)
            ys, lo, hi = [], [], []
            for x in xs:
                group = points[x]
                mean = sum(r.acc for r in group) / len(group)
                ys.append(mean)
                low, high = (group[0].lo, group[0].hi) if len(group) == 1 else \
                    (min(r.acc for r in group), max(r.acc for r in group))
                lo.append(max(mean - low, 0.0))
                hi.append(max(high - mean, 0.0))
            label = cond if preset is None else f"{cond} ({preset})"
            style = STYLES[presets.index(preset) % len(STYLES)] if preset is not None else "-"
            handles[label] = ax.errorbar(xs, ys, yerr=[lo, hi], marker="o", capsize=3, linestyle=style,
                                         color=_color(cond, conds.index(cond)))
        chances = [r.chance for r in here if r.chance is not None]
        if chances:
            ax.axhline(sum(chances) / len(chances), color="black", linestyle=":", linewidth=1.2)
        if log_x:
            ax.set_xscale("log")
        if ticks is not None:
            ax.set_xticks(range(len(ticks)), ticks, rotation=30 if max(map(len, ticks)) > 6 else 0)
        ax.set_ylim(0, 1.02)
        ax.set_title(f"{dataset} / {split}".replace("_", " "), fontsize=10)
        ax.set_xlabel(xlabel)
        ax.spines[["top", "right"]].set_visible(False)
    axes[0].set_ylabel("accuracy")
    fig.legend(list(handles.values()), list(handles), loc="center right", frameon=False,
               title="black dotted: chance")
    fig.tight_layout(rect=(0, 0, 1 - 1.4 / fig.get_figwidth(), 1))
    fig.savefig(path, dpi=130)
    return path


def plot_scaling(records: list[Record], path: Path) -> Path | None:
    sized = [r for r in records if r.model_params]
    if len({r.model_params for r in sized}) < 2:
        return None
    return _draw(sized, lambda r: r.model_params, path, "parameters", log_x=True)


def _numeric(values: list) -> bool:
    try:
        [float(v) for v in values]
    except (TypeError, ValueError):
        return False
    return not any(isinstance(v, bool) for v in values)


def plot_ablation(records: list[Record], param: str, path: Path) -> Path:
    values = list(dict.fromkeys(r.params.get(param) for r in records if param in r.params))
    if _numeric(values):
        nums = [float(v) for v in values]
        log_x = min(nums) > 0 and max(nums) / min(nums) >= 10
        return _draw(records, lambda r: float(r.params[param]) if param in r.params else None, path, param,
                     log_x=log_x)
    labels = [str(v) for v in values]
    index = {json.dumps(v, sort_keys=True, default=str): k for k, v in enumerate(values)}
    x_of = lambda r: index.get(json.dumps(r.params.get(param), sort_keys=True, default=str)) \
        if param in r.params else None
    return _draw(records, x_of, path, param, log_x=False, ticks=labels)


def markdown_table(records: list[Record], swept: list[str]) -> str:
    """One row per run and test split; one column per condition: accuracy [95% CI]."""
    conds = _order(r.condition for r in records)
    rows: dict[tuple, dict] = {}
    for r in records:
        key = (r.run, r.dataset, r.split)
        row = rows.setdefault(key, {"record": r, "cells": {}})
        row["cells"][r.condition] = f"{r.acc:.3f} [{r.lo:.2f}, {r.hi:.2f}]"
    swept = [p for p in swept if p not in ("split", "conditions")]  # the rows and columns show these
    header = ["run", *swept, "params", "dataset / split", "chance", *conds]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for (run, dataset, split), row in rows.items():
        r = row["record"]
        size = f"{r.model_params / 1e6:.2f}M" if r.model_params else "?"
        chance = f"{r.chance:.2f}" if r.chance is not None else "?"
        cells = [run, *[str(r.params.get(p, "")) for p in swept], size, f"{dataset} / {split}", chance,
                 *[row["cells"].get(c, "") for c in conds]]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def run_report(sweep_dir: Path, wandb_mode: str = "offline") -> Path:
    """Write report.md and the figures into the sweep directory; returns report.md's path."""
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise UserError(f"{sweep_dir} is not a directory; pass a sweep directory made by `minigen sweep`")
    records, missing = load_records(sweep_dir)
    if not records:
        raise UserError(f"no results.json under {sweep_dir}; run `minigen sweep FILE --out {sweep_dir}` "
                        "first")
    swept = swept_params(records)
    figures = []
    scaling = plot_scaling(records, sweep_dir / "scaling.png")
    if scaling is not None:
        figures.append(("Scaling: accuracy vs model size", scaling))
    for param in swept:
        if param in FIXED or param in SIZE_KEYS:
            continue
        figures.append((f"Ablation: accuracy vs {param}",
                        plot_ablation(records, param, sweep_dir / f"ablation_{_safe(param)}.png")))
    name = _read_json(sweep_dir / "plan.json").get("name", sweep_dir.name)
    text = render_markdown(name, sweep_dir, records, missing, swept, figures)
    path = sweep_dir / "report.md"
    path.write_text(text)
    print(f"wrote {path} and {len(figures)} figure(s): {', '.join(str(f) for _, f in figures) or 'none'}")
    log_report(name, sweep_dir, records, figures, wandb_mode)
    return path


def render_markdown(name, sweep_dir, records, missing, swept, figures) -> str:
    runs = len({r.run for r in records})
    parts = [f"# Sweep report: {name}", "",
             f"{runs} run(s) with results; regenerate with `minigen report {sweep_dir}`. Accuracy is the "
             "mean over items and seeds with its 95% interval (clustered items, seeds); chance is the "
             "uniform-guess rate.",
             ""]
    if swept:
        parts += [f"Swept parameters: {', '.join(swept)}.", ""]
    for title, png in figures:
        parts += [f"## {title}", "", f"![{title}]({png.name})", ""]
    parts += ["## Results", "", markdown_table(records, swept), ""]
    if missing:
        parts += ["## Runs without results", ""]
        parts += [f"- {m['run']}: {m['status']}" + (f" ({m['error'][0]})" if m["error"] else "")
                  for m in missing]
        parts.append("")
    return "\n".join(parts)


def log_report(name: str, sweep_dir: Path, records: list[Record], figures, wandb_mode: str) -> None:
    """Log the figures and the table to W&B (offline by default) through minigen.tracking."""
    import os

    from minigen.tracking import NullLogger, make_logger

    os.environ.setdefault("WANDB_RUN_GROUP", name)
    logger = make_logger(wandb_mode, sweep_dir, {"sweep": name}, name=f"report-{name}")
    try:
        if isinstance(logger, NullLogger):
            return
        import wandb

        columns = ["run", "dataset", "split", "condition", "params", "acc", "ci_lo", "ci_hi", "chance"]
        table = wandb.Table(columns=columns, data=[[r.run, r.dataset, r.split, r.condition, r.model_params,
                                                    r.acc, r.lo, r.hi, r.chance] for r in records])
        logger.log({"report/table": table, **{f"report/{png.stem}": wandb.Image(str(png))
                                              for _, png in figures}}, step=0)
    finally:
        logger.finish()
