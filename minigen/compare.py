"""`minigen compare`: base / ICL / FT / the format control (and augmented FT) on one dataset, or all.

For each dataset: build it over the checkpoint's evaluation words (`dataset.words`: test by default),
add same-direction questions about the trained facts, choose FT's learning rate on them
(`sweep_ft_lr`), run every condition for every seed, and report accuracy with a 95% interval over
clustered items and seeds per test split, beside chance, the heuristic rows and the vocabulary
coverage (`minigen.eval.protocol`, `stats`, `heuristics`, `coverage`). Writes results.json,
scores.jsonl (every item's option scores), icl_contexts.jsonl (the contexts of the in-context
conditions, per seed), compare.png, and logs them to W&B.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import torch

from minigen.checkpoint import load_run
from minigen.errors import UserError
from minigen.eval.conditions import CONDITIONS, CONTROLS, DETERMINISTIC, EvalSetup
from minigen.eval.coverage import load_counts
from minigen.eval.options import DEFAULT_CONDITIONS, CompareOptions, apply_overrides
from minigen.eval.protocol import (
    answer_margin,
    chance_of,
    heuristic_rows,
    item_clusters,
    mark_interpretable,
    summarize,
)
from minigen.eval.table import flat_metrics, format_table
from minigen.eval.trained_facts import TRAINED_SPLITS, evaluation_items
from minigen.files import output_dir

ALL = "all"


def dataset_names() -> tuple[str, ...]:
    from minigen.data.datasets import DATASETS

    return tuple(DATASETS)


def parse_split(split: str) -> list[str]:
    names = dataset_names()
    if split == ALL:
        return list(names)
    if split not in names:
        raise UserError(f"unknown split {split!r}; choose one of: {', '.join(names)}, {ALL}")
    return [split]


def condition_registry() -> dict:
    """CONDITIONS plus the augmentation issue's aug-ft-* (and sentence-splitting) conditions."""
    from minigen.augment.conditions import AUG_CONDITIONS

    return {**CONDITIONS, **AUG_CONDITIONS}


def parse_conditions(text: str) -> list[str]:
    registry = condition_registry()
    names = [c.strip() for c in text.split(",") if c.strip()]
    if not names:
        raise UserError(f"--conditions is empty; choose from: {', '.join(registry)}")
    for name in names:
        if name not in registry:
            raise UserError(f"unknown condition {name!r}; choose from: {', '.join(registry)}")
    return list(dict.fromkeys(names))


def load_eval_dataset(name: str, cfg, options: CompareOptions):
    from minigen.data.datasets import load_dataset

    return load_dataset(name, seed=options.dataset.seed, lexicon_seed=cfg.data.lexicon_seed,
                        size=options.dataset.dataset_size(), words=options.dataset.words)


def finetunes(cond: str) -> bool:
    """Conditions that finetune with the ft.* options (their learning rate comes from the sweep)."""
    return cond == "ft" or cond.startswith(("ft-", "aug-ft"))


def trained_split(splits: list[str]) -> str | None:
    """The split that asks the trained facts in the trained direction (what the FT lr is chosen on)."""
    return next((s for s in TRAINED_SPLITS if s in splits), None)


def with_lr(options: CompareOptions, lr: float) -> CompareOptions:
    return dataclasses.replace(options, ft=dataclasses.replace(options.ft, lr=lr))


def sweep_ft_lr(setup: EvalSetup, items: list, splits: list[str]) -> tuple[dict | None, dict]:
    """Plain `ft` at seed 0 for every ft.lr_sweep rate; the rate with the best trained-facts accuracy
    (never a generalization split), ties broken by the mean log-probability margin of the answer over
    the best distractor on the same items. Returns (sweep record, {lr: job result})."""
    from minigen.eval.conditions import ft

    lrs, split = setup.options.ft.sweep_rates(), trained_split(splits)
    if len(lrs) < 2 or split is None:
        return None, {}
    idx = [k for k, item in enumerate(items) if item.split == split]
    base_dir = None if setup.out_dir is None else setup.out_dir / "lr-sweep"
    setups = [dataclasses.replace(setup, options=with_lr(setup.options, lr),
                                  out_dir=None if base_dir is None else base_dir / f"{lr:g}") for lr in lrs]
    runs = dict(zip(lrs, run_jobs([(ft, s, 0) for s in setups], parallel=True), strict=True))
    acc = {lr: sum(runs[lr][1].scores[k].correct() for k in idx) / len(idx) for lr in lrs}
    margin = {lr: sum(answer_margin(runs[lr][1].scores[k]) for k in idx) / len(idx) for lr in lrs}
    best = max(lrs, key=lambda lr: (acc[lr], margin[lr]))
    print(f"  ft lr sweep on {split} (seed 0): " + ", ".join(
        f"{lr:g} {acc[lr]:.3f} (margin {margin[lr]:.2f})" for lr in lrs) + f" -> {best:g}", flush=True)
    return {"split": split, "seed": 0, "acc": {f"{lr:g}": acc[lr] for lr in lrs},
            "margin": {f"{lr:g}": margin[lr] for lr in lrs}, "lr": best}, runs


