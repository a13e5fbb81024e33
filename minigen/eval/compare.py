"""`minigen compare`: base / ICL / FT (and later augmented FT) on one dataset, or all of them.

For each dataset: build it over the checkpoint's evaluation-pool words, add same-direction questions
about the trained facts, run every condition for every seed, and report accuracy with a 95%
bootstrap interval over items and seeds per test split, beside the chance level. Writes
results.json, scores.jsonl (every item's option scores), compare.png, and logs them to W&B.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import torch

from minigen.errors import UserError
from minigen.eval.conditions import CONDITIONS, DETERMINISTIC, EvalSetup
from minigen.eval.options import CompareOptions, apply_overrides
from minigen.eval.scoring import NORMS
from minigen.eval.stats import bootstrap_accuracy
from minigen.eval.trained_facts import same_direction_items

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


def load_checkpoint(ckpt: Path, device: str):
    """(model, tokenizer, cfg) of a pretrained run; UserError when it is missing or inconsistent."""
    from minigen.model import load_run

    ckpt = Path(ckpt)
    if not (ckpt / "config.json").is_file() or not (ckpt / "model.safetensors").is_file():
        raise UserError(f"no checkpoint at {ckpt}; make one with `minigen pretrain --out {ckpt}` "
                        f"(or pass --ckpt RUN_DIR)")
    model, tokenizer, cfg = load_run(ckpt, device)
    meta = json.loads((ckpt / "config.json").read_text()).get("meta", {})
    if tokenizer.vocab_size != cfg.model.vocab_size:
        raise UserError(f"{ckpt / 'tokenizer.json'} has {tokenizer.vocab_size} tokens but the model was "
                        f"trained with {cfg.model.vocab_size}; restore the run's own tokenizer.json")
    expected = meta.get("tokenizer_sha256")
    if expected:
        import hashlib

        actual = hashlib.sha256((ckpt / "tokenizer.json").read_bytes()).hexdigest()
        if actual != expected:
            raise UserError(f"{ckpt / 'tokenizer.json'} is not the tokenizer the model was trained with "
                            f"(sha256 differs); restore the run's own tokenizer.json")
    return model, tokenizer, cfg


def load_eval_dataset(name: str, cfg, options: CompareOptions):
    from minigen.data.datasets import load_dataset

    return load_dataset(name, seed=options.data.seed, lexicon_seed=cfg.data.lexicon_seed,
                        size=options.data.dataset_size())


def summarize(items: list, runs: dict[int, list], chance: dict, n_boot: int) -> dict:
    """Per test split: accuracy (sum of log-probs) with CI, and the length-normalized accuracies."""
    splits = list(dict.fromkeys(item.split for item in items))
    seeds = sorted(runs)
    out = {}
    for split in splits:
        idx = [k for k, item in enumerate(items) if item.split == split]
        row = {}
        for norm in NORMS:
            correct = [[runs[s][k].correct(norm) for k in idx] for s in seeds]
            if norm == "sum":
                row.update(bootstrap_accuracy(correct, n_boot=n_boot).to_dict())
            else:
                row[f"acc_{norm}"] = sum(map(sum, correct)) / (len(seeds) * len(idx))
        row["chance"] = chance_of(split, items, idx, chance)
        out[split] = row
    return out


def chance_of(split: str, items: list, idx: list[int], chance: dict) -> float:
    if split in chance:
        return float(chance[split])
    return sum(1 / len(items[k].options) for k in idx) / len(idx)  # uniform guessing


def evaluate_dataset(name, model, tokenizer, cfg, conditions: dict, seeds, options, out_dir,
                     scores_file) -> dict:
    """Every condition (name -> function) on dataset `name`, for every seed; accuracies per test split."""
    dataset = load_eval_dataset(name, cfg, options)
    items = list(dataset.test)
    if options.eval.same_direction:
        items += same_direction_items(dataset)
    setup = EvalSetup(model=model, tokenizer=tokenizer, documents=list(dataset.train), items=items,
                      seq_len=cfg.model.seq_len, options=options, out_dir=out_dir / name,
                      lexicon_seed=cfg.data.lexicon_seed)
    result = {"n_train_docs": len(dataset.train), "n_items": len(items), "conditions": {}}
    splits = list(dict.fromkeys(item.split for item in items))
    for cond, run_condition in conditions.items():
        runs, infos = {}, {}
        for seed, res, wall_s in run_seeds(cond, run_condition, setup,
                                           range(1 if cond in DETERMINISTIC else seeds)):
            runs[seed], infos[seed] = res.scores, {**res.info, "wall_s": wall_s}
            for s in res.scores:
                scores_file.write(json.dumps({"dataset": name, "condition": cond, "seed": seed,
                                              **s.to_dict()}) + "\n")
            print(f"  {name} / {cond} / seed {seed}: {infos[seed]['wall_s']:.1f} s", flush=True)
        by_split = summarize(items, runs, dataset.chance, options.eval.bootstrap)
        result["conditions"][cond] = {"splits": by_split, "seeds": list(runs), "info": infos}
    result["test_splits"] = splits
    result["chance"] = {s: by_split[s]["chance"] for s in splits}
    return result


PARALLEL = ("ft",)  # conditions whose seeds may run in separate processes (each writes only its own files)
_WORKER: tuple | None = None  # (condition, setup) inherited by forked workers


def _timed(run_condition, setup: EvalSetup, seed: int):
    start = time.perf_counter()
    res = run_condition(setup, seed)
    return seed, res, time.perf_counter() - start


def _run_seed(seed: int, threads: int):
    cond, setup = _WORKER
    torch.set_num_threads(threads)
    return _timed(cond, setup, seed)


def run_seeds(cond: str, run_condition, setup: EvalSetup, seeds):
    """Yield (seed, ConditionResult, wall seconds) in seed order. On a CPU, `ft`'s seeds run in
    eval.workers forked processes (0: one per seed, up to two per core); each seed's result
    does not depend on where it ran (its own seed, the same thread count)."""
    global _WORKER
    seeds, opts = list(seeds), setup.options.eval
    threads = opts.threads or torch.get_num_threads()
    # Up to two per core: three seeds on two cores then take 1.5 finetuning times, not 2.
    workers = opts.workers or 2 * len(os.sched_getaffinity(0)) // threads
    workers = min(workers, len(seeds))
    on_cpu = next(setup.model.parameters()).device.type == "cpu"
    if workers < 2 or not on_cpu or cond not in PARALLEL:
        for seed in seeds:
            yield _timed(run_condition, setup, seed)
        return
    _WORKER = (run_condition, setup)
    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            yield from pool.map(_run_seed, seeds, [threads] * len(seeds))
    finally:
        _WORKER = None


def format_table(results: dict) -> str:
    """condition x test split: accuracy [95% CI]; chance and n in the header."""
    lines = []
    for name, ds in results["datasets"].items():
        splits = ds["test_splits"]
        cells = [[f"{name}"] + [f"{s} (chance {ds['chance'][s]:.2f})" for s in splits]]
        for cond, res in ds["conditions"].items():
            row = [cond]
            for s in splits:
                r = res["splits"][s]
                row.append(f"{r['acc']:.3f} [{r['ci'][0]:.2f}, {r['ci'][1]:.2f}] n={r['n']}x{r['seeds']}")
            cells.append(row)
        widths = [max(len(r[i]) for r in cells) for i in range(len(cells[0]))]
        for k, r in enumerate(cells):
            lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
            if k == 0:
                lines.append("  ".join("-" * w for w in widths))
        lines.extend(condition_notes(ds))
        lines.append("")
    return "\n".join(lines)


def condition_notes(ds: dict) -> list[str]:
    """One line per condition with what a reader needs to trust the numbers (means over seeds)."""
    notes = []
    for cond, res in ds["conditions"].items():
        infos = list(res["info"].values())

        def mean(key, infos=infos):
            return sum(i[key] for i in infos) / len(infos)

        if "contexts" in infos[0]:
            kind = "all training documents" if infos[0]["all_documents"] else "a sample (all do not fit)"
            notes.append(f"  {cond}: {kind}; {mean('contexts'):.0f} contexts per seed, "
                         f"{mean('context_tokens_mean'):.0f} tokens and {mean('docs_per_context_mean'):.1f} "
                         f"documents per context; {mean('items_truncated'):.0f} items lacked room for all "
                         f"their documents" + (f"; {mean('items_unbalanced'):.0f} had their answer in more "
                                               f"context documents than a distractor"
                                               if "items_unbalanced" in infos[0] else ""))
        if "balanced_items_acc" in infos[0]:
            splits = infos[0]["balanced_items_acc"]
            parts = [f"{k} {sum(i['balanced_items_acc'].get(k, 0) for i in infos) / len(infos):.3f} "
                     f"(n={sum(i['balanced_items_n'].get(k, 0) for i in infos) / len(infos):.0f})"
                     for k in splits]
            notes.append(f"  {cond} on the items whose context does not favour the answer: "
                         + ", ".join(parts))
        if "final_loss" in infos[0]:
            notes.append(f"  {cond}: {infos[0]['steps']} steps at lr {infos[0]['lr']:g} on "
                         f"{infos[0]['sequences']} sequences; loss {mean('first_loss'):.2f} -> "
                         f"{mean('final_loss'):.2f}; {mean('train_s'):.0f} s per seed")
    return notes


def run_compare(split: str, ckpt: Path, conditions: str = "base,icl,ft", seeds: int = 3,
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
    model, tokenizer, cfg = load_checkpoint(Path(ckpt), device)
    if options.icl.max_tokens > cfg.model.seq_len:
        raise UserError(f"icl.max_tokens={options.icl.max_tokens} exceeds the model's context length "
                        f"{cfg.model.seq_len}; use a value <= {cfg.model.seq_len} (0: all of it)")
    out = Path(out) if out is not None else Path(ckpt) / "compare" / split
    out.mkdir(parents=True, exist_ok=True)
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
        with open(out / "scores.jsonl", "w") as scores_file:
            chosen = {c: registry[c] for c in conds}
            for name in names:
                results["datasets"][name] = evaluate_dataset(
                    name, model, tokenizer, cfg, chosen, seeds, options, out, scores_file)
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


def flat_metrics(results: dict) -> dict:
    flat = {}
    for name, ds in results["datasets"].items():
        for cond, res in ds["conditions"].items():
            for split, r in res["splits"].items():
                key = f"{name}/{cond}/{split}"
                flat.update({f"{key}/acc": r["acc"], f"{key}/ci_lo": r["ci"][0], f"{key}/ci_hi": r["ci"][1]})
    return flat
