"""Tokens-to-target and training-seconds-to-target per variant (optimizer, schedule, mixture, shape),
side by side, from the dev probes that pretraining logs (issue 19's token-efficiency levers).

    python experiments/tokens_to_target.py --run [--variants adamw,muon] [--seeds 0,1] [--steps N]
    python experiments/tokens_to_target.py                # the table of the runs already there

Each variant is one pretraining (`minigen pretrain --recipe R --set ...`) into ROOT/VARIANT-sSEED;
`--run` trains the missing ones (`--jobs` at a time, one torch thread each), then the table is read
from their metrics.jsonl. A target is reached at the first probe (every train.eval_every steps) where
all its probes are at or above it: the resolution is that interval, and "-" means never within the
run. Seconds are training time only (the logged tokens/s, probes and checkpoints left out); on a
shared machine they compare variants that ran together, not machines. All probes use `dev` words.
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import typer

# name -> (recipe, --set overrides). The base is roles2-all (every dataset's vocabulary); each variant
# changes one lever.
_MUON = ["train.optimizer=muon", "train.muon_lr_scale=10"]
VARIANTS: dict[str, tuple[str, list[str]]] = {
    "adamw": ("roles2-all", []),
    "adamw-wsd": ("roles2-all", ["train.schedule=wsd"]),
    "muon": ("roles2-all", _MUON),
    "muon-wsd": ("roles2-all", [*_MUON, "train.schedule=wsd"]),
    "interleaved": ("roles-all", []),
    "heads8": ("roles2-all", ["model.n_head=8"]),  # same width and depth: more, narrower heads
    "deep8": ("roles2-all", ["model.n_layer=8", "model.d_model=96", "model.n_head=4"]),  # ~equal FLOPs
    # the robustness candidates (each a recipe of its own: a stage sets what they change), and the
    # default's own recipe (roles2: comparisons only) as their baseline
    **{r: (r, []) for r in ("roles2", "roles2-allp", "roles2m-all", "roles2r-all", "roles2mr-all",
                            "roles2m-all-3k", "roles3m-all", "roles2m-lo", "roles3m-more",
                            "roles2m-long", "roles2m-skew", "roles2m-once", "roles2m-both",
                            "roles2m-frozen", "roles2r", "roles2mr", "roles2r-long", "roles2mr-long",
                            "roles2r-3k")},
    "roles2r-long-h8": ("roles2r-long", ["model.n_head=8"]),
    "roles2r-people-h8": ("roles2r-people", ["model.n_head=8"]),
    "roles2r-long-h8-wsd": ("roles2r-long", ["model.n_head=8", "train.schedule=wsd"]),
    "roles2r-long-lo-h8": ("roles2r-long-lo", ["model.n_head=8"]),
    # the default's recipe until 2026-12-05 and its candidate with every dataset's vocabulary (preset tiny)
    "roles2r-long-rw-h8": ("roles2r-long-rw", ["model.n_head=8"]),
    "roles2r-long-rwa-h8": ("roles2r-long-rwa", ["model.n_head=8"]),
}
# name -> {probe: at least}; all must hold at the same probe.
TARGETS: dict[str, dict[str, float]] = {
    "reversal .8": {"probe_reversal": 0.8, "probe_reversal_same": 0.8},
    "reversal .9": {"probe_reversal": 0.9, "probe_reversal_same": 0.9},
    "syllogism .7": {"probe_syllogism": 0.7},
    "people .8": {"probe_people": 0.8},
    "local rewrites .7": {"probe_gen_local_valid": 0.7},
}
SHOWN = ("heldout_loss", "probe_reversal", "probe_reversal_same", "probe_syllogism", "probe_syllogism_anti",
         "probe_people", "probe_semantic", "probe_gen_local_valid")


def reached(records: list[dict], target: dict[str, float]) -> dict | None:
    """The first probe record at which every probe of `target` is at or above its value."""
    for r in records:
        if all(k in r for k in target) and all(r[k] >= v for k, v in target.items()):
            return r
    return None


def train_seconds(records: list[dict]) -> dict[int, float]:
    """step -> training seconds up to it, from each logged interval's tokens / tokens_per_s."""
    out, total, last = {}, 0.0, (0, 0)
    for r in records:
        if r.get("tokens_per_s"):
            total += (r["tokens"] - last[1]) / r["tokens_per_s"]
            last = (r["step"], r["tokens"])
        out[r["step"]] = total
    return out