def evaluate_dataset(name, model, tokenizer, cfg, conditions: dict, seeds, options, out_dir,
                     scores_file, counts: dict | None = None, contexts_file=None) -> dict:
    """Every condition (name -> function) on dataset `name`, for every seed; accuracies per test split,
    the heuristic baselines on the same items and contexts, and the vocabulary coverage. The contexts
    of in-context conditions go to `contexts_file` (icl_contexts.jsonl: what `minigen data export
    --format lm-eval --icl-contexts` reads)."""
    from minigen.eval.contexts import context_text
    from minigen.eval.coverage import coverage, covers

    dataset = load_eval_dataset(name, cfg, options)
    items = evaluation_items(dataset, options.eval.same_direction)
    setup = EvalSetup(model=model, tokenizer=tokenizer, documents=list(dataset.train), items=items,
                      seq_len=cfg.model.seq_len, options=options, out_dir=out_dir / name,
                      lexicon_seed=cfg.data.lexicon_seed)
    splits = list(dict.fromkeys(item.split for item in items))
    result = {"n_train_docs": len(dataset.train), "n_items": len(items), "words": dataset.words,
              "conditions": {}}
    if counts is not None:
        result["coverage"] = cov = coverage(tokenizer, items, counts, dataset.train)
        print(f"  {name}: vocabulary coverage {cov['share']:.3f} of {cov['tokens']} prompt and option "
              f"tokens", flush=True)
        if not covers(cov) and options.eval.uncovered == "skip":
            result["not_scored"] = (f"vocabulary coverage {cov['share']:.2f} ({len(cov['unseen'])} prompt "
                                    f"and option tokens never in pretraining): every row would be n/i")
            print(f"  {name}: not scored, {result['not_scored']} (--set eval.uncovered=score scores it)",
                  flush=True)
            conditions = {}
    not_run = {c: f.not_for[name] for c, f in conditions.items() if name in getattr(f, "not_for", {})}
    if not_run:
        result["not_run"] = not_run
        for c, why in not_run.items():
            print(f"  {name}: {c} not run: {why}", flush=True)
        conditions = {c: f for c, f in conditions.items() if c not in not_run}
    sweep, swept = None, {}
    if any(finetunes(c) for c in conditions):
        sweep, swept = sweep_ft_lr(setup, items, splits)
        if sweep is not None:
            setup = dataclasses.replace(setup, options=with_lr(options, sweep["lr"]))
            result["ft_lr_sweep"] = sweep
    todo = {c: list(range(1 if c in DETERMINISTIC or c in CONTROLS else seeds)) for c in conditions}
    done: dict[tuple[str, int], tuple] = {}
    if sweep is not None and "ft" in conditions:  # the sweep already ran seed 0 at the chosen rate
        done["ft", 0] = swept[sweep["lr"]]
    # The runs of every PARALLEL condition go to one pool, so a short one fills a core a long one left.
    pooled = [(c, s) for c in conditions if c in PARALLEL for s in todo[c] if (c, s) not in done]
    done.update(zip(pooled, run_jobs([(conditions[c], setup, s) for c, s in pooled], parallel=True),
                    strict=True))
    contexts_by_seed: dict[int, list] = {}
    for cond, run_condition in conditions.items():
        runs, infos = {}, {}
        in_context = False
        for seed in todo[cond]:
            _, res, wall_s = done[cond, seed] if (cond, seed) in done else _timed(run_condition, setup, seed)
            runs[seed], infos[seed] = res.scores, {**res.info, "wall_s": wall_s}
            if res.contexts is not None:
                contexts_by_seed[seed], in_context = res.contexts, True
                for texts, ids in res.contexts if contexts_file is not None else ():
                    contexts_file.write(json.dumps({"dataset": name, "condition": cond, "seed": seed,
                                                    "context": context_text(texts), "items": ids}) + "\n")
            for s in res.scores:
                scores_file.write(json.dumps({"dataset": name, "condition": cond, "seed": seed,
                                              **s.to_dict()}) + "\n")
            print(f"  {name} / {cond} / seed {seed}: {infos[seed]['wall_s']:.1f} s", flush=True)
        clusters = item_clusters(items, list(contexts_by_seed.values()) if in_context else None)
        by_split = summarize(items, runs, dataset.chance, clusters)
        result["conditions"][cond] = {"splits": by_split, "seeds": list(runs), "info": infos}
    result["test_splits"] = splits
    result["chance"] = {s: chance_of(s, items, [k for k, i in enumerate(items) if i.split == s],
                                     dataset.chance) for s in splits}
    result["heuristics"] = heuristic_rows(items, dataset, contexts_by_seed)
    mark_interpretable(result)
    return result


