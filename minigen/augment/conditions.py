"""The `aug-ft-*` conditions of `minigen compare` (and the sentence-splitting ablation), each a
function `(setup, seed) -> ConditionResult` like those in minigen.eval.conditions.CONDITIONS.

Each finetunes a copy of the pretrained model on the training documents plus augmentations, then
evaluates exactly like `ft` (it *is* `ft`, run on more documents). Augmentations are generated from
the setup's own model (the compared checkpoint) with the condition's seed, and cached per seed in
OUT_DIR/augment/ with a fingerprint of the model, the documents and the settings: a rerun of the
comparison reuses them, a different checkpoint regenerates them.

- aug-ft-local / aug-ft-global: the model's restatements / inferences; aug-ft-local+global: both (the
  same cached generations); aug-ft-oracle: the logic engine's restatements and inferences together (the
  upper bound); aug-ft-placebo: the oracle's statements with the evaluation words renamed (the same shape,
  no information: a control for what statements of that shape do by themselves);
- *-fixed: the same data, finetuned for as many tokens as plain `ft` sees (more data vs better data);
- ft-independent / ft-cumulative (and -fixed): training documents split into sentences.
On process the augmentations are its own lines "D(expression) = answer" (minigen/augment/process.py).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch

from minigen.augment import model_free
from minigen.augment.generate import AugmentConfig
from minigen.augment.report import read_records
from minigen.augment.run import write_augmentations
from minigen.augment.splitting import budget_steps, mean_length
from minigen.data.datasets import Document

STRATEGIES_OF = {"local": ("local",), "global": ("global",), "local+global": ("local", "global"),
                 "oracle": ("oracle-local", "oracle-global"), "placebo": ("placebo-local", "placebo-global")}
SUMMARY_KEYS = ("generated", "share_parsed", "share_valid", "share_new", "share_new_valid",
                "share_states_answer", "test_items_answered")


def fingerprint(setup, strategy: str, cfg: AugmentConfig) -> str:
    h = hashlib.sha256(json.dumps([strategy, dataclasses.asdict(cfg)], sort_keys=True).encode())
    for d in setup.documents:
        h.update(f"{d.id}\t{d.text}\n".encode())
    if not model_free(strategy):
        for name, p in sorted(setup.model.state_dict().items()):
            h.update(name.encode())
            h.update(p.detach().to("cpu", torch.float32).numpy().tobytes())
    return h.hexdigest()


def cached_augmentations(setup, strategy: str, seed: int) -> tuple[list[dict], dict]:
    """(records, summary) of `strategy` at `seed`: from OUT_DIR/augment/ when the fingerprint matches,
    else generated now (written to a temporary name, renamed when complete)."""
    aug = setup.options.aug
    # the engine's restatements are all there in one pass
    n = 1 if strategy in ("oracle-local", "placebo-local") else aug.n
    cfg = AugmentConfig(n=n, seed=seed, temperature=aug.temperature, top_k=aug.top_k or None,
                        examples=aug.examples, lexicon_seed=setup.lexicon_seed,
                        global_prompt=aug.global_prompt)
    key = fingerprint(setup, strategy, cfg)
    if setup.out_dir is None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "aug.jsonl"
            summary = _generate(setup, strategy, cfg, path)
            return read_records(path), summary
    path = Path(setup.out_dir) / "augment" / f"{strategy}-seed{seed}.jsonl"
    meta = path.with_name(path.name + ".meta.json")
    if path.exists() and meta.exists():
        saved = json.loads(meta.read_text())
        if saved.get("fingerprint") == key:
            return read_records(path), saved["summary"]
    partial = path.with_name(path.name + ".partial")
    summary = _generate(setup, strategy, cfg, partial)
    os.replace(partial, path)
    meta.write_text(json.dumps({"fingerprint": key, "summary": summary}, indent=2) + "\n")
    return read_records(path), summary


def _generate(setup, strategy: str, cfg: AugmentConfig, path: Path) -> dict:
    model = setup.model
    was_training = model.training
    model.eval()
    try:
        return write_augmentations(strategy, setup.documents, setup.items, cfg, path, model, setup.tokenizer,
                                   stop_on_failure=False)
    finally:
        model.train(was_training)


def augmentation_documents(records: list[dict], keep_question: bool = False) -> list[Document]:
    """One finetuning document per sample: its statements, one per line, in generation order. With
    `keep_question`, an answer to a question prompt keeps its question before it ("Question: ...?\nAnswer:
    STATEMENT", the corpus's format; finetuning's sentence splitting keeps the two lines together)."""
    groups: dict[tuple, list[str]] = {}
    for r in records:
        text = f"{r['question']}\nAnswer: {r['text']}" if keep_question and r.get("question") else r["text"]
        groups.setdefault((r["strategy"], r["source"], r["unit"], r["sample"]), []).append(text)
    return [Document(f"aug/{s}/{src}/{u}/{k}", "\n".join(texts)) for (s, src, u, k), texts in groups.items()]


def _plain_ft_steps(setup) -> tuple[list[list[int]], int]:
    from minigen.eval.conditions import training_sequences

    opts = setup.options.ft
    seqs = training_sequences(setup.documents, setup.tokenizer, opts.sentences)
    return seqs, opts.resolve_steps(len(seqs))


def finetune_on(setup, seed: int, documents: list, name: str, fixed_budget: bool, info: dict,
                sentences: str | None = None):
    """`ft` on `documents` (optionally with another sentence splitting); with a fixed budget, for as
    many tokens as plain `ft` (the setup's own options) sees."""
    from minigen.eval.conditions import ft, training_sequences

    options = setup.options
    if sentences is not None:
        options = dataclasses.replace(options, ft=dataclasses.replace(options.ft, sentences=sentences))
    if fixed_budget:
        reference, steps = _plain_ft_steps(setup)
        seqs = training_sequences(documents, setup.tokenizer, options.ft.sentences)
        ft_opts = dataclasses.replace(options.ft, steps=budget_steps(reference, steps, seqs))
        options = dataclasses.replace(options, ft=ft_opts)
        info["token_budget"] = round(steps * mean_length(reference) * options.ft.batch_size)
    out_dir = None if setup.out_dir is None else Path(setup.out_dir) / name
    result = ft(dataclasses.replace(setup, documents=documents, options=options, out_dir=out_dir), seed)
    result.info.update(info, training_documents=len(setup.documents), finetuning_documents=len(documents))
    return result


def aug_condition(kind: str, fixed_budget: bool = False) -> Callable:
    name = f"aug-ft-{kind}" + ("-fixed" if fixed_budget else "")

    def condition(setup, seed: int):
        records, info = [], {}
        for strategy in STRATEGIES_OF[kind]:
            recs, summary = cached_augmentations(setup, strategy, seed)
            records += recs
            info[f"augment_{strategy}"] = {k: summary[k] for k in SUMMARY_KEYS}
        docs = list(setup.documents) + augmentation_documents(records, setup.options.aug.keep_question)
        info["augmented_statements"] = len(records)
        return finetune_on(setup, seed, docs, name, fixed_budget, info)

    condition.__name__ = name.replace("-", "_").replace("+", "_and_")
    condition.__doc__ = f"Finetuning on the training documents plus {kind} augmentations" + (
        ", for as many tokens as plain ft." if fixed_budget else ".")
    if kind == "placebo":  # datasets a condition does not apply to, and why (compare skips them, saying so)
        condition.not_for = {"process": "the process dataset has no words to rename"}
    return condition


def split_condition(mode: str, fixed_budget: bool = False) -> Callable:
    name = f"ft-{mode}" + ("-fixed" if fixed_budget else "")

    def condition(setup, seed: int):
        return finetune_on(setup, seed, list(setup.documents), name, fixed_budget, {"split": mode},
                            sentences=mode)

    condition.__name__ = name.replace("-", "_")
    condition.__doc__ = f"Finetuning on the training documents split into sentences ({mode})" + (
        ", for as many tokens as plain ft." if fixed_budget else ".")
    return condition


AUG_CONDITIONS: dict[str, Callable] = {
    "aug-ft-local": aug_condition("local"),
    "aug-ft-global": aug_condition("global"),
    "aug-ft-local+global": aug_condition("local+global"),
    "aug-ft-oracle": aug_condition("oracle"),
    "aug-ft-placebo": aug_condition("placebo"),
    "aug-ft-local-fixed": aug_condition("local", fixed_budget=True),
    "aug-ft-global-fixed": aug_condition("global", fixed_budget=True),
    "aug-ft-local+global-fixed": aug_condition("local+global", fixed_budget=True),
    "aug-ft-oracle-fixed": aug_condition("oracle", fixed_budget=True),
    "ft-independent": split_condition("independent"),
    "ft-cumulative": split_condition("cumulative"),
    "ft-independent-fixed": split_condition("independent", fixed_budget=True),
    "ft-cumulative-fixed": split_condition("cumulative", fixed_budget=True),
}
