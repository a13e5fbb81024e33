"""`minigen sweep FILE.yaml`: run a W&B-schema sweep locally, resumably, in N worker processes.

The sweep directory (default `sweeps/NAME/`) holds `sweep.yaml` (the file as run), `plan.json` (every
run's id and parameters), `summary.json`, a shared pretraining cache `checkpoints/`, and one directory
per run, `runs/ID/`: `params.json`, `stdout.log`, `stderr.log`, `status.json`, and what the program
writes there (`minigen run` writes compare's results.json). A run's id is a function of its
parameters, so running the sweep again skips finished runs and retries failed or interrupted ones.

Each run is the sweep's command with the macros filled in, as `wandb agent` would run it, plus:
MINIGEN_RUN_DIR (where to write), MINIGEN_CKPT_CACHE, WANDB_RUN_GROUP (the sweep's name: every run
is logged to W&B in that group) and WANDB_MODE (offline by default; upload later with `wandb sync`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from minigen.errors import UserError
from minigen.experiment import AGENT_ENV
from minigen.files import atomic_write_text
from minigen.sweep_config import Sweep, build_command, expand, load_sweep, run_id, runs_minigen, varied

WANDB_MODES = ("online", "offline", "disabled")
_print_lock = threading.Lock()


def _say(text: str) -> None:
    with _print_lock:
        print(text, flush=True)


def plan_runs(sweep: Sweep, seed: int = 0) -> list[dict]:
    """[{id, params}] for every run of the sweep; `minigen run` parameters are checked here, before
    anything runs, so a typo in run 37 does not surface an hour into the sweep."""
    shown = varied(sweep)
    plan = [{"id": run_id(p, shown), "params": p} for p in expand(sweep, seed)]
    plan = list({run["id"]: run for run in plan}.values())  # a value listed twice runs once
    if runs_minigen(sweep.command):
        from minigen.experiment import check

        for run in plan:
            try:
                check(run["params"])
            except UserError as e:
                raise UserError(f"parameters ({run['id']}): {e}") from None
    return plan


def local_argv(argv: list[str]) -> list[str]:
    """Run `minigen` (and `python`) with this interpreter, so the runs use the same environment."""
    if argv and argv[0] == "/usr/bin/env":
        argv = argv[1:]
    if argv and os.path.basename(argv[0]) == "minigen":
        return [sys.executable, "-m", "minigen", *argv[1:]]
    if argv and argv[0] in ("python", "python3"):
        return [sys.executable, *argv[1:]]
    return argv


def read_status(run_dir: Path) -> dict:
    try:
        return json.loads((run_dir / "status.json").read_text())
    except (OSError, ValueError):
        return {}


def _write_json(path: Path, data) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, default=str) + "\n")


def metric_value(run_dir: Path, metric: dict | None) -> float | None:
    """The sweep's metric read from the run's results.json (compare's layout, or a flat mapping)."""
    if metric is None or not (run_dir / "results.json").exists():
        return None
    from minigen.eval.table import flat_metrics

    try:
        results = json.loads((run_dir / "results.json").read_text())
    except ValueError:
        return None
    flat = {**{k: v for k, v in results.items() if isinstance(v, (int, float))}, **flat_metrics(results)}
    value = flat.get(metric["name"])
    return float(value) if value is not None else None


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def launch_run(sweep: Sweep, run: dict, sweep_dir: Path, wandb_mode: str, label: str) -> dict:
    """Run one sweep run as a subprocess; record its status (a failure is recorded, not raised)."""
    run_dir = sweep_dir / "runs" / run["id"]
    run_dir.mkdir(parents=True, exist_ok=True)
    _write_json(run_dir / "params.json", run["params"])
    argv = local_argv(build_command(sweep, run["params"], sys.executable))
    env = {k: v for k, v in os.environ.items() if k not in AGENT_ENV}
    # A MINIGEN_CKPT_CACHE set by the user shares pretrainings across sweeps; else the sweep keeps its own.
    cache = os.environ.get("MINIGEN_CKPT_CACHE") or str(sweep_dir / "checkpoints")
    env.update(MINIGEN_RUN_DIR=str(run_dir), MINIGEN_CKPT_CACHE=cache,
               WANDB_RUN_GROUP=sweep.name, WANDB_MODE=wandb_mode, WANDB_PROJECT=sweep.project or "minigen")
    status = {"id": run["id"], "status": "running", "params": run["params"], "command": argv,
              "started": time.strftime("%Y-%m-%dT%H:%M:%S")}
    _write_json(run_dir / "status.json", status)
    _say(f"{label} {run['id']}: started")
    start = time.perf_counter()
    with open(run_dir / "stdout.log", "w") as out, open(run_dir / "stderr.log", "w") as err:
        try:
            code = subprocess.run(argv, env=env, stdout=out, stderr=err).returncode
        except OSError as e:  # the program does not exist
            err.write(f"{e}\n")
            code = 127
    status.update(status="done" if code == 0 else "failed", returncode=code,
                  wall_s=round(time.perf_counter() - start, 2))
    if code != 0:
        status["stderr_tail"] = _tail(run_dir / "stderr.log")
    status["metric"] = metric_value(run_dir, sweep.metric)
    _write_json(run_dir / "status.json", status)
    if code == 0:
        shown = "" if status["metric"] is None else f", {sweep.metric['name']} = {status['metric']:.4f}"
        _say(f"{label} {run['id']}: done in {status['wall_s']:.0f} s{shown}")
    else:
        last = status["stderr_tail"].splitlines()[-1:] or ["(no stderr)"]
        _say(f"{label} {run['id']}: FAILED (exit {code}) after {status['wall_s']:.0f} s: {last[0]}")
    return status


def run_sweep(file: Path, workers: int = 1, out: Path | None = None, seed: int = 0,
              wandb_mode: str = "offline", dry_run: bool = False) -> dict:
    """Run every run of the sweep that has not finished yet; returns the sweep's summary."""
    if workers < 1:
        raise UserError(f"--workers {workers}: need at least 1")
    if wandb_mode not in WANDB_MODES:
        raise UserError(f"--wandb {wandb_mode!r} is unknown; use online, offline or disabled")
    sweep = load_sweep(Path(file))
    plan = plan_runs(sweep, seed)
    sweep_dir = Path(out) if out is not None else Path("sweeps") / sweep.name
    if dry_run:
        for run in plan:
            _say(" ".join(local_argv(build_command(sweep, run["params"], sys.executable))))
        return {"name": sweep.name, "runs": plan}
    sweep_dir.mkdir(parents=True, exist_ok=True)
    (sweep_dir / "sweep.yaml").write_text(Path(file).read_text())
    _write_json(sweep_dir / "plan.json", {"name": sweep.name, "method": sweep.method, "seed": seed,
                                          "metric": sweep.metric, "runs": plan})
    todo = [r for r in plan if read_status(sweep_dir / "runs" / r["id"]).get("status") != "done"]
    _say(f"sweep {sweep.name}: {len(plan)} runs ({sweep.method}), {len(plan) - len(todo)} already done, "
         f"{len(todo)} to run with {workers} worker(s); directory {sweep_dir}")
    if sweep.raw.get("early_terminate"):
        _say("note: early_terminate needs the W&B server; every run goes to the end locally")
    labels = [f"[{k + 1}/{len(todo)}]" for k in range(len(todo))]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(lambda job: launch_run(sweep, job[0], sweep_dir, wandb_mode, job[1]),
                      zip(todo, labels, strict=True)))
    return write_summary(sweep, plan, sweep_dir)