def pretrain(root: Path, name: str, seed: int, steps: int | None) -> Path:
    recipe, sets = VARIANTS[name]
    out = root / f"{name}-s{seed}"
    if (out / "model.safetensors").exists() and (out / "token_counts.json").exists():
        return out
    # the four-head tiny shape (tiny-roles2's) under every recipe, as when the variants were first run;
    # the -h8 variants set eight heads (the default preset `tiny`'s shape)
    argv = [sys.executable, "-m", "minigen", "pretrain", "--preset", "tiny-roles2", "--recipe", recipe,
            "--out", str(out),
            "--wandb", "disabled", "--set", f"train.seed={seed}", "--set", "train.num_threads=1"]
    argv += [a for s in sets for a in ("--set", s)] + (["--steps", str(steps)] if steps else [])
    if out.exists():
        argv.append("--resume")
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(root / f"{name}-s{seed}.log", "a") as log:
        subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT, check=True)
    return out


def table(runs: list[Path]) -> str:
    lines = ["| run | " + " | ".join(TARGETS) + " | " + " | ".join(s.removeprefix("probe_") for s in SHOWN)
             + " |", "|---" * (1 + len(TARGETS) + len(SHOWN)) + "|"]
    for run in runs:
        records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
        seconds = train_seconds(records)
        probes = [r for r in records if "heldout_loss" in r]
        if not probes:
            lines.append(f"| {run.name} | no probe yet (step {records[-1]['step'] if records else 0}) |")
            continue
        cells = []
        for target in TARGETS.values():
            r = reached(probes, target)
            cells.append("-" if r is None else f"{r['tokens'] / 1e6:.1f}M / {seconds[r['step']]:.0f} s")
        last = probes[-1]
        cells += [f"{last[k]:.3f}" if k == "heldout_loss" and k in last else
                  f"{last[k]:.2f}" if k in last else "" for k in SHOWN]
        lines.append(f"| {run.name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def curves(runs: list[Path], keys=("probe_reversal", "probe_reversal_same")) -> str:
    """Per run, the probes of `keys` at every probe step (a / b / ...)."""
    rows = {run.name: {r["step"]: r for r in map(json.loads, (run / "metrics.jsonl").read_text().splitlines())
                       if "heldout_loss" in r} for run in runs}
    steps = sorted({s for r in rows.values() for s in r})
    lines = ["| run | " + " | ".join(map(str, steps)) + " |", "|---" * (1 + len(steps)) + "|"]
    for name, by_step in rows.items():
        cells = [" / ".join(f"{by_step[s][k]:.2f}" for k in keys) if s in by_step else "" for s in steps]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(root: Path = Path("runs/tokens-to-target"), variants: str = ",".join(VARIANTS),
         seeds: str = "0", run: bool = False, jobs: int = 2, steps: int = typer.Option(None)):
    names = [v.strip() for v in variants.split(",") if v.strip()]
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        raise typer.BadParameter(f"unknown variant(s) {', '.join(unknown)}; "
                                 f"choose from {', '.join(VARIANTS)}")
    pairs = [(n, int(s)) for n in names for s in seeds.split(",")]
    if run:
        with ThreadPoolExecutor(jobs) as pool:
            list(pool.map(lambda p: pretrain(root, p[0], p[1], steps), pairs))
    runs = [root / f"{n}-s{s}" for n, s in pairs if (root / f"{n}-s{s}" / "metrics.jsonl").exists()]
    print("tokens / training seconds to each target (dev probes); the last probe's values\n")
    print(table(runs) if runs else f"no runs under {root} yet: add --run")
    if runs:
        print("\nreversal / same direction at each probe step\n")
        print(curves(runs))
    if runs and (runs[0] / "probe_baselines.json").exists():
        base = json.loads((runs[0] / "probe_baselines.json").read_text())
        print(f"\nbaselines on the probe items ({runs[0].name}): chance, then the strongest heuristic")
        for key, b in base.items():
            rest = {h: v for h, v in b.items() if h != "chance"}
            best = max(rest, key=rest.get) if rest else None
            print(f"  {key:<16} {b['chance']:.2f}" + (f"  {best} {rest[best]:.2f}" if best else ""))


if __name__ == "__main__":
    typer.run(main)