# Conditions whose runs may go to separate processes (each writes its own files).
PARALLEL = ("ft", "ft-format")
_WORKER: list | None = None  # the (condition, setup) of each job, inherited by forked workers


def _timed(run_condition, setup: EvalSetup, seed: int):
    start = time.perf_counter()
    res = run_condition(setup, seed)
    return seed, res, time.perf_counter() - start


def _run_job(index: int, threads: int):
    run_condition, setup, seed = _WORKER[index]
    torch.set_num_threads(threads)
    return _timed(run_condition, setup, seed)


def run_jobs(jobs: list, parallel: bool = False):
    """Yield (seed, ConditionResult, wall seconds) for each (condition, setup, seed) job, in order. On a
    CPU, `parallel` jobs run in eval.workers forked processes (0: one per job, up to two per core); a
    job's result does not depend on where it ran (its own seed, the same thread count)."""
    global _WORKER
    if not jobs:
        return
    setup = jobs[0][1]
    threads = setup.options.eval.threads or torch.get_num_threads()
    # Up to two per core: three seeds on two cores then take 1.5 finetuning times, not 2.
    workers = setup.options.eval.workers or 2 * len(os.sched_getaffinity(0)) // threads
    workers = min(workers, len(jobs))
    on_cpu = next(setup.model.parameters()).device.type == "cpu"
    if workers < 2 or not on_cpu or not parallel:
        for run_condition, job_setup, seed in jobs:
            yield _timed(run_condition, job_setup, seed)
        return
    _WORKER = list(jobs)
    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            yield from pool.map(_run_job, range(len(jobs)), [threads] * len(jobs))
    finally:
        _WORKER = None


def run_compare(split: str, ckpt: Path, conditions: str = DEFAULT_CONDITIONS, seeds: int = 3,
                out: Path | None = None, overrides: list[str] | None = None,
                wandb_mode: str = "offline") -> dict:
    from minigen.eval.plot import plot_comparison
    from minigen.tracking import NullLogger, make_logger

    names = parse_split(split)
    registry = condition_registry()
    conds = parse_conditions(conditions)
    if seeds < 1:
        raise UserError(f"--seeds {seeds}: need at least 1 (3 or more for meaningful intervals)")
    options = apply_overrides(CompareOptions(), overrides or [])
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model, tokenizer, cfg = load_run(Path(ckpt), device)
    if options.icl.max_tokens > cfg.model.seq_len:
        raise UserError(f"icl.max_tokens={options.icl.max_tokens} exceeds the model's context length "
                        f"{cfg.model.seq_len}; use a value <= {cfg.model.seq_len} (0: all of it)")
    out = output_dir(Path(out) if out is not None else Path(ckpt) / "compare" / split)
    counts = load_counts(Path(ckpt), cfg, tokenizer)
    (out / "wandb_id.txt").unlink(missing_ok=True)  # each comparison is its own W&B run
    logger = make_logger(wandb_mode, out, {"split": split, "ckpt": str(ckpt), "conditions": conds,
                                           "seeds": seeds, **options.to_dict()}, name=f"compare-{split}")
    threads = torch.get_num_threads()
    if device == "cpu" and options.eval.threads > 0:
        torch.set_num_threads(options.eval.threads)
    start = time.perf_counter()
    results = {"split": split, "ckpt": str(ckpt), "seeds": seeds, "options": options.to_dict(),
               "model": {"params": sum(p.numel() for p in model.parameters()), "seq_len": cfg.model.seq_len},
               "datasets": {}}
    try:
        with open(out / "scores.jsonl", "w") as scores_file, \
                open(out / "icl_contexts.jsonl", "w") as ctx_file:
            chosen = {c: registry[c] for c in conds}
            for name in names:
                results["datasets"][name] = evaluate_dataset(
                    name, model, tokenizer, cfg, chosen, seeds, options, out, scores_file, counts, ctx_file)
        results["wall_s"] = time.perf_counter() - start
        (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
        png = plot_comparison(results, out / "compare.png")
        table = format_table(results)
        print(table)
        print(f"wrote {out / 'results.json'}, {png} ({results['wall_s']:.0f} s)")
        logger.summary(flat_metrics(results))
        if not isinstance(logger, NullLogger):
            import wandb

            columns = ["dataset", "condition", "split", "acc", "ci_lo", "ci_hi", "chance", "n", "seeds"]
            rows = [[name, cond, split, r["acc"], *r["ci"], r["chance"], r["n"], r["seeds"]]
                    for name, ds in results["datasets"].items() for cond, res in ds["conditions"].items()
                    for split, r in res["splits"].items()]
            logger.log({"compare/figure": wandb.Image(str(png)), "compare/table": wandb.Table(columns, rows),
                        **flat_metrics(results)}, step=0)
    finally:
        logger.finish()
        torch.set_num_threads(threads)
    return results
