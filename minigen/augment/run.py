"""`minigen augment`: write a dataset's augmentations as JSONL, as they are generated, and report on them.

The fact datasets share one format (templates and the logic engine); a dataset with its own
(`FORMATS`: process) is told by its documents' ids, so `minigen compare`'s conditions need no name.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from minigen.augment import model_free, process
from minigen.augment.facts import TestAnswers, TrainingFacts
from minigen.augment.generate import AugmentConfig, augment, check_strategy
from minigen.augment.report import FACT_NOTES, Tally, annotate, format_report
from minigen.errors import UserError
from minigen.files import output_file

# After this many model samples without one statement that parses, the checkpoint is judged unable
# to write the format: stop (keeping what was written) rather than spend hours generating noise.
FORMAT_CHECK_SAMPLES = 64


class FormatError(UserError):
    """The checkpoint does not write the format (rewrite / inference; process lines) it is prompted for."""


@dataclass(frozen=True)
class Format:
    """How a kind of dataset is augmented and judged."""

    training: Callable  # documents -> what they state
    answers: Callable  # (test items, training) -> TestAnswers
    augment: Callable  # (strategy, documents, cfg, model, tokenizer, training) -> Iterator[Batch]
    annotate: Callable  # (record, training, answers) -> the record with the report's fields
    notes: dict  # the report's notes (report.FACT_NOTES)
    names: dict  # strategy -> the name of the format the model must write
    advice: str  # what to do when it does not


FACTS = Format(TrainingFacts.from_documents, TestAnswers.from_items, augment, annotate, FACT_NOTES,
               {"local": "rewrite", "global": "inference"},
               "use a checkpoint pretrained longer, with rewrite/inference documents")
FORMATS = {"process": Format(process.ProcessFacts.from_documents, process.answers_of, process.augment,
                             process.annotate, process.NOTES, process.FORMATS, process.ADVICE)}


def format_of(documents: list) -> Format:
    """The format of `documents`: their dataset's (their ids name it: "process-g00-rules"), or FACTS."""
    names = {d.id.split("-", 1)[0] for d in documents}
    return FORMATS.get(names.pop(), FACTS) if len(names) == 1 else FACTS


def write_augmentations(strategy: str, documents: list, items: list, cfg: AugmentConfig, out: Path,
                        model=None, tokenizer=None, stop_on_failure: bool = True,
                        progress: bool = False) -> dict:
    """Generate, annotate and append every record to `out` (flushed batch by batch); return the summary.

    With `stop_on_failure`, a model whose first FORMAT_CHECK_SAMPLES samples hold no parsable
    statement stops early; the summary then has "format_failure" set.
    """
    fmt = format_of(documents)
    training = fmt.training(documents)
    answers = fmt.answers(items, training)
    tally = Tally(answers)
    summary_extra = {}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    model_made = not model_free(strategy)
    new_tokens, start = 0, time.perf_counter()
    with open(out, "w") as f:
        for batch in fmt.augment(strategy, documents, cfg, model, tokenizer, training):
            new_tokens += batch.tokens
            for rec in batch.records:
                rec = fmt.annotate(rec, training, answers)
                tally.add(rec)
                f.write(json.dumps(rec) + "\n")
            f.flush()
            tally.samples += batch.samples
            tally.empty_samples += batch.empty
            if progress and model_made and tally.samples % (20 * cfg.batch_size) < batch.samples:
                print(f"  {tally.samples} samples, {tally.generated} statements ({tally.parsed} parse)",
                      file=sys.stderr, flush=True)
            if (stop_on_failure and model_made and tally.samples >= FORMAT_CHECK_SAMPLES
                    and tally.parsed == 0):
                summary_extra["format_failure"] = True
                break
    if model_made:  # generation speed: the whole pass (sampling, parsing, annotating, writing)
        seconds = time.perf_counter() - start
        summary_extra.update(new_tokens=new_tokens, seconds=round(seconds, 3),
                             tokens_per_s=round(new_tokens / seconds, 1) if seconds > 0 else None)
    return {"strategy": strategy, "n": cfg.n, "seed": cfg.seed, **tally.summary(), **summary_extra}


def report_path(out: Path) -> Path:
    return Path(out).with_name(Path(out).name + ".report.json")


def run_augment(split: str, strategy: str, ckpt: Path, out: Path, seed: int = 0,
                overrides: list[str] | None = None) -> dict:
    """The `minigen augment` command: see the module doc and report.py for what it writes.

    `overrides`: compare's `aug.X` (samples, temperature, top-k) and `dataset.X` (size, seed, words) options.
    """
    from minigen.eval.options import CompareOptions, apply_overrides

    check_strategy(strategy)
    output_file(Path(out))
    options = apply_overrides(CompareOptions(), overrides or [])
    n = options.aug.n
    cfg = AugmentConfig(n=n, seed=seed, temperature=options.aug.temperature, top_k=options.aug.top_k or None,
                        examples=options.aug.examples, global_prompt=options.aug.global_prompt)
    model = tokenizer = None
    run_cfg = None
    if model_free(strategy):
        if (Path(ckpt) / "config.json").is_file():  # the checkpoint's word pools, when there is one
            from minigen.checkpoint import read_config

            run_cfg = read_config(Path(ckpt))
    else:
        import torch

        from minigen.checkpoint import load_run

        device = "cuda" if torch.cuda.is_available() else "cpu"
        if device == "cpu":
            # A ~1M-parameter model's matrices are too small to split across threads; on a shared CPU
            # two spinning threads made sampling several times slower (as compare's eval.threads).
            torch.set_num_threads(1)
        model, tokenizer, run_cfg = load_run(Path(ckpt), device)
    lexicon_seed = run_cfg.data.lexicon_seed if run_cfg is not None else 0
    cfg.lexicon_seed = lexicon_seed

    from minigen.data.datasets import load_dataset

    dataset = load_dataset(split, seed=options.dataset.seed, lexicon_seed=lexicon_seed,
                           size=options.dataset.dataset_size(), words=options.dataset.words)
    summary = write_augmentations(strategy, dataset.train, dataset.test, cfg, Path(out), model, tokenizer,
                                  progress=True)
    summary.update(split=split, ckpt=None if model_free(strategy) else str(ckpt),
                   documents=len(dataset.train), sampling=dict(
                       n=cfg.n, temperature=cfg.temperature, top_k=cfg.top_k or 0, examples=cfg.examples,
                       global_prompt=cfg.global_prompt, seed=seed))
    report_path(out).write_text(json.dumps(summary, indent=2) + "\n")
    source = "the logic engine" if model_free(strategy) else f"checkpoint {ckpt}"
    fmt = format_of(dataset.train)
    print(format_report(summary, f"augment {split} / {strategy} (n={n}, seed={seed}, {source}): "
                                 f"{len(dataset.train)} training documents -> {out}", fmt.notes))
    if summary.get("format_failure"):
        raise FormatError(
            f"the checkpoint at {ckpt} cannot generate the {fmt.names[strategy]} format: none of the "
            f"{summary['generated']} statements of its first {summary['samples']} samples parses "
            f"(kept in {out}); {fmt.advice}")
    return summary