def write_summary(sweep: Sweep, plan: list[dict], sweep_dir: Path) -> dict:
    runs = []
    for run in plan:
        status = read_status(sweep_dir / "runs" / run["id"])
        runs.append({"id": run["id"], "params": run["params"], "status": status.get("status", "pending"),
                     "wall_s": status.get("wall_s"), "metric": status.get("metric")})
    summary = {"name": sweep.name, "metric": sweep.metric, "runs": runs,
               "done": sum(r["status"] == "done" for r in runs),
               "failed": [r["id"] for r in runs if r["status"] == "failed"]}
    scored = [r for r in runs if r["metric"] is not None]
    if sweep.metric and scored:
        pick = max if sweep.metric["goal"] == "maximize" else min
        summary["best"] = pick(scored, key=lambda r: r["metric"])
    _write_json(sweep_dir / "summary.json", summary)
    _say(f"sweep {sweep.name}: {summary['done']}/{len(runs)} done, {len(summary['failed'])} failed"
         + (f"; best {summary['best']['id']} ({sweep.metric['name']} = {summary['best']['metric']:.4f})"
            if "best" in summary else ""))
    for rid in summary["failed"]:
        _say(f"  failed: {rid} (see {sweep_dir / 'runs' / rid / 'stderr.log'})")
    return summary
