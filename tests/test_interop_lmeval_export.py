"""The lm-eval export without lm-eval installed: the task files, and the property that makes
lm-evaluation-harness score as `compare` does. lm-eval tokenizes `input + option` once (the exported
tokenizer puts <bos> first) and scores the tokens after those of `input` alone; for that to be
compare's split, [BOS] + encode(input) must be a prefix of [BOS] + encode(input + option) and equal
to what compare ran before the option: [BOS] + prompt tokens (base), or the context's tokens + prompt
tokens (ICL, with the contexts compare wrote to icl_contexts.jsonl)."""

import io
import json

import yaml

from minigen.checkpoint import load_run
from minigen.compare import condition_registry, evaluate_dataset
from minigen.data.datasets import load_dataset
from minigen.data.export import export_lm_eval
from minigen.eval.contexts import build_contexts
from minigen.eval.options import CompareOptions, apply_overrides
from minigen.eval.scoring import split_at_boundary
from minigen.eval.trained_facts import evaluation_items

SIZE = 6


def test_task_files(tmp_path):
    group, n = export_lm_eval("syllogism", tmp_path, size=SIZE)
    ds = load_dataset("syllogism", size=SIZE)
    assert group == "minigen_syllogism" and n == len(ds.test)
    spec = yaml.safe_load((tmp_path / "minigen_syllogism.yaml").read_text())
    assert spec["task"] == [f"minigen_syllogism_{s}" for s in ds.splits()]
    for split in ds.splits():
        task = yaml.safe_load((tmp_path / f"minigen_syllogism_{split}.yaml").read_text())
        assert task["target_delimiter"] == "" and task["output_type"] == "multiple_choice"
        rows = [json.loads(line) for line in open(task["dataset_kwargs"]["data_files"]["test"])]
        items = [t for t in ds.test if t.split == split]
        assert [r["id"] for r in rows] == [t.id for t in items]
        for row, item in zip(rows, items, strict=True):
            assert row["input"] == item.prompt and row["gold"] == item.accepted()
    again = tmp_path / "again"
    export_lm_eval("syllogism", again, size=SIZE)
    assert (again / "minigen_syllogism_syllogism.jsonl").read_bytes() == \
        (tmp_path / "minigen_syllogism_syllogism.jsonl").read_bytes()


def test_lm_eval_split_is_compares_split(run_dir, tmp_path):
    model, tokenizer, cfg = load_run(run_dir)
    options = apply_overrides(CompareOptions(), [f"dataset.size={SIZE}"])
    contexts = io.StringIO()
    conditions = {c: condition_registry()[c] for c in ("base", "icl")}
    evaluate_dataset("reversal", model, tokenizer, cfg, conditions, 1, options, tmp_path, io.StringIO(),
                     counts=None, contexts_file=contexts)
    (tmp_path / "icl_contexts.jsonl").write_text(contexts.getvalue())
    export_lm_eval("reversal", tmp_path / "base", size=SIZE)
    export_lm_eval("reversal", tmp_path / "icl", size=SIZE, contexts=tmp_path / "icl_contexts.jsonl")
    ds = load_dataset("reversal", size=SIZE)
    plan = build_contexts(list(ds.train), evaluation_items(ds), tokenizer, cfg.model.seq_len, 0)
    scored_after = {item.id: ctx.tokens for ctx in plan.contexts for item in ctx.items}
    bos = [tokenizer.bos_id]
    for variant in ("base", "icl"):
        rows = [json.loads(line) for path in sorted((tmp_path / variant).glob("*.jsonl"))
                for line in path.read_text().splitlines()]
        assert len(rows) == len(ds.test)
        for row in rows:
            item = next(t for t in ds.test if t.id == row["id"])
            before = bos if variant == "base" else scored_after[item.id]
            for option in item.options:
                p, c = split_at_boundary(tokenizer, item.prompt, option)
                whole = bos + tokenizer.encode(row["input"] + option)
                head = bos + tokenizer.encode(row["input"])
                assert whole[: len(head)] == head and head == before + p and whole[len(head):] == c


def test_exact_match_generation_splits_are_generate_until_tasks(tmp_path):
    """process's SPLIT-gen items: greedy to the first line break, exact match on the answer with spaces
    ignored; its multiple-choice splits stay multiple choice."""
    export_lm_eval("process", tmp_path, size=SIZE)
    ds = load_dataset("process", size=SIZE)
    for split in ds.splits():
        task = yaml.safe_load((tmp_path / f"minigen_process_{split}.yaml").read_text())
        rows = [json.loads(line) for line in open(task["dataset_kwargs"]["data_files"]["test"])]
        if not split.endswith("-gen"):
            assert task["output_type"] == "multiple_choice"
            continue
        assert task["output_type"] == "generate_until" and "doc_to_choice" not in task
        assert task["generation_kwargs"]["until"] == ["\n"] and not task["generation_kwargs"]["do_sample"]
        assert task["metric_list"][0]["metric"] == "exact_match"
        items = [t for t in ds.test if t.split == split]
        assert [r["target"] for r in rows] == [t.options[0] for t in items]
        assert all(task["generation_kwargs"]["max_gen_toks"] > len(r["target"]) for r in rows)
